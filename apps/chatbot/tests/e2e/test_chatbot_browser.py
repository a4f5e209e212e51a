"""The chatbot end to end in a real browser (Chromium through Playwright).

Each scenario runs against the embedded default (`chatbot run`: one process on SQLite) and
against PostgreSQL with two web processes and one worker process, where the browser's two
tabs talk to different web processes, so the bot's reply crosses processes through the
PostgreSQL task queue and pub/sub.
"""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from chatbot_processes import Deployment, embedded, on_postgres
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

pytestmark = pytest.mark.slow

REPLY_TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(params=["embedded", "postgres"])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployment]:
    if request.param == "embedded":
        with embedded(tmp_path) as running:
            yield running
    else:
        database_url = request.getfixturevalue("fresh_postgres_url")
        with on_postgres(tmp_path, database_url) as running:
            yield running


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    yield context
    context.close()


def sign_in(page: Page, url: str, email: str) -> None:
    page.goto(f"{url}/")
    page.fill("input[name=email]", email)
    page.click("button[type=submit]")
    page.wait_for_url("**/messages/")
    connected(page)


def connected(page: Page) -> None:
    """Wait until htmx has opened the page's websocket."""
    page.wait_for_function(
        "() => { const el = document.querySelector('[ws-connect]');"
        " return el && el['htmx-internal-data'] && el['htmx-internal-data'].webSocket"
        " && el['htmx-internal-data'].webSocket.socket.readyState === 1; }",
        timeout=REPLY_TIMEOUT_MS,
    )


def send(page: Page, text: str) -> None:
    page.fill("input[name=content]", text)
    page.press("input[name=content]", "Enter")


def bubbles(page: Page, kind: str) -> list[str]:
    return page.locator(f".message--{kind} .message__bubble").all_inner_texts()


def test_sign_in_sends_the_welcome_mail(deployment: Deployment, context: BrowserContext) -> None:
    """Signing in lands on the chat, and the welcome mail reaches the SMTP server."""
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    page = context.new_page()
    sign_in(page, deployment.urls[0], email)
    expect(page.locator(".chat__input")).to_be_visible()
    mail = deployment.mail.to(email)
    assert mail["Subject"] == "Welcome to the chatbot!"  # type: ignore[index]
    assert email in str(mail)


def test_reply_appears_live_and_history_survives_a_reload(
    deployment: Deployment, context: BrowserContext
) -> None:
    """The bot's reply arrives without a reload; after a reload the conversation is there."""
    page = context.new_page()
    sign_in(page, deployment.urls[0], "grace@example.com")
    send(page, "6 * 7")
    expect(page.locator(".message--received .message__bubble")).to_have_text(
        ["6 * 7 = 42"], timeout=REPLY_TIMEOUT_MS
    )
    expect(page.locator(".message--sent .message__bubble")).to_have_text(["6 * 7"])
    expect(page.locator(".chat__input")).to_have_value("")

    page.reload()
    connected(page)
    assert bubbles(page, "sent") == ["6 * 7"]
    assert bubbles(page, "received") == ["6 * 7 = 42"]
    send(page, "what did I say before?")
    expect(page.locator(".message--received .message__bubble").first).to_have_text(
        'Before this, you said: "6 * 7"', timeout=REPLY_TIMEOUT_MS
    )


def test_second_tab_of_the_same_user_receives_messages_live(
    deployment: Deployment, context: BrowserContext
) -> None:
    """Two tabs of one user (on different web processes where there are two) stay in sync."""
    first = context.new_page()
    sign_in(first, deployment.urls[0], "linus@example.com")
    second = context.new_page()
    second.goto(f"{deployment.urls[-1]}/messages/")
    connected(second)

    send(first, "hello")
    for page in (first, second):
        expect(page.locator(".message--sent .message__bubble")).to_have_text(
            ["hello"], timeout=REPLY_TIMEOUT_MS
        )
        expect(page.locator(".message--received .message__bubble")).to_have_text(
            ["Hello! Ask me something, or type 'help' to see what I can do."],
            timeout=REPLY_TIMEOUT_MS,
        )


def test_markup_in_a_message_is_shown_as_text(
    deployment: Deployment, context: BrowserContext
) -> None:
    """A `<script>` message is displayed literally and never runs, live or after reload."""
    page = context.new_page()
    sign_in(page, deployment.urls[0], "mallory@example.com")
    attack = "<script>window.pwned = true</script><b>bold</b>"
    send(page, attack)
    expect(page.locator(".message--sent .message__bubble")).to_have_text(
        [attack], timeout=REPLY_TIMEOUT_MS
    )
    page.reload()
    connected(page)
    expect(page.locator(".message--sent .message__bubble")).to_have_text([attack])
    assert page.evaluate("() => window.pwned") is None
    assert page.locator(".message__bubble b").count() == 0
