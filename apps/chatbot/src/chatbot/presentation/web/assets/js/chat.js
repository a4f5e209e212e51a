// Clear the message field once htmx has sent it over the websocket. (Done here rather than
// in an hx-on attribute: the Content-Security-Policy allows no inline script.)
document.addEventListener("htmx:wsAfterSend", (event) => {
  if (event.target instanceof HTMLFormElement) {
    event.target.reset();
  }
});
