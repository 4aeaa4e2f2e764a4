/*
 * The sample browser (templates/library/samples.html) and a sample's page (templates/library/samples/detail.html).
 * Nothing inline (the Content-Security-Policy allows scripts and styles from this origin only): every behaviour
 * hangs off data- attributes and delegated listeners, so content that htmx swaps in works without re-binding.
 *
 *   [data-sample]            a playable sample (card, row, similar item, the detail page's player):
 *                            data-audio (its WAV), data-duration (s), data-url (its page)
 *   [data-sample-list]       a list of them: arrow keys / J / K move the focus (roving tabindex)
 *   [data-sample-audio]      the page's one <audio>: the fallback audition (no Web Audio, or a sample not
 *                            decoded yet); static/js/audition.js plays everything else (loop, key, tempo)
 *   [data-sample-play]       the waveform (a link to the WAV without JS): click plays; with data-seekable, from there
 *   [data-sample-check]      a card's checkbox (form="bulk-form"): selection, Shift-click ranges
 *   form[data-bulk]          the sticky action bar, shown while something is selected
 *   [data-sample-filters]    the filter form: category groups, the view toggle, folding on a phone
 *   [data-js-only] / [data-nojs]  shown only with / without this script (static/css/samples.css)
 *
 * Keys (not while typing): arrows, J/K, Home/End move; Space/Enter play; F favourite; X select (Shift: range);
 * A select the page; Esc clear the selection; C correct the category; O open; / search; ? the shortcuts.
 * L loops (static/js/audition.js, the audition bar). The layout (grid or list) and "hover to play" are remembered
 * in localStorage.
 */
import * as audition from "./audition.js";
import { claimAudio, onAudioClaimed } from "./lib/audio.js";
import { isActivatable, isTextControl, matching, readStored, writeStored } from "./lib/dom.js";
import { clamp, formatTime } from "./lib/format.js";

document.documentElement.classList.add("samples-js");

var VIEW_KEY = "stemcrate.samples.view";
var HOVER_KEY = "stemcrate.samples.hoverPlay";
var HOVER_DELAY_MS = 140;
var TOAST_MS = 6000;
var WAVE_WIDTH = 96; // the waveform's viewBox width (samples/views.py)

function all(selector, root) {
  return Array.prototype.slice.call((root || document).querySelectorAll(selector));
}

/* ---------------------------------------------------------------- toast */
var toastTimer = 0;

function toast(text, isError) {
  var box = document.querySelector("[data-sample-toast]");
  if (!box) {
    return;
  }
  box.textContent = text;
  box.classList.toggle("is-error", !!isError);
  box.hidden = false;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(function () {
    box.hidden = true;
  }, TOAST_MS);
}

/* ------------------------------------------------------------- audition */
var audio = null;
var current = null; // the [data-sample] being played
var startedByHover = false;
var frame = 0;

function getAudio() {
  if (audio && document.contains(audio)) {
    return audio;
  }
  audio = document.querySelector("[data-sample-audio]");
  if (audio && !audio.hasAttribute("data-bound")) {
    audio.setAttribute("data-bound", "");
    audio.addEventListener("ended", function () {
      if (!audition.isPlaying()) {
        finish();
      }
    });
    audio.addEventListener("pause", function () {
      if (current && !audition.isPlaying(current)) {
        markPlaying(current, false);
      }
    });
    audio.addEventListener("playing", function () {
      if (current) {
        current.classList.remove("is-loading");
        markPlaying(current, true);
        loop();
      }
    });
    audio.addEventListener("error", function () {
      if (current && audio.getAttribute("src") && !audition.isPlaying(current)) {
        toast("This sample could not be played: its file may be missing. Try its page or slice the stem again.", true);
        finish();
      }
    });
  }
  return audio;
}

function durationOf(item) {
  if (audition.isPlaying(item)) {
    return parseFloat(item.getAttribute("data-duration")) || 0;
  }
  var element = getAudio();
  if (element && current === item && isFinite(element.duration) && element.duration > 0) {
    return element.duration;
  }
  return parseFloat(item.getAttribute("data-duration")) || 0;
}

