/*
 * Stemcrate uploads: enhances every form[data-uploader] (templates/library/_uploader.html).
 *
 * Without this script the form posts its files to the upload view. With it, each file is sent on its own to the
 * API (POST /api/tracks/, multipart field "file") with its own progress bar, two at a time, and gets its own
 * result: uploaded, already in the library (a duplicate), or refused with the server's reason.
 *
 * On the form:
 *   data-api-url         where files go
 *   data-track-url       a track URL with the zero UUID, replaced by each new track's id
 *   data-max-mb          the size limit, checked here too so a huge file is not sent only to be refused
 *   data-refresh-results refresh #results through htmx when a batch is done (the Library page)
 *   data-done-url        show "Go to library" when a batch is done (the Upload page)
 *
 * Files dropped anywhere on the page go to the page's first uploader, instead of the browser opening them.
 *
 * An uploaded file is analysed next: its row says "analysing" until the analysis ends, then "analysed" (or why the
 * analysis failed). On the Library page it reads the track's own row, which polls its status; elsewhere it asks
 * the API (GET data-api-url + id) every few seconds.
 */
import { matching } from "./lib/dom.js";
import { plural } from "./lib/format.js";

var PARALLEL = 2;
var ZERO_UUID = "00000000-0000-0000-0000-000000000000";
var ANALYSIS_POLL_MS = 3000;
var ANALYSIS_POLL_LIMIT = 200; // ten minutes: a longer analysis is followed on the track's page
var PROCESSING = ["pending", "analysing"];

function csrfToken(form) {
  var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) {
    return decodeURIComponent(match[1]);
  }
  try {
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    if (headers["X-CSRFToken"]) {
      return headers["X-CSRFToken"];
    }
  } catch (error) {
    /* fall through to the form's own token */
  }
  var input = form.querySelector("input[name='csrfmiddlewaretoken']");
  return input ? input.value : "";
}

function formatSize(bytes) {
  if (bytes >= 1e9) {
    return (bytes / 1e9).toFixed(2) + " GB";
  }
  if (bytes >= 1e6) {
    return (bytes / 1e6).toFixed(1) + " MB";
  }
  return Math.max(1, Math.round(bytes / 1e3)) + " KB";
}

function hasFiles(event) {
  var types = event.dataTransfer && event.dataTransfer.types;
  return !!types && Array.prototype.indexOf.call(types, "Files") !== -1;
}

/* The reason in an error answer: DRF's {"detail": …} or a field error list, else something readable. */
function reasonFrom(xhr, body) {
  if (body && typeof body === "object") {
    if (typeof body.detail === "string" && body.detail) {
      return body.detail;
    }
    for (var key in body) {
      if (Object.prototype.hasOwnProperty.call(body, key)) {
        var value = body[key];
        if (Array.isArray(value) && value.length) {
          return String(value[0]);
        }
        if (typeof value === "string" && value) {
          return value;
        }
      }
    }
  }
  if (xhr.status === 413) {
    return "The file is larger than the upload limit.";
  }
  if (xhr.status === 401 || xhr.status === 403) {
    return "Your session has ended. Sign in again, then retry.";
  }
  if (xhr.status >= 500) {
    return "The server could not store this file (HTTP " + xhr.status + "). Try again in a moment.";
  }
  return "The upload failed (HTTP " + xhr.status + ").";
}

function Uploader(form) {
  this.form = form;
  this.input = form.querySelector("[data-upload-input]");
  this.zone = form.querySelector("[data-dropzone]");
  this.list = form.querySelector("[data-upload-list]");
  this.template = form.querySelector("template[data-upload-item-template]");
  this.summary = form.querySelector("[data-upload-summary]");
  this.summaryText = form.querySelector("[data-upload-summary-text]");
  this.doneLink = form.querySelector("[data-upload-done]");
  this.clearButton = form.querySelector("[data-upload-clear]");
  this.apiUrl = form.getAttribute("data-api-url");
  this.trackUrl = form.getAttribute("data-track-url");
  this.maxBytes = (parseFloat(form.getAttribute("data-max-mb")) || 0) * 1e6;
  this.queue = [];
  this.items = [];
  this.active = 0;
  this.batch = null;
  this.dragDepth = 0;
  this.bind();
  form.classList.add("is-enhanced");
}

