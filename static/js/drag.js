/*
 * Drag out: samples, stems, MIDI clips and lyrics go from the page onto the desktop or into a DAW.
 *
 *   data-drag-url="/media/…"   on any element: it becomes draggable; the drag carries that file
 *   data-drag-name="Kick 01"   the file's name, without an extension
 *   data-drag-convert          the URL serves audio in any export format (?format=…): the drag asks for the
 *                              format chosen in a select[data-drag-format] (remembered in localStorage);
 *                              without it the file goes as it is, with data-drag-type and data-drag-ext
 *
 *   form[data-drag-zip-url]    a selection (the sample browser's bulk form, whose checkboxes are name="ids"):
 *                              dragging a selected item while two or more are selected drags one ZIP of them
 *                              all (a browser drags one file at a time); its [data-selection-zip] button
 *                              downloads the same ZIP in one click, in the chosen format
 *
 * Chrome and Edge read "DownloadURL" (mime:name:absolute-url) and save the real file where it is dropped;
 * every browser also gets text/uri-list, which DAWs and file managers that take URLs accept. The URLs are the
 * owner's media URLs: anyone else gets a 404 from them.
 */
var STORE = "stemcrate:drag-format";
var FORMATS = {
  wav24: { ext: ".wav", type: "audio/wav" },
  wav16: { ext: ".wav", type: "audio/wav" },
  wav32f: { ext: ".wav", type: "audio/wav" },
  aiff: { ext: ".aif", type: "audio/aiff" },
  flac: { ext: ".flac", type: "audio/flac" },
  mp3: { ext: ".mp3", type: "audio/mpeg" },
};

export function dragFormat() {
  var chosen = null;
  try {
    chosen = window.localStorage.getItem(STORE);
  } catch (error) {
    chosen = null; // storage blocked: the default
  }
  return FORMATS[chosen] ? chosen : "wav24";
}

/* What a drag of `el` carries: {type, name, url} (url absolute). */
export function dragData(el) {
  var url = new URL(el.getAttribute("data-drag-url"), window.location.href);
  var name = (el.getAttribute("data-drag-name") || "file").replace(/[\\/:*?"<>|]+/g, " ").trim() || "file";
  if (el.hasAttribute("data-drag-convert")) {
    var format = dragFormat();
    url.searchParams.set("format", format);
    return { type: FORMATS[format].type, name: name + FORMATS[format].ext, url: url.href };
  }
  return {
    type: el.getAttribute("data-drag-type") || "application/octet-stream",
    name: name + (el.getAttribute("data-drag-ext") || ""),
    url: url.href,
  };
}

function syncSelects() {
  var format = dragFormat();
  Array.prototype.forEach.call(document.querySelectorAll("select[data-drag-format]"), function (select) {
    select.value = format;
  });
  Array.prototype.forEach.call(document.querySelectorAll("input[data-drag-format-value]"), function (input) {
    input.value = format;
  });
}

/* The ids ticked in a selection form (its own fields and those that name it with form="…"). */
export function selectedIds(form) {
  return Array.prototype.filter
    .call(form.elements, function (field) {
      return field.name === "ids" && field.checked;
    })
    .map(function (field) {
      return field.value;
    });
}

/* {type, name, url} of the ZIP of a selection form's ticked items, in the chosen format. */
export function selectionZip(form) {
  var ids = selectedIds(form);
  var url = new URL(form.getAttribute("data-drag-zip-url"), window.location.href);
  url.searchParams.set("ids", ids.join(","));
  url.searchParams.set("format", dragFormat());
  var name = "Stemcrate samples (" + ids.length + " sample" + (ids.length === 1 ? "" : "s") + ").zip";
  return { type: "application/zip", name: name, url: url.href, count: ids.length };
}

/* The selection form `el` is ticked in, when two or more of its items are ticked and `el` is one of them. */
function selectionOf(el) {
  var box = el.querySelector('input[name="ids"]');
  var form = box && box.form;
  if (!box || !box.checked || !form || !form.hasAttribute("data-drag-zip-url")) {
    return null;
  }
  return selectedIds(form).length > 1 ? form : null;
}

function markDraggable(root) {
  Array.prototype.forEach.call((root || document).querySelectorAll("[data-drag-url]"), function (el) {
    el.setAttribute("draggable", "true");
  });
}

document.addEventListener("dragstart", function (event) {
  var el = event.target && event.target.closest ? event.target.closest("[data-drag-url]") : null;
  if (!el || !event.dataTransfer) {
    return;
  }
  var selection = selectionOf(el);
  var data = selection ? selectionZip(selection) : dragData(el);
  event.dataTransfer.effectAllowed = "copy";
  event.dataTransfer.setData("DownloadURL", data.type + ":" + data.name + ":" + data.url);
  event.dataTransfer.setData("text/uri-list", data.url);
  event.dataTransfer.setData("text/plain", data.url);
  el.classList.add("is-dragging");
});

document.addEventListener("dragend", function (event) {
  var el = event.target && event.target.closest ? event.target.closest("[data-drag-url]") : null;
  if (el) {
    el.classList.remove("is-dragging");
  }
});

document.addEventListener("click", function (event) {
  var button = event.target && event.target.closest ? event.target.closest("[data-selection-zip]") : null;
  if (!button || !button.form || !button.form.hasAttribute("data-drag-zip-url")) {
    return;
  }
  event.preventDefault(); // the form itself posts its other actions (with htmx); this one is a download
  if (selectedIds(button.form).length) {
    window.location.assign(selectionZip(button.form).url);
  }
});

document.addEventListener("change", function (event) {
  var select = event.target;
  if (select && select.matches && select.matches("select[data-drag-format]") && FORMATS[select.value]) {
    try {
      window.localStorage.setItem(STORE, select.value);
    } catch (error) {
      // storage blocked: the choice lasts for this page only
    }
    syncSelects();
  }
});

function init(root) {
  markDraggable(root);
  syncSelects();
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", function () {
    init(document);
  });
} else {
  init(document);
}
document.addEventListener("htmx:load", function (event) {
  init(event.target);
});