function markPlaying(item, playing) {
  item.classList.toggle("is-playing", playing);
  var toggle = item.querySelector("[data-sample-toggle]");
  if (toggle) {
    toggle.setAttribute("aria-label", playing ? "Stop" : "Play");
  }
}

function drawProgress(item, seconds) {
  var duration = durationOf(item);
  var fraction = duration ? clamp(seconds / duration, 0, 1) : 0;
  all("[data-wave-clip]", item).forEach(function (rect) {
    rect.setAttribute("width", (fraction * WAVE_WIDTH).toFixed(2));
  });
  var time = item.querySelector("[data-sample-time]");
  if (time) {
    time.textContent = formatTime(seconds, true);
  }
  var head = item.querySelector("[data-sample-head]");
  if (head) {
    head.style.left = fraction * 100 + "%"; // CSSOM from this script: allowed by the CSP
    head.classList.toggle("is-visible", fraction > 0 && fraction < 1);
  }
}

function loop() {
  window.cancelAnimationFrame(frame);
  function tick() {
    var element = getAudio();
    if (!current) {
      return;
    }
    if (audition.isPlaying(current)) {
      drawProgress(current, audition.position() || 0);
      frame = window.requestAnimationFrame(tick);
      return;
    }
    if (!element) {
      return;
    }
    drawProgress(current, element.currentTime || 0);
    if (!element.paused && !element.ended) {
      frame = window.requestAnimationFrame(tick);
    }
  }
  frame = window.requestAnimationFrame(tick);
}

function finish() {
  window.cancelAnimationFrame(frame);
  if (current) {
    markPlaying(current, false);
    current.classList.remove("is-loading");
    drawProgress(current, 0);
  }
  current = null;
  startedByHover = false;
}

function play(item, options) {
  options = options || {};
  var element = getAudio();
  var url = item && item.getAttribute("data-audio");
  if (!url) {
    return;
  }
  if (current && current !== item) {
    finish();
  }
  // Web Audio first (decoded ahead: starts at once, loops, follows the target's key and tempo).
  if (element && !element.paused) {
    element.pause();
  }
  claimAudio("samples"); // the sample editor's preview (static/js/sample_editor.js) stops
  if (audition.start(item, { from: options.from || 0, onEnded: finishIfCurrent })) {
    current = item;
    startedByHover = !!options.hover;
    markPlaying(item, true);
    loop();
    return;
  }
  if (!element) {
    return;
  }
  current = item;
  startedByHover = !!options.hover;
  element.loop = audition.isLooping();
  element.preservesPitch = false; // a sampler's repitch: the speed follows the pitch
  // Both: loading a new src resets playbackRate to defaultPlaybackRate.
  element.defaultPlaybackRate = element.playbackRate = audition.fallbackRate(item);
  if (element.getAttribute("src") !== url) {
    element.src = url;
  }
  var from = options.from || 0;
  if (element.readyState >= 1) {
    element.currentTime = from;
  } else if (from) {
    element.addEventListener(
      "loadedmetadata",
      function () {
        if (current === item) {
          element.currentTime = from;
        }
      },
      { once: true }
    );
  }
  item.classList.add("is-loading");
  markPlaying(item, true);
  drawProgress(item, options.from || 0);
  var started = element.play();
  if (started && started.catch) {
    started.catch(function (error) {
      if (error && error.name === "AbortError") {
        return; // another sample took over
      }
      if (current === item) {
        finish();
      }
      if (!options.hover) {
        toast("Playback did not start: " + (error && (error.message || error.name)) + ".", true);
      }
    });
  }
}

function finishIfCurrent(item) {
  if (current === item) {
    finish();
  }
}

function stop() {
  audition.stop();
  var element = getAudio();
  if (element && !element.paused) {
    element.pause();
  }
  finish();
}