Uploader.prototype.bind = function () {
  var self = this;
  this.input.addEventListener("change", function () {
    self.addFiles(self.input.files);
    self.input.value = "";
  });
  this.form.addEventListener("submit", function (event) {
    event.preventDefault();
    self.addFiles(self.input.files);
    self.input.value = "";
  });
  this.zone.addEventListener("dragenter", function (event) {
    if (hasFiles(event)) {
      self.dragDepth += 1;
      self.zone.classList.add("is-over");
    }
  });
  this.zone.addEventListener("dragleave", function () {
    self.dragDepth = Math.max(0, self.dragDepth - 1);
    if (!self.dragDepth) {
      self.zone.classList.remove("is-over");
    }
  });
  this.zone.addEventListener("drop", function () {
    self.dragDepth = 0;
    self.zone.classList.remove("is-over");
  });
  if (this.clearButton) {
    this.clearButton.addEventListener("click", function () {
      self.clearFinished();
    });
  }
};

Uploader.prototype.addFiles = function (fileList) {
  var files = Array.prototype.slice.call(fileList || []);
  if (!files.length) {
    return;
  }
  // Results of an earlier non-JS post (or an earlier batch) give way to the new batch's rows.
  if (!this.active && !this.queue.length) {
    this.clearFinished();
    this.batch = { total: 0, ok: 0, duplicate: 0, error: 0 };
  }
  this.adding = true;
  for (var i = 0; i < files.length; i++) {
    var item = this.createItem(files[i]);
    this.batch.total += 1;
    if (this.maxBytes && files[i].size > this.maxBytes) {
      this.finish(item, "error", "This file is " + formatSize(files[i].size) + ": the limit is " +
        formatSize(this.maxBytes) + " per file.");
      continue;
    }
    this.queue.push(item);
  }
  this.adding = false;
  this.updateSummary();
  this.pump();
  if (!this.busy()) {
    this.batchDone(); // every file was refused before sending
  }
};

Uploader.prototype.createItem = function (file) {
  var node = this.template.content.firstElementChild.cloneNode(true);
  var item = {
    file: file,
    node: node,
    xhr: null,
    done: false,
    state: node.querySelector("[data-state]"),
    progress: node.querySelector("[data-progress]"),
    bar: node.querySelector("[data-progress-bar]"),
    message: node.querySelector("[data-message]"),
    cancel: node.querySelector("[data-cancel]"),
  };
  node.querySelector("[data-name]").textContent = file.name;
  node.querySelector("[data-name]").title = file.name;
  node.querySelector("[data-size]").textContent = formatSize(file.size);
  item.progress.setAttribute("aria-label", "Upload of " + file.name);
  item.cancel.setAttribute("aria-label", "Cancel the upload of " + file.name);
  var self = this;
  item.cancel.addEventListener("click", function () {
    self.cancel(item);
  });
  this.list.appendChild(node);
  this.items.push(item);
  return item;
};

Uploader.prototype.setProgress = function (item, fraction) {
  var percent = Math.max(0, Math.min(100, Math.round(fraction * 100)));
  // A width from script (CSSOM) is allowed by the CSP; a style="" attribute would not be.
  item.bar.style.width = percent + "%";
  item.progress.setAttribute("aria-valuenow", String(percent));
  return percent;
};

Uploader.prototype.pump = function () {
  while (this.active < PARALLEL && this.queue.length) {
    this.send(this.queue.shift());
  }
};

Uploader.prototype.send = function (item) {
  var self = this;
  var xhr = new XMLHttpRequest();
  var data = new FormData();
  data.append("file", item.file, item.file.name);
  item.xhr = xhr;
  this.active += 1;
  item.node.classList.remove("is-queued");
  item.node.classList.add("is-uploading");
  item.state.textContent = "0%";

  xhr.open("POST", this.apiUrl, true);
  xhr.withCredentials = true;
  xhr.setRequestHeader("X-CSRFToken", csrfToken(this.form));
  xhr.setRequestHeader("Accept", "application/json");
  xhr.upload.addEventListener("progress", function (event) {
    if (event.lengthComputable && event.total) {
      item.state.textContent = self.setProgress(item, event.loaded / event.total) + "%";
    }
  });
  xhr.upload.addEventListener("load", function () {
    // Every byte is sent; the server now decodes the file to check it before storing it.
    self.setProgress(item, 1);
    item.node.classList.add("is-checking");
    item.state.textContent = "Checking…";
  });
  xhr.addEventListener("load", function () {
    var body = null;
    try {
      body = JSON.parse(xhr.responseText);
    } catch (error) {
      body = null;
    }
    if (xhr.status === 201 && body) {
      var analysing = PROCESSING.indexOf(body.status) !== -1;
      self.finish(item, "done", analysing ? "Uploaded — analysing." : "Uploaded.",
        body.id ? self.trackUrl.replace(ZERO_UUID, body.id) : null, "Open track");
      if (analysing && body.id) {
        self.followAnalysis(item, body.id);
      }
    } else if (xhr.status === 200 && body && body.duplicate) {
      self.finish(item, "duplicate", body.detail || "You already have this file.",
        body.id ? self.trackUrl.replace(ZERO_UUID, body.id) : null, "Open it");
    } else if (xhr.status >= 200 && xhr.status < 300 && body) {
      self.finish(item, "done", body.detail || "Uploaded.", body.id ? self.trackUrl.replace(ZERO_UUID, body.id) : null,
        "Open track");
    } else {
      self.finish(item, "error", reasonFrom(xhr, body));
    }
  });
  xhr.addEventListener("error", function () {
    self.finish(item, "error", "The connection failed before the upload finished. Check your network and try again.");
  });
  xhr.addEventListener("abort", function () {
    self.finish(item, "error", "Cancelled.");
  });
  xhr.send(data);
};

