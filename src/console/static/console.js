// LabStore console: progressive enhancement only. Every page works without this file; it
// adds confirmations before destructive forms. Served from the binary, under a CSP that
// allows no other script.
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.classList.contains("confirm")) {
    const question = form.dataset.confirm || "Are you sure?";
    if (!window.confirm(question)) {
      event.preventDefault();
    }
  }
});