function toggle(item) {
  var element = getAudio();
  if (current === item && (audition.isPlaying(item) || (element && !element.paused))) {
    stop();
  } else {
    play(item);
  }
}

/* -------------------------------------------------- focus & navigation */
function listOf(item) {
  return item && item.closest("[data-sample-list]");
}

function itemsOf(list) {
  return list ? all("[data-sample]", list) : [];
}

function mainList() {
  return document.querySelector("[data-sample-grid]") || document.querySelector("[data-sample-list]");
}

function activeItem() {
  var focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("[data-sample]");
  if (focused) {
    return focused;
  }
  var primary = document.querySelector("[data-sample-primary]");
  if (primary) {
    return primary;
  }
  var list = mainList();
  return list && (list.querySelector("[data-sample][tabindex='0']") || list.querySelector("[data-sample]"));
}

function setActive(item, focus) {
  var list = listOf(item);
  if (!list) {
    if (focus && item) {
      item.focus();
    }
    return;
  }
  itemsOf(list).forEach(function (other) {
    other.setAttribute("tabindex", other === item ? "0" : "-1");
  });
  if (focus) {
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "nearest", inline: "nearest" });
  }
}

function columns(list, items) {
  if (list.classList.contains("is-list") || items.length < 2) {
    return 1;
  }
  var top = items[0].getBoundingClientRect().top;
  var count = 0;
  for (var i = 0; i < items.length; i++) {
    if (Math.abs(items[i].getBoundingClientRect().top - top) > 4) {
      break;
    }
    count += 1;
  }
  return Math.max(1, count);
}

function move(step, absolute, fromArrow) {
  var item = activeItem();
  if (fromArrow && !listOf(item) && !document.querySelector("[data-sample-grid]")) {
    return false; // on a sample's page the arrow keys scroll, unless the focus is in "More like this"
  }
  var list = listOf(item) || mainList();
  var items = itemsOf(list);
  if (!items.length) {
    return false;
  }
  var index = items.indexOf(item);
  var target;
  if (absolute === "first") {
    target = 0;
  } else if (absolute === "last") {
    target = items.length - 1;
  } else if (index === -1) {
    target = 0;
  } else {
    var size = step === "down" || step === "up" ? columns(list, items) : 1;
    var delta = step === "down" || step === "next" ? size : -size;
    target = Math.min(items.length - 1, Math.max(0, index + delta));
  }
  setActive(items[target], true);
  return true;
}

/* ------------------------------------------------------------ selection */
var anchor = null; // the last checkbox ticked by hand: Shift extends from it

function checks() {
  var list = document.querySelector("[data-sample-grid]");
  return list ? all("[data-sample-check]", list) : [];
}

function syncSelection() {
  var boxes = checks();
  var count = 0;
  boxes.forEach(function (box) {
    var item = box.closest("[data-sample]");
    if (item) {
      item.classList.toggle("is-selected", box.checked);
    }
    if (box.checked) {
      count += 1;
    }
  });
  all("[data-bulk-count]").forEach(function (node) {
    node.textContent = String(count);
  });
  all("[data-bulk-noun-plain]").forEach(function (node) {
    node.textContent = count === 1 ? "sample" : "samples";
  });
  var bar = document.querySelector("form[data-bulk]");
  if (bar) {
    bar.classList.add("is-enhanced");
    var confirming = bar.querySelector("[data-bulk-confirm]") && !bar.querySelector("[data-bulk-confirm]").hidden;
    bar.classList.toggle("is-active", count > 0 || confirming);
    if (!count && confirming) {
      showConfirm(false);
    }
  }
  var every = document.querySelector("[data-select-all]");
  if (every) {
    every.checked = count > 0 && count === boxes.length;
    every.indeterminate = count > 0 && count < boxes.length;
  }
  return count;
}

function setChecked(box, checked) {
  if (box && box.checked !== checked) {
    box.checked = checked;
  }
}