Uploader.prototype.cancel = function (item) {
  if (item.done) {
    return;
  }
  if (item.xhr) {
    item.xhr.abort();
    return;
  }
  var index = this.queue.indexOf(item);
  if (index !== -1) {
    this.queue.splice(index, 1);
  }
  this.finish(item, "error", "Cancelled.");
};

Uploader.prototype.finish = function (item, outcome, text, href, linkLabel) {
  if (item.done) {
    return;
  }
  item.done = true;
  if (item.xhr) {
    item.xhr = null;
    this.active -= 1;
  }
  item.node.classList.remove("is-queued", "is-uploading", "is-checking");
  item.node.classList.add("is-" + outcome);
  item.state.textContent = outcome === "done" ? "Uploaded" : outcome === "duplicate" ? "Already here" : "Not uploaded";
  item.message.textContent = text + " ";
  if (href) {
    var link = document.createElement("a");
    link.href = href;
    link.textContent = linkLabel;
    item.message.appendChild(link);
  }
  item.message.hidden = false;
  item.cancel.hidden = true;
  this.batch[outcome === "done" ? "ok" : outcome] += 1;
  this.updateSummary();
  this.pump();
  if (!this.adding && !this.busy()) {
    this.batchDone();
  }
};

/* ------------------------------------------------------------ analysis */
Uploader.prototype.followAnalysis = function (item, trackId) {
  item.trackId = trackId;
  item.polls = 0;
  item.node.setAttribute("data-upload-track", trackId);
  item.node.classList.add("is-analysing");
  this.scheduleAnalysisCheck(item);
};

Uploader.prototype.scheduleAnalysisCheck = function (item) {
  var self = this;
  window.clearTimeout(item.analysisTimer);
  if (!item.node.isConnected || !item.node.classList.contains("is-analysing") || item.polls >= ANALYSIS_POLL_LIMIT) {
    return;
  }
  item.analysisTimer = window.setTimeout(function () {
    item.polls += 1;
    self.checkAnalysis(item);
  }, ANALYSIS_POLL_MS);
};

/* The track's row on this page (the Library), which polls its own status; else the API. */
Uploader.prototype.checkAnalysis = function (item) {
  var self = this;
  var row = document.getElementById("track-" + item.trackId);
  if (row) {
    this.analysisFromRow(item, row);
    this.scheduleAnalysisCheck(item);
    return;
  }
  var xhr = new XMLHttpRequest();
  xhr.open("GET", this.apiUrl + item.trackId + "/", true);
  xhr.withCredentials = true;
  xhr.setRequestHeader("Accept", "application/json");
  xhr.addEventListener("loadend", function () {
    var body = null;
    try {
      body = JSON.parse(xhr.responseText);
    } catch (error) {
      body = null;
    }
    if (xhr.status === 200 && body && body.status) {
      self.analysisEnded(item, body.status, body.error);
    } else if (xhr.status === 404) {
      self.analysisEnded(item, "gone");
    }
    self.scheduleAnalysisCheck(item);
  });
  xhr.send();
};

Uploader.prototype.analysisFromRow = function (item, row) {
  if (row.classList.contains("is-ready")) {
    this.analysisEnded(item, "ready");
  } else if (row.classList.contains("is-failed")) {
    var error = row.querySelector(".row-error");
    this.analysisEnded(item, "failed", error ? error.getAttribute("title") : "");
  }
};

Uploader.prototype.analysisEnded = function (item, status, error) {
  if (PROCESSING.indexOf(status) !== -1 || !item.node.classList.contains("is-analysing")) {
    return;
  }
  item.node.classList.remove("is-analysing");
  window.clearTimeout(item.analysisTimer);
  var link = item.message.querySelector("a");
  var text;
  if (status === "ready") {
    text = "Uploaded and analysed.";
  } else if (status === "failed") {
    item.node.classList.add("is-analysis-failed");
    text = "Uploaded, but the analysis failed" + (error ? ": " + error : ".");
  } else {
    text = "Uploaded; the track has since been deleted.";
    link = null;
  }
  item.message.textContent = text + " ";
  if (link) {
    item.message.appendChild(link);
  }
};

