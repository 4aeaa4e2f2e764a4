/*
 * Library pages: the filter form, the empty-library state, and tag suggestions.
 *
 *   form[data-library-filters]  htmx sends it on "change" and the search box on typing; this script keeps the
 *                               search box's own change event from sending the same query a second time, and
 *                               hides the "Apply" button (still there for browsers without JavaScript).
 *   #results[data-library-empty] after htmx replaces #results (new uploads, a filter), the drop zone and the
 *                               filters follow: the big empty-library drop zone turns into the slim bar.
 *   input[data-tag-input][list] suggests existing tags for the word being typed in a comma-separated list.
 */
(function () {
  "use strict";

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

  function init(root) {
    if (!root || !root.querySelectorAll) {
      return;
    }
    if (root.matches && root.matches("form[data-library-filters]")) {
      enhanceFilters(root);
    }
    root.querySelectorAll("form[data-library-filters]").forEach(enhanceFilters);
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

  function start() {
    init(document);
    syncEmptyState();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