function selectRange(to, checked) {
  var boxes = checks();
  var from = boxes.indexOf(anchor);
  var end = boxes.indexOf(to);
  if (from === -1 || end === -1) {
    setChecked(to, checked);
    return;
  }
  var low = Math.min(from, end);
  var high = Math.max(from, end);
  for (var i = low; i <= high; i++) {
    setChecked(boxes[i], checked);
  }
}

function toggleSelection(item, range) {
  var box = item && item.querySelector("[data-sample-check]");
  if (!box) {
    return;
  }
  var checked = !box.checked;
  if (range && anchor) {
    selectRange(box, checked);
  } else {
    box.checked = checked;
  }
  anchor = box;
  syncSelection();
}

function selectAll(checked) {
  checks().forEach(function (box) {
    box.checked = checked;
  });
  syncSelection();
}

function showConfirm(show) {
  var bar = document.querySelector("form[data-bulk]");
  if (!bar) {
    return;
  }
  var main = bar.querySelector("[data-bulk-main]");
  var confirm = bar.querySelector("[data-bulk-confirm]");
  if (main) {
    main.hidden = show;
  }
  if (confirm) {
    confirm.hidden = !show;
  }
  bar.classList.toggle("is-confirming", show);
  var focus = show ? bar.querySelector("[data-bulk-confirm-yes]") : bar.querySelector("[data-bulk-delete]");
  if (focus && (show || bar.contains(document.activeElement))) {
    focus.focus();
  }
}

function closeMenus(except) {
  all("details[data-sample-menu][open], details[data-bulk-pop][open], details[data-cat-picker][open]").forEach(
    function (menu) {
      if (menu !== except && !(except && menu.contains(except))) {
        menu.open = false;
      }
    }
  );
}

/* ----------------------------------------------------------- the layout */
function applyView(view, remember) {
  view = view === "list" ? "list" : "grid";
  var grid = document.querySelector("[data-sample-grid]");
  if (grid) {
    grid.classList.toggle("is-list", view === "list");
  }
  all(".view-toggle [data-view]").forEach(function (button) {
    button.setAttribute("aria-pressed", String(button.getAttribute("data-view") === view));
  });
  var input = document.querySelector("[data-view-input]");
  if (input) {
    input.value = view === "list" ? "list" : "";
  }
  if (remember) {
    writeStored(VIEW_KEY, view);
    // The address follows, so a reload or a shared link shows the same layout.
    var url = new URL(window.location.href);
    if (view === "list") {
      url.searchParams.set("view", "list");
    } else {
      url.searchParams.delete("view");
    }
    window.history.replaceState(window.history.state, "", url.toString());
  }
}

function initialView() {
  var fromUrl = new URL(window.location.href).searchParams.get("view");
  if (fromUrl === "list" || fromUrl === "grid") {
    writeStored(VIEW_KEY, fromUrl);
    return;
  }
  if (readStored(VIEW_KEY) === "list" && document.querySelector("[data-sample-grid]")) {
    applyView("list", true);
  }
}

/* ------------------------------------------------------------ filters */
var GROUP_NAMES = { drums: "drums", pitched: "pitched", other: "other" };

function syncCategoryPicker(form) {
  var picker = form.querySelector("[data-cat-picker]");
  if (!picker) {
    return;
  }
  var chosen = [];
  var fullGroups = [];
  all("[data-cat-group]", picker).forEach(function (group) {
    var boxes = all("input[name='category']", group);
    var ticked = boxes.filter(function (box) {
      return box.checked;
    });
    var head = group.querySelector("[data-cat-all]");
    if (head) {
      head.checked = ticked.length === boxes.length;
      head.indeterminate = ticked.length > 0 && ticked.length < boxes.length;
    }
    if (ticked.length && ticked.length === boxes.length) {
      fullGroups.push(group.getAttribute("data-cat-group"));
    }
    ticked.forEach(function (box) {
      chosen.push(box.parentNode.textContent.trim());
    });
  });
  var summary = picker.querySelector("[data-cat-summary]");
  if (summary) {
    if (!chosen.length) {
      summary.textContent = "Any category";
    } else if (fullGroups.length === 1 && chosen.length === all("[data-cat-group='" + fullGroups[0] + "'] input[name='category']", picker).length) {
      summary.textContent = "All " + (GROUP_NAMES[fullGroups[0]] || fullGroups[0]);
    } else if (chosen.length === 1) {
      summary.textContent = chosen[0];
    } else {
      summary.textContent = chosen.length + " categories";
    }
  }
  picker.classList.toggle("is-set", chosen.length > 0);
}

