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

// Time zone pickers: a filter box above the long <select>, and the browser's zone
// picked while nothing is chosen yet (data-guess-zone).
for (const select of document.querySelectorAll("select[data-zone-picker]")) {
  const guess = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if ("guessZone" in select.dataset && !select.value && guess) {
    const match = [...select.options].find((option) => option.value === guess);
    if (match) select.value = guess;
  }
  const filter = document.createElement("input");
  filter.type = "search";
  filter.id = `${select.id}_filter`;
  filter.className = "zone-filter";
  filter.placeholder = "Filter: city, region or UTC+05:30";
  filter.autocomplete = "off";
  filter.setAttribute("aria-label", "Filter zones");
  filter.setAttribute("aria-controls", select.id);
  const count = document.createElement("span");
  count.className = "muted small zone-filter-count";
  count.setAttribute("aria-live", "polite");
  select.before(filter, count);
  filter.addEventListener("input", () => {
    const words = filter.value.trim().toLowerCase().replaceAll("_", " ").split(/\s+/).filter(Boolean);
    let shown = 0;
    let first = null;
    for (const option of select.options) {
      const text = `${option.value.replaceAll("_", " ")} ${option.text}`.toLowerCase();
      const hit = option.value !== "" && words.every((word) => text.includes(word));
      option.hidden = words.length > 0 && !hit;
      if (!option.hidden && option.value) {
        shown += 1;
        first = first || option;
      }
    }
    for (const group of select.querySelectorAll("optgroup")) {
      group.hidden = [...group.children].every((option) => option.hidden);
    }
    // Typing narrows and chooses: the first match is selected unless the current
    // choice still matches, so "Kolk" then Tab is enough.
    const current = select.selectedOptions[0];
    if (first && (!current || current.hidden || !current.value)) select.value = first.value;
    count.textContent = words.length ? `${shown} match${shown === 1 ? "" : "es"}` : "";
  });
}

// After a refused full-page submit, put the cursor in the first field to fix.
const firstInvalid = document.querySelector("main [aria-invalid='true']");
if (firstInvalid) {
  firstInvalid.focus();
}

// Copy buttons (data-copy names the field): shown only where the clipboard works;
// without them the read-only field is there to select and copy by hand.
for (const button of document.querySelectorAll("button[data-copy]")) {
  const field = document.getElementById(button.dataset.copy);
  const status = document.getElementById(`${button.id}-status`);
  if (!field) continue;
  field.addEventListener("focus", () => field.select());
  if (!navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      if (status) status.textContent = "Copied to the clipboard.";
    } catch {
      field.select();
      if (status) status.textContent = "Copying was refused: press Ctrl+C (⌘C) to copy the selection.";
    }
  });
}
