// Small progressive enhancements. Everything works without this file.
"use strict";

document.addEventListener("submit", (event) => {
  // Buttons with data-confirm ask first; without JavaScript the action just happens.
  const button = event.submitter;
  const question = button && button.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

document.addEventListener("htmx:afterSwap", () => {
  // After an in-place update, a fresh message is announced by the live region;
  // keep it in view on small screens where it may be far above.
  const messages = document.getElementById("messages");
  if (messages && messages.children.length && window.innerWidth < 640) {
    messages.scrollIntoView({ block: "nearest" });
  }
});