function countFilters(form) {
  var more = form.querySelector("[data-sample-filters-more]");
  var count = form.querySelector("[data-sample-filters-count]");
  if (!more || !count) {
    return 0;
  }
  var active = 0;
  all("select, input[type='number']", more).forEach(function (field) {
    if (field.value) {
      active += 1;
    }
  });
  if (more.querySelector("input[name='favourite']:checked")) {
    active += 1;
  }
  count.textContent = String(active);
  count.hidden = !active;
  return active;
}

function enhanceFilters(form) {
  if (form.hasAttribute("data-samples-enhanced")) {
    return;
  }
  form.setAttribute("data-samples-enhanced", "");
  var more = form.querySelector("[data-sample-filters-more]");
  var narrow = window.matchMedia("(max-width: 720px)");
  if (more && !countFilters(form) && narrow.matches) {
    more.open = false;
  }
  narrow.addEventListener("change", function (query) {
    if (more && !query.matches) {
      more.open = true; // the wide layout has no toggle
    }
  });
  form.addEventListener("change", function () {
    syncCategoryPicker(form);
    countFilters(form);
  });
  syncCategoryPicker(form);
}

// A group's checkbox ticks its categories before htmx reads the form (capture runs before htmx's listener).
document.addEventListener(
  "change",
  function (event) {
    var head = event.target.closest && event.target.closest("[data-cat-all]");
    if (!head) {
      return;
    }
    var group = head.closest("[data-cat-group]");
    all("input[name='category']", group).forEach(function (box) {
      box.checked = head.checked;
    });
  },
  true
);

// The address says "category=drums" rather than eight categories when a whole group is chosen.
document.addEventListener("htmx:configRequest", function (event) {
  var detail = event.detail;
  var form = detail.elt && detail.elt.closest && detail.elt.closest("form[data-sample-filters]");
  var params = detail.parameters;
  if (detail.verb !== "get" || !form || !params || typeof params.getAll !== "function") {
    return;
  }
  var chosen = params.getAll("category");
  if (!chosen.length) {
    return;
  }
  var result = [];
  var covered = {};
  all("[data-cat-group]", form).forEach(function (group) {
    var members = all("input[name='category']", group).map(function (box) {
      return box.value;
    });
    var full = members.every(function (value) {
      return chosen.indexOf(value) !== -1;
    });
    if (full && members.length > 1) {
      result.push(group.getAttribute("data-cat-group"));
      members.forEach(function (value) {
        covered[value] = true;
      });
    }
  });
  chosen.forEach(function (value) {
    if (!covered[value]) {
      result.push(value);
    }
  });
  params.delete("category");
  result.forEach(function (value) {
    params.append("category", value);
  });
});

/* ----------------------------------------------------------- shortcuts */
function openShortcuts() {
  var dialog = document.querySelector("dialog[data-shortcuts]");
  if (dialog && !dialog.open && typeof dialog.showModal === "function") {
    dialog.showModal();
  }
}

function pressStar(item) {
  var star = item.querySelector("[data-sample-star]");
  if (!star && item.hasAttribute("data-sample-primary")) {
    star = document.querySelector(".sample-detail-actions [data-sample-star]");
  }
  if (star && !star.disabled) {
    star.click();
  }
}

