"""Steps the browser tests take in the chatbot's pages."""

from playwright.sync_api import Page

REPLY_TIMEOUT_MS = 15_000


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
