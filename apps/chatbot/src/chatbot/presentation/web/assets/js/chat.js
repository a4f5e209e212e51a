// Clear the message field once htmx has sent it over the websocket. (Done here rather than
// in an hx-on attribute: the Content-Security-Policy allows no inline script.)
document.addEventListener("htmx:wsAfterSend", (event) => {
  if (event.target instanceof HTMLFormElement) {
    event.target.reset();
  }
});

// After a reconnect htmx reuses the page's original `since`, so the server may send again
// messages the page already shows; keep one element per message id.
document.addEventListener("htmx:oobAfterSwap", () => {
  const seen = new Set();
  for (const message of document.querySelectorAll("#chat-messages > .message")) {
    if (seen.has(message.id)) {
      message.remove();
    } else {
      seen.add(message.id);
    }
  }
});
