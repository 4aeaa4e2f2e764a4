/*
 * Library pages: the filter form, the empty-library state, and tag suggestions.
 *
 *   form[data-library-filters]  htmx sends it on "change" and the search box on typing; this script keeps the
 *                               search box's own change event from sending the same query a second time, and
 *                               hides the "Apply" button (still there for browsers without JavaScript).
 *   #results[data-library-empty] after htmx replaces #results (new uploads, a filter), the drop zone and the
 *                               filters follow: the big empty-library drop zone turns into the slim bar.
 *   input[data-tag-input][list] suggests existing tags for the word being typed in a comma-separated list.
 *   form[data-bulk-form]        the library's selection: counts the ticked rows in the action bar, enables its
 *                               buttons only with a selection, "select all" (with the mixed state), Shift+click
 *                               ticks a range, Escape or "Clear" empties it. The boxes are plain fields, so
 *                               without this script the form still posts them.
 *   details[data-popover]       (the track page's Export form) closes on a click outside it and on Escape,
 *                               which gives focus back to its summary.
 *
 * Each row's play button and mini waveform (auditions) are static/js/track_audition.js, a module of their own.
 */
import { matching } from "./lib/dom.js";
import { plural } from "./lib/format.js";

function enhanceFilters(form) {
  if (form.classList.contains("is-enhanced")) {
    return;
  }
  form.classList.add("is-enhanced");
  var more = form.querySelector("[data-filters-more]");
  var count = form.querySelector("[data-filters-count]");
  function countActive() {
    var active = 0;
    Array.prototype.forEach.call(more ? more.querySelectorAll("select, input") : [], function (field) {
      if (field.value) {
        active += 1;
      }
    });
    if (count) {
      count.textContent = String(active);
      count.hidden = !active;
    }
    return active;
  }
  // On a phone the filters start folded, unless one of them is in use.
  if (more && !countActive() && window.matchMedia("(max-width: 720px)").matches) {
    more.open = false;
  }
  form.addEventListener("change", countActive);
  window.matchMedia("(max-width: 720px)").addEventListener("change", function (query) {
    if (more && !query.matches) {
      more.open = true; // the wide layout has no toggle: never leave the filters folded there
    }
  });
  var search = form.querySelector("input[name='q']");
  if (search) {
    // The box sends itself (keyup, 300 ms); its "change" on blur would repeat the same request via the form.
    search.addEventListener("change", function (event) {
      event.stopPropagation();
    });
  }
}

function syncEmptyState() {
  var results = document.getElementById("results");
  if (!results) {
    return;
  }
  var empty = results.getAttribute("data-library-empty") === "true";
  var upload = document.querySelector("[data-library-upload]");
  if (upload) {
    upload.classList.toggle("is-empty", empty);
  }
  var filters = document.querySelector("form[data-library-filters]");
  if (filters) {
    filters.hidden = empty;
  }
}

/* A datalist matches the whole input; for "drums, 8" it should suggest "drums, 808". */
function enhanceTagInput(input) {
  var list = document.getElementById(input.getAttribute("list"));
  if (!list || input.hasAttribute("data-tag-enhanced")) {
    return;
  }
  input.setAttribute("data-tag-enhanced", "");
  var names = Array.prototype.map.call(list.options, function (option) {
    return option.value;
  });
  function update() {
    var value = input.value;
    var cut = value.lastIndexOf(",");
    var head = cut === -1 ? "" : value.slice(0, cut + 1).replace(/\s*$/, "") + " ";
    var used = value.split(",").map(function (part) {
      return part.trim().toLowerCase();
    });
    var fragment = document.createDocumentFragment();
    names.forEach(function (name) {
      if (used.slice(0, -1).indexOf(name.toLowerCase()) === -1) {
        var option = document.createElement("option");
        option.value = head + name;
        fragment.appendChild(option);
      }
    });
    list.replaceChildren(fragment);
  }
  input.addEventListener("input", update);
  input.addEventListener("focus", update);
}

/* ---------------------------------------------------------------- selection */
function bulkBoxes(form) {
  // The rows live inside the form, but a row that polled was swapped in: always ask the DOM again.
  return Array.prototype.slice.call(form.querySelectorAll("input[data-bulk-select]"));
}