function openMenu(item) {
  var menu = item && item.querySelector("details[data-sample-menu]");
  if (!menu) {
    var select = document.getElementById("sample-category-select");
    if (select) {
      select.focus();
    }
    return;
  }
  closeMenus(menu);
  menu.open = true;
  var field = menu.querySelector("[data-category-select]");
  if (field) {
    field.focus();
  }
}

document.addEventListener("keydown", function (event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) {
    return;
  }
  if (document.querySelector("dialog[data-shortcuts][open]")) {
    return; // the dialog handles its own keys (Esc closes it)
  }
  var key = event.key;
  var target = event.target;
  if (key === "Escape") {
    var menu = target.closest && target.closest("details[open]");
    if (menu && (menu.hasAttribute("data-sample-menu") || menu.hasAttribute("data-bulk-pop") || menu.hasAttribute("data-cat-picker"))) {
      menu.open = false;
      var summary = menu.querySelector("summary");
      if (summary) {
        summary.focus();
      }
      event.preventDefault();
      return;
    }
  }
  if (isTextControl(target) || (target.closest && target.closest("[data-audition-bar]"))) {
    return; // the audition bar's radios keep their arrow keys (static/js/audition.js)
  }
  if (!document.querySelector("[data-sample]")) {
    if (key === "?") {
      openShortcuts();
    }
    return;
  }
  var item = activeItem();
  var lower = key.length === 1 ? key.toLowerCase() : key;
  var handled = true;
  switch (lower) {
    case "?":
      openShortcuts();
      break;
    case "/":
      var search = document.getElementById("filter-q");
      if (search) {
        search.focus();
        search.select();
      } else {
        handled = false;
      }
      break;
    case "j":
    case "k":
      handled = move(lower === "j" ? "next" : "prev");
      break;
    case "ArrowRight":
    case "ArrowLeft":
      handled = move(key === "ArrowRight" ? "next" : "prev", null, true);
      break;
    case "ArrowDown":
    case "ArrowUp":
      handled = move(key === "ArrowDown" ? "down" : "up", null, true);
      break;
    case "Home":
    case "End":
      handled = move(null, key === "Home" ? "first" : "last", true);
      break;
    case " ":
    case "Enter":
      // Space and Enter mean something to links, buttons and every field and label already.
      if (isActivatable(target, "a[href], input, label, select, textarea") || !item) {
        handled = false;
      } else if (!event.repeat) {
        toggle(item);
      }
      break;
    case "f":
      if (item) {
        pressStar(item);
      }
      break;
    case "x":
      if (item && item.querySelector("[data-sample-check]")) {
        toggleSelection(item, event.shiftKey);
      } else {
        handled = false;
      }
      break;
    case "a":
      if (checks().length) {
        selectAll(true);
      } else {
        handled = false;
      }
      break;
    case "c":
      openMenu(item);
      break;
    case "o":
      if (item && item.getAttribute("data-url") && !item.hasAttribute("data-sample-primary")) {
        window.location.assign(item.getAttribute("data-url"));
      } else {
        handled = false;
      }
      break;
    case "Escape":
      if (document.querySelector("[data-bulk-confirm]:not([hidden])")) {
        showConfirm(false);
      } else if (checks().some(function (box) { return box.checked; })) {
        selectAll(false);
      } else if (current) {
        stop();
      } else {
        handled = false;
      }
      break;
    default:
      handled = false;
  }
  if (handled) {
    event.preventDefault();
  }
});

/* --------------------------------------------------------------- clicks */
document.addEventListener("mousedown", function (event) {
  // Shift-click selects a range of samples, not the text between them.
  if (event.shiftKey && event.target.closest && event.target.closest("[data-sample-list] [data-sample]")) {
    event.preventDefault();
  }
});

