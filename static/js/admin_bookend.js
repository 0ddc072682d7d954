// The staff dashboard's search-as-you-type pickers (the admin's select2): select2
// gives the box that shows the choice a textbox role but no name, so a screen
// reader announces an unnamed field. Name it after the field's own label. A
// jQuery ready handler registered after the admin's (autocomplete.js) runs after
// it has built the pickers; jQuery runs them later than the window's load event.
window.django.jQuery(() => {
  for (const select of document.querySelectorAll("select.admin-autocomplete")) {
    const label = document.querySelector(`label[for="${CSS.escape(select.id)}"]`);
    const shown = document.getElementById(`select2-${select.id}-container`);
    if (label && shown) shown.setAttribute("aria-label", label.textContent.replace(/:\s*$/, "").trim());
  }
});
