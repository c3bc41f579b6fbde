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

// A refused document: put the cursor on the line the error names.
document.addEventListener("DOMContentLoaded", () => {
  for (const area of document.querySelectorAll("textarea[data-error-line]")) {
    const line = Number(area.dataset.errorLine);
    if (!line) continue;
    const lines = area.value.split("\n");
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    area.focus();
    area.setSelectionRange(start, start + (lines[line - 1] || "").length);
  }
});
