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

function flash(kind, text) {
  // The same markup as templates/partials/messages.html, built with textContent.
  const box = document.getElementById("messages");
  if (!box) return;
  const line = document.createElement("p");
  line.className = `message message-${kind}`;
  const label = document.createElement("span");
  label.className = "message-kind";
  label.textContent = kind === "error" ? "Problem:" : "Note:";
  line.append(label, ` ${text}`);
  box.replaceChildren(line);
}

document.addEventListener("htmx:beforeSwap", (event) => {
  // A session that expired answers an in-place update with the login page:
  // go there for real instead of pasting a login form into a table row.
  const xhr = event.detail.xhr;
  if (xhr && xhr.responseURL && new URL(xhr.responseURL).pathname === "/accounts/login/") {
    event.detail.shouldSwap = false;
    window.location.assign(xhr.responseURL);
  }
});

document.addEventListener("htmx:responseError", (event) => {
  const xhr = event.detail.xhr;
  const status = xhr.status;
  // A stale security token (logged in or out in another tab) is also a 403,
  // but "no right" would be wrong: the page just needs a reload.
  const staleToken = status === 403 && (xhr.responseText || "").includes('data-reason="csrf"');
  const reason = staleToken
    ? "this page is out of date (you logged in or out in another tab?); reload it and try again."
    : status === 403
      ? "you do not have the right to do that."
      : status === 404
        ? "that item no longer exists; reload the page."
        : "something went wrong on our side; reload the page and try again.";
  flash("error", `Nothing was changed: ${reason}`);
});

document.addEventListener("htmx:sendError", () => {
  flash("error", "Nothing was changed: the server could not be reached. Check your connection.");
});

// Sign-up: start the time zone box at the browser's zone instead of UTC.
for (const input of document.querySelectorAll("input[data-guess-zone]")) {
  const guess = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (guess && input.value === "UTC" && input.list && input.list.querySelector(`option[value="${CSS.escape(guess)}"]`)) {
    input.value = guess;
  }
}

// After a refused full-page submit, put the cursor in the first field to fix.
const firstInvalid = document.querySelector("main [aria-invalid='true']");
if (firstInvalid) {
  firstInvalid.focus();
}