/* A library row that htmx swapped in (its own polling, or the refreshed list) brings its track's status now. */
Uploader.prototype.syncRows = function (root) {
  var self = this;
  matching(root, "tr.track-row[id^='track-']").forEach(function (row) {
    var node = self.list.querySelector(".upload-item.is-analysing[data-upload-track='" + row.id.slice(6) + "']");
    var item = node && self.items.filter(function (candidate) {
      return candidate.node === node;
    })[0];
    if (item) {
      self.analysisFromRow(item, row);
    }
  });
};

Uploader.prototype.updateSummary = function () {
  var batch = this.batch;
  if (!batch) {
    return;
  }
  var finished = batch.ok + batch.duplicate + batch.error;
  var parts = [];
  if (batch.ok) {
    parts.push(batch.ok + " uploaded");
  }
  if (batch.duplicate) {
    parts.push(batch.duplicate + " already in your library");
  }
  if (batch.error) {
    parts.push(batch.error + " not uploaded");
  }
  var running = finished < batch.total;
  this.summaryText.textContent = running
    ? "Uploading " + plural(batch.total, "file", "files") + " (" + finished + " done)…"
    : "Done: " + parts.join(" · ") + ".";
  this.summary.hidden = false;
  this.summary.classList.toggle("is-running", running);
  if (this.doneLink) {
    this.doneLink.hidden = running || !(batch.ok || batch.duplicate);
  }
  if (this.clearButton) {
    this.clearButton.hidden = running;
  }
};

Uploader.prototype.batchDone = function () {
  if (this.form.hasAttribute("data-refresh-results") && window.htmx && document.getElementById("results") &&
      this.batch && this.batch.ok) {
    window.htmx.ajax("GET", window.location.href, { target: "#results", swap: "outerHTML" });
  }
  this.form.dispatchEvent(new CustomEvent("stemcrate:uploads-done", { bubbles: true, detail: this.batch }));
};

Uploader.prototype.clearFinished = function () {
  Array.prototype.forEach.call(this.list.querySelectorAll(".upload-item"), function (node) {
    if (!node.classList.contains("is-queued") && !node.classList.contains("is-uploading")) {
      node.remove();
    }
  });
  this.items = this.items.filter(function (item) {
    return item.node.isConnected;
  });
  if (!this.list.children.length) {
    this.summary.hidden = true;
    if (this.doneLink) {
      this.doneLink.hidden = true;
    }
  }
};

Uploader.prototype.busy = function () {
  return this.active > 0 || this.queue.length > 0;
};

/* ----------------------------------------------------------------- init */
var uploaders = [];

function enhance(root) {
  if (!root || !root.querySelectorAll) {
    return;
  }
  matching(root, "form[data-uploader]").forEach(function (form) {
    if (!form.classList.contains("is-enhanced")) {
      uploaders.push(new Uploader(form));
    }
  });
  // Forms that htmx has swapped out (a history restore) take no more drops.
  uploaders = uploaders.filter(function (uploader) {
    return uploader.form.isConnected || uploader.busy();
  });
}

enhance(document);
document.addEventListener("htmx:load", function (event) {
  enhance(event.detail.elt);
  uploaders.forEach(function (uploader) {
    uploader.syncRows(event.detail.elt);
  });
});

// Files dragged over the window light up the drop zone; dropped anywhere, they are uploaded, not opened.
var windowDepth = 0;
document.addEventListener("dragenter", function (event) {
  if (hasFiles(event)) {
    windowDepth += 1;
    document.body.classList.add("is-dragging-files");
  }
});
document.addEventListener("dragleave", function () {
  windowDepth = Math.max(0, windowDepth - 1);
  if (!windowDepth) {
    document.body.classList.remove("is-dragging-files");
  }
});
document.addEventListener("dragover", function (event) {
  if (hasFiles(event)) {
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  }
});
document.addEventListener("drop", function (event) {
  windowDepth = 0;
  document.body.classList.remove("is-dragging-files");
  if (!hasFiles(event)) {
    return;
  }
  event.preventDefault();
  var form = event.target.closest && event.target.closest("form[data-uploader]");
  var target = null;
  for (var i = 0; i < uploaders.length; i++) {
    if (uploaders[i].form === form || (!target && uploaders[i].form.isConnected)) {
      target = uploaders[i];
    }
  }
  if (target) {
    target.addFiles(event.dataTransfer.files);
  }
});
window.addEventListener("beforeunload", function (event) {
  for (var i = 0; i < uploaders.length; i++) {
    if (uploaders[i].busy()) {
      event.preventDefault();
      event.returnValue = "";
      return;
    }
  }
});