document.addEventListener("click", function (event) {
  var target = event.target;
  if (!target.closest) {
    return;
  }
  var open = target.closest("[data-shortcuts-open]");
  if (open) {
    openShortcuts();
    return;
  }
  var dialog = target.closest("dialog[data-shortcuts]");
  if (dialog && target === dialog) {
    dialog.close(); // a click on the backdrop
    return;
  }
  var view = target.closest(".view-toggle [data-view]");
  if (view) {
    event.preventDefault();
    applyView(view.getAttribute("data-view"), true);
    return;
  }
  if (target.closest("[data-bulk-clear]")) {
    selectAll(false);
    return;
  }
  if (target.closest("[data-bulk-delete]")) {
    event.preventDefault();
    closeMenus();
    showConfirm(true);
    return;
  }
  if (target.closest("[data-bulk-cancel]")) {
    showConfirm(false);
    return;
  }
  if (target.closest("[data-cat-clear]")) {
    var form = target.closest("form");
    all("input[name='category']", form).forEach(function (box) {
      box.checked = false;
    });
    var picker = target.closest("details[data-cat-picker]");
    if (picker) {
      picker.open = false;
    }
    form.dispatchEvent(new Event("change", { bubbles: true }));
    return;
  }
  // Outside a menu, any click closes the open ones.
  closeMenus(target.closest("details"));

  var check = target.closest("[data-sample-check]");
  if (check) {
    if (event.shiftKey && anchor && anchor !== check) {
      selectRange(check, check.checked);
    }
    anchor = check;
    syncSelection();
    return;
  }
  if (target.closest("[data-audition-bar]")) {
    return; // its own controls (static/js/audition.js)
  }
  var toggleButton = target.closest("[data-sample-toggle]");
  if (toggleButton) {
    toggle(toggleButton.closest("[data-sample]"));
    return;
  }
  var item = target.closest("[data-sample]");
  if (!item) {
    return;
  }
  var wave = target.closest("[data-sample-play]");
  if (wave) {
    event.preventDefault();
    setActive(item, false);
    if (wave.hasAttribute("data-seekable")) {
      var rect = wave.getBoundingClientRect();
      var fraction = rect.width ? clamp((event.clientX - rect.left) / rect.width, 0, 1) : 0;
      play(item, { from: fraction * (parseFloat(item.getAttribute("data-duration")) || 0) });
    } else {
      toggle(item);
    }
    return;
  }
  // The card itself (not one of its links, buttons or fields): Shift / Ctrl select, a plain click plays.
  if (target.closest("a, button, input, select, textarea, label, summary, details, form")) {
    return;
  }
  setActive(item, false);
  if (item.querySelector("[data-sample-check]") && (event.shiftKey || event.ctrlKey || event.metaKey)) {
    toggleSelection(item, event.shiftKey);
    return;
  }
  toggle(item);
});

document.addEventListener("change", function (event) {
  var target = event.target;
  if (target.matches("[data-select-all]")) {
    selectAll(target.checked);
  } else if (target.matches("[data-sample-check]")) {
    syncSelection();
  } else if (target.matches("[data-hover-play]")) {
    writeStored(HOVER_KEY, target.checked ? "on" : "off");
    if (!target.checked && startedByHover) {
      stop();
    }
  }
});

// Enter in the action bar's text fields presses their own button, not the bar's first one.
document.addEventListener("keydown", function (event) {
  var field = event.target.closest && event.target.closest("[data-submit-with]");
  if (!field || event.key !== "Enter") {
    return;
  }
  var button = document.getElementById(field.getAttribute("data-submit-with"));
  if (button && !button.disabled) {
    event.preventDefault();
    button.click(); // a click, so htmx sends the button's name and value (it tracks the last button clicked)
  }
});

// One menu open at a time; opening the category menu puts the focus on its field.
document.addEventListener(
  "toggle",
  function (event) {
    var menu = event.target;
    if (menu.open && menu.matches && menu.matches("details[data-sample-menu], details[data-bulk-pop], details[data-cat-picker]")) {
      closeMenus(menu);
      var field = menu.querySelector("input:not([type='hidden']), select");
      if (field && menu.hasAttribute("data-bulk-pop")) {
        field.focus();
      }
    }
  },
  true
);

