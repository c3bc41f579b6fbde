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

// Uploads (the objects page): each file one PUT when small, multipart when large, every part
// sent by XMLHttpRequest so that its progress can be shown. A failed part is tried again
// twice; after that the file's upload id and finished parts stay in this page and "Retry"
// continues from the first missing part. The CSRF token travels in `x-csrf-token`.
const SINGLE_MAX = 16 * 1024 * 1024;
const PART_SIZE = 8 * 1024 * 1024;
const PART_TRIES = 3;

function send(method, url, csrf, body, contentType, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("x-csrf-token", csrf);
    if (contentType) {
      xhr.setRequestHeader("Content-Type", contentType);
    }
    if (onProgress) {
      xhr.upload.onprogress = (e) => onProgress(e.loaded);
    }
    xhr.onload = () => {
      let answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch (_) { answer = { message: xhr.responseText }; }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(answer);
      } else {
        reject(new Error((answer.code ? answer.code + ": " : "") + (answer.message || xhr.status)));
      }
    };
    xhr.onerror = () => reject(new Error("the connection failed"));
    xhr.send(body);
  });
}

function form(fields) {
  const params = new URLSearchParams();
  for (const [name, value] of fields) {
    params.append(name, value);
  }
  return params;
}

class Upload {
  constructor(section, file, list) {
    this.bucket = section.dataset.bucket;
    this.key = (section.dataset.prefix || "") + file.name;
    this.csrf = section.dataset.csrf;
    this.file = file;
    this.uploadId = null;
    this.etags = [];
    const item = document.createElement("li");
    const label = document.createElement("label");
    label.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = file.size || 1;
    bar.value = 0;
    bar.id = "upload-" + list.children.length;
    label.htmlFor = bar.id;
    this.status = document.createElement("span");
    this.status.className = "upload-status";
    this.retry = document.createElement("button");
    this.retry.type = "button";
    this.retry.textContent = "Retry";
    this.retry.className = "secondary";
    this.retry.hidden = true;
    this.retry.addEventListener("click", () => this.run());
    item.append(label, bar, this.status, this.retry);
    list.append(item);
    this.bar = bar;
  }

  target(path, extra) {
    const q = new URLSearchParams({ bucket: this.bucket, key: this.key, ...extra });
    return path + "?" + q.toString();
  }

  async run() {
    this.retry.hidden = true;
    this.status.textContent = "Uploading…";
    try {
      if (this.file.size <= SINGLE_MAX) {
        await send("PUT", this.target("/upload/object", {}), this.csrf, this.file,
          this.file.type || "application/octet-stream", (n) => { this.bar.value = n; });
      } else {
        await this.multipart();
      }
      this.bar.value = this.bar.max;
      this.status.textContent = "Done";
      this.bar.dataset.done = "true";
    } catch (e) {
      this.status.textContent = "Failed: " + e.message;
      this.retry.hidden = false;
    }
  }

  async multipart() {
    if (!this.uploadId) {
      const created = await send("POST", "/upload/create", this.csrf,
        form([["bucket", this.bucket], ["key", this.key], ["type", this.file.type]]));
      this.uploadId = created.uploadId;
    }
    const count = Math.ceil(this.file.size / PART_SIZE);
    for (let n = 1; n <= count; n++) {
      if (this.etags[n - 1]) {
        continue;
      }
      const start = (n - 1) * PART_SIZE;
      const slice = this.file.slice(start, Math.min(start + PART_SIZE, this.file.size));
      let lastError = null;
      for (let attempt = 0; attempt < PART_TRIES; attempt++) {
        try {
          const done = await send("PUT",
            this.target("/upload/part", { uploadId: this.uploadId, partNumber: String(n) }),
            this.csrf, slice, null, (loaded) => { this.bar.value = start + loaded; });
          this.etags[n - 1] = done.etag;
          lastError = null;
          break;
        } catch (e) {
          lastError = e;
        }
      }
      if (lastError) {
        throw new Error("part " + n + " of " + count + ": " + lastError.message);
      }
    }
    const fields = [["bucket", this.bucket], ["key", this.key], ["uploadId", this.uploadId]];
    for (const etag of this.etags) {
      fields.push(["etag", etag]);
    }
    await send("POST", "/upload/complete", this.csrf, form(fields));
  }
}

document.addEventListener("submit", (event) => {
  const uploader = event.target;
  if (!(uploader instanceof HTMLFormElement) || !uploader.classList.contains("uploader")) {
    return;
  }
  event.preventDefault();
  const section = uploader.closest(".upload");
  const list = section.querySelector(".uploads");
  const input = uploader.querySelector("input[type=file]");
  const uploads = Array.from(input.files).map((file) => new Upload(section, file, list));
  (async () => {
    for (const upload of uploads) {
      await upload.run();
    }
    const refresh = section.querySelector(".refresh");
    if (refresh) {
      refresh.hidden = false;
    }
  })();
});
