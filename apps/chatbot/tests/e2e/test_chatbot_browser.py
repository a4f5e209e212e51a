"""The chatbot end to end in a real browser (Chromium through Playwright).

Each scenario runs against the embedded default (`chatbot run`: one process on SQLite) and
against PostgreSQL with two web processes and one worker process, where the browser's two
tabs talk to different web processes, so the bot's reply crosses processes through the
PostgreSQL task queue and pub/sub.
"""

import uuid
from collections.abc import Iterator

import pytest
from chatbot_browser import REPLY_TIMEOUT_MS, bubbles, connected, send, sign_in
from chatbot_processes import Deployment, embedded, on_postgres
from playwright.sync_api import BrowserContext, expect

pytestmark = pytest.mark.slow


@pytest.fixture(
    scope="module", params=["embedded", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """One running deployment per mode, shared by the scenarios (each signs in anew)."""
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "embedded":
        with embedded(tmp) as running:
            yield running
    else:
        database_url = request.getfixturevalue("fresh_postgres_url")
        with on_postgres(tmp, database_url) as running:
            yield running


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


def test_reconnected_websocket_shows_each_message_once(
    deployment: Deployment, context: BrowserContext
) -> None:
    """After the socket drops and htmx reconnects, nothing is lost and nothing doubled."""
    page = context.new_page()
    sign_in(page, deployment.urls[0], "hedy@example.com")
    send(page, "2 + 2")
    expect(page.locator(".message--received .message__bubble")).to_have_text(
        ["2 + 2 = 4"], timeout=REPLY_TIMEOUT_MS
    )
    # Drop the connection and reconnect the way htmx does after an abnormal closure (1006,
    # which a page cannot send itself): `init()` opens a new socket to the same URL.
    page.evaluate(
        "() => new Promise(done => { const ws = document.querySelector('[ws-connect]')"
        "['htmx-internal-data'].webSocket; window.droppedSocket = ws.socket;"
        " ws.socket.addEventListener('close', () => { ws.init(); done(); });"
        " ws.socket.close(1000); })"
    )
    page.wait_for_function(
        "() => { const ws = document.querySelector('[ws-connect]')['htmx-internal-data']"
        ".webSocket; return ws.socket !== window.droppedSocket && ws.socket.readyState === 1; }",
        timeout=REPLY_TIMEOUT_MS,
    )
    send(page, "3 + 3")
    expect(page.locator(".message--received .message__bubble")).to_have_text(
        ["3 + 3 = 6", "2 + 2 = 4"], timeout=REPLY_TIMEOUT_MS
    )
    expect(page.locator(".message--sent .message__bubble")).to_have_text(["3 + 3", "2 + 2"])