document.addEventListener("focusin", function (event) {
  var item = event.target.closest && event.target.closest("[data-sample-list] [data-sample]");
  if (item && item.getAttribute("tabindex") !== "0") {
    setActive(item, false);
  }
});

/* --------------------------------------------------------- hover to play */
var hoverTimer = 0;

function hoverOn() {
  var box = document.querySelector("[data-hover-play]");
  return !!(box && box.checked);
}

document.addEventListener("pointerover", function (event) {
  if (event.pointerType === "touch" || !hoverOn()) {
    return;
  }
  var item = event.target.closest && event.target.closest("[data-sample-grid] [data-sample]");
  if (!item || (event.relatedTarget && item.contains(event.relatedTarget))) {
    return;
  }
  window.clearTimeout(hoverTimer);
  hoverTimer = window.setTimeout(function () {
    if (current !== item) {
      play(item, { hover: true });
    }
  }, HOVER_DELAY_MS);
});

document.addEventListener("pointerout", function (event) {
  var item = event.target.closest && event.target.closest("[data-sample-grid] [data-sample]");
  if (!item || (event.relatedTarget && item.contains(event.relatedTarget))) {
    return;
  }
  window.clearTimeout(hoverTimer);
  if (startedByHover && current === item) {
    stop();
  }
});

/* ----------------------------------------------------------------- htmx */
var focusedId = null;

document.addEventListener("htmx:beforeSwap", function () {
  var focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("[data-sample]");
  focusedId = focused ? focused.id : null;
});

document.addEventListener("htmx:afterSettle", function () {
  syncSelection();
  var list = mainList();
  if (list && !list.querySelector("[data-sample][tabindex='0']")) {
    var first = list.querySelector("[data-sample]");
    if (first) {
      first.setAttribute("tabindex", "0");
    }
  }
  // The sample being played was re-rendered (a bulk action, a correction): the new element plays on.
  if (current && !document.contains(current)) {
    var again = current.id && document.getElementById(current.id);
    if (again && (audition.adopt(current, again) || (getAudio() && !getAudio().paused))) {
      current = again;
      markPlaying(again, true);
      loop();
    } else {
      finish();
    }
  }
  if (focusedId && (!document.activeElement || document.activeElement === document.body)) {
    var item = document.getElementById(focusedId);
    if (item) {
      setActive(item, true);
    }
  }
  focusedId = null;
});

document.addEventListener("htmx:responseError", function (event) {
  var status = event.detail.xhr ? event.detail.xhr.status : 0;
  if (status === 404) {
    toast("That sample no longer exists (or is not yours). Reload the page to see the current list.", true);
  } else if (status === 403) {
    toast("Your session has expired or the page is out of date. Reload the page and try again.", true);
  } else if (status >= 500) {
    toast("Something went wrong on the server; nothing was changed. Try again in a moment.", true);
  } else if (status) {
    toast("That did not work (" + status + "). Reload the page and try again.", true);
  }
});

document.addEventListener("htmx:sendError", function () {
  toast("The server could not be reached. Check the connection and try again.", true);
});

// Another player on the page (the sample editor's preview) took the output: the audition stops.
onAudioClaimed("samples", function () {
  if (current) {
    stop();
  }
});

// Other audio on the page (the no-JS fallback player) never plays over an audition.
document.addEventListener(
  "play",
  function (event) {
    all("audio").forEach(function (other) {
      if (other !== event.target && !other.paused) {
        other.pause();
      }
    });
  },
  true
);

/* ----------------------------------------------------------------- init */
function init(root) {
  if (!root || !root.querySelectorAll) {
    return;
  }
  matching(root, "form[data-sample-filters]").forEach(enhanceFilters);
  var hover = root.querySelector("[data-hover-play]");
  if (hover) {
    hover.checked = readStored(HOVER_KEY) === "on";
  }
}

document.addEventListener("htmx:load", function (event) {
  init(event.detail.elt);
});

init(document);
initialView();
syncSelection();
getAudio();