function syncBulk(form) {
  var boxes = bulkBoxes(form);
  var ticked = boxes.filter(function (box) {
    return box.checked;
  }).length;
  var summary = form.querySelector("[data-bulk-summary]");
  if (summary) {
    summary.textContent = ticked
      ? plural(ticked, "track", "tracks") + " selected"
      : "Tick tracks to process or export them together.";
  }
  form.classList.toggle("has-selection", ticked > 0);
  form.querySelectorAll("[data-bulk-action]").forEach(function (button) {
    button.disabled = ticked === 0;
  });
  var clear = form.querySelector("[data-bulk-clear]");
  if (clear) {
    clear.hidden = ticked === 0;
  }
  var all = form.querySelector("[data-bulk-all]");
  if (all) {
    all.hidden = boxes.length === 0;
    all.checked = ticked > 0 && ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }
  boxes.forEach(function (box) {
    var row = box.closest("tr");
    if (row) {
      row.classList.toggle("is-selected", box.checked);
    }
  });
}

function enhanceBulk(form) {
  if (form.classList.contains("is-enhanced")) {
    return;
  }
  form.classList.add("is-enhanced");
  var last = null;
  form.addEventListener("click", function (event) {
    var box = event.target.closest && event.target.closest("input[data-bulk-select]");
    if (!box) {
      return;
    }
    // Shift+click ticks (or unticks) every box between the last one clicked and this one.
    if (event.shiftKey && last && last !== box && form.contains(last)) {
      var boxes = bulkBoxes(form);
      var from = boxes.indexOf(last);
      var to = boxes.indexOf(box);
      if (from !== -1 && to !== -1) {
        boxes.slice(Math.min(from, to), Math.max(from, to) + 1).forEach(function (other) {
          other.checked = box.checked;
        });
      }
    }
    last = box;
  });
  form.addEventListener("change", function (event) {
    var all = event.target.closest && event.target.closest("[data-bulk-all]");
    if (all) {
      bulkBoxes(form).forEach(function (box) {
        box.checked = all.checked;
      });
    }
    syncBulk(form);
  });
  var clear = form.querySelector("[data-bulk-clear]");
  if (clear) {
    clear.addEventListener("click", function () {
      bulkBoxes(form).forEach(function (box) {
        box.checked = false;
      });
      syncBulk(form);
    });
  }
  form.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && event.target.matches && event.target.matches("input[data-bulk-select], [data-bulk-all]")) {
      bulkBoxes(form).forEach(function (box) {
        box.checked = false;
      });
      syncBulk(form);
    }
  });
  syncBulk(form);
}

/* ------------------------------------------------------------------ popovers */
function closePopovers(except) {
  document.querySelectorAll("details[data-popover][open]").forEach(function (popover) {
    if (popover !== except) {
      popover.removeAttribute("open");
    }
  });
}

document.addEventListener("click", function (event) {
  var inside = event.target.closest && event.target.closest("details[data-popover]");
  closePopovers(inside);
});

document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") {
    return;
  }
  document.querySelectorAll("details[data-popover][open]").forEach(function (popover) {
    popover.removeAttribute("open");
    var summary = popover.querySelector("summary");
    if (summary && popover.contains(document.activeElement)) {
      summary.focus();
    }
  });
});

function init(root) {
  if (!root || !root.querySelectorAll) {
    return;
  }
  matching(root, "form[data-bulk-form]").forEach(enhanceBulk);
  if (root.matches && root.matches("tr") && root.closest) {
    var owner = root.closest("form[data-bulk-form]");
    if (owner) {
      syncBulk(owner); // a polled row came back: its box is the same element (hx-preserve), its class is new
    }
  }
  matching(root, "form[data-library-filters]").forEach(enhanceFilters);
  root.querySelectorAll("input[data-tag-input][list]").forEach(enhanceTagInput);
}

document.addEventListener("htmx:load", function (event) {
  init(event.detail.elt);
});
document.addEventListener("htmx:afterSettle", syncEmptyState);

// Filter requests leave out empty fields and the default sort, so the address bar shows only what is chosen:
// "/?key=A&bpm_min=120" rather than every field of the form.
document.addEventListener("htmx:configRequest", function (event) {
  var detail = event.detail;
  var elt = detail.elt;
  if (detail.verb !== "get" || !elt || !elt.closest || !elt.closest("form[data-library-filters]")) {
    return;
  }
  var params = detail.parameters;
  var names = [];
  if (params && typeof params.forEach === "function") {
    params.forEach(function (value, name) {
      names.push(name);
    });
  } else {
    names = Object.keys(params || {});
  }
  names.forEach(function (name) {
    var value = typeof params.get === "function" ? params.get(name) : params[name];
    if (value === "" || value === null || (name === "sort" && value === "newest")) {
      if (typeof params.delete === "function") {
        params.delete(name);
      } else {
        delete params[name];
      }
    }
  });
});

init(document);
syncEmptyState();
