"""With OPENAI_API_KEY the chatbot answers through the OpenAI API, and survives its failures.

The API is a local OpenAI-compatible server; the chatbot runs embedded and the browser is
Chromium. A failing call is retried by the task queue while the user sees a notice.
"""

from collections.abc import Iterator

import pytest
from chatbot_browser import REPLY_TIMEOUT_MS, send, sign_in
from chatbot_processes import Deployment, embedded
from openai_compatible_server import FakeCompletionsServer, completions_server
from playwright.sync_api import BrowserContext, expect

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api() -> Iterator[FakeCompletionsServer]:
    with completions_server() as server:
        yield server


@pytest.fixture(scope="module")
def deployment(
    api: FakeCompletionsServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("openai")
    with embedded(
        tmp, OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=api.url, OPENAI_MODEL="gpt-test"
    ) as running:
        yield running


def test_reply_comes_from_the_api(
    deployment: Deployment, context: BrowserContext, api: FakeCompletionsServer
) -> None:
    """The model's answer appears in the page, and the API saw the user's message."""
    api.reply = "Bonjour from the model."
    page = context.new_page()
    sign_in(page, deployment.urls[0], "openai@example.com")
    send(page, "say hello in French")
    expect(page.locator(".message--received .message__bubble")).to_have_text(
        ["Bonjour from the model."], timeout=REPLY_TIMEOUT_MS
    )
    last = api.requests[-1]["body"]
    assert last["model"] == "gpt-test"
    assert last["messages"][-1] == {"role": "user", "content": "say hello in French"}


def test_failed_call_shows_a_notice_then_the_retried_reply(
    deployment: Deployment, context: BrowserContext, api: FakeCompletionsServer
) -> None:
    """A 500 from the API: the user is told, the queue retries, the reply arrives."""
    api.reply = "Sorry for the wait."
    api.fail_next = 1
    before = len(api.requests)
    page = context.new_page()
    sign_in(page, deployment.urls[0], "patient@example.com")
    send(page, "are you there?")
    expect(page.locator("#chat-status")).to_have_text(
        "The bot could not answer just now. Your message is saved; the bot retries a few times.",
        timeout=REPLY_TIMEOUT_MS,
    )
    expect(page.locator(".message--received .message__bubble")).to_have_text(
        ["Sorry for the wait."], timeout=REPLY_TIMEOUT_MS
    )
    expect(page.locator("#chat-status")).to_have_text("")
    assert len(api.requests) - before == 2, "one failed call, one retried call"
