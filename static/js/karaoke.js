/*
 * The karaoke view on a lyrics page: section[data-karaoke] in templates/library/lyrics.html.
 *
 * The <audio> element (the vocals stem, or the mix) is the clock. On every frame while it plays, the line being
 * sung gets .is-active (earlier lines .is-past, the next one in a pause .is-next), and within it the word being
 * sung gets .is-current (words already sung .is-sung), from the timed words of the "lyrics-lines" JSON. The
 * active line scrolls to the upper third of the list, unless the list was scrolled by hand a moment ago or
 * "Follow" is off. Click a line or a word to play from it; the timeline above shows where the lines are.
 *
 * The panel ([data-karaoke-panel]: the lines, their JSON and the editor) is replaced by htmx after a save or a
 * revert; the audio and this controller stay, and pick up the new lines (htmx:load). "Karaoke" / "Edit text"
 * switch the panel between the lines and the editor.
 *
 * Keys: Space play/pause (not while typing), Left/Right 5 s. Without this script the <audio> keeps the browser's
 * own controls, and the editor shows under the lines.
 */
import { playOrReport } from "./lib/audio.js";
import { cssVars, isTextControl, jsonOf } from "./lib/dom.js";
import { clamp, formatTime } from "./lib/format.js";

var SEEK_STEP = 5;
var HOLD = 0.35; // s a line stays lit after its last word, so short breaths do not flicker
var NEXT_WITHIN = 4; // s: in a pause shorter than this, the next line is marked as coming
var MANUAL_SCROLL_MS = 4000; // after a hand scroll the list stays where it was put for this long
var LEAD_IN = 0.15; // s before a clicked word, so its first consonant is heard

function number(value, fallback) {
  var n = Number(value);
  return isFinite(n) ? n : fallback;
}

/* Index of the last item whose start is <= t, or -1. */
function lastStarted(items, t) {
  var lo = 0;
  var hi = items.length;
  while (lo < hi) {
    var mid = (lo + hi) >> 1;
    if (items[mid].start <= t) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo - 1;
}

function Karaoke(root) {
  var self = this;
  this.root = root;
  this.audio = root.querySelector("[data-karaoke-audio]");
  this.transport = root.querySelector("[data-karaoke-transport]");
  this.toggleButton = root.querySelector("[data-karaoke-toggle]");
  this.timeEl = root.querySelector("[data-karaoke-time]");
  this.totalEl = root.querySelector("[data-karaoke-total]");
  this.timeline = root.querySelector("[data-karaoke-timeline]");
  this.canvas = root.querySelector("[data-karaoke-timeline-canvas]");
  this.errorEl = root.querySelector("[data-karaoke-error]");
  this.tctx = this.canvas.getContext("2d");
  this.knownDuration = number(this.timeline.getAttribute("data-duration"), 0);
  this.lines = [];
  this.active = -1;
  this.next = -1;
  this.word = -1;
  this.follow = true;
  this.manualUntil = 0;
  this.hoverX = null;
  this.scrubbing = false;
  this.frame = 0;
  this.mode = "view";

  this.audio.controls = false;
  this.transport.hidden = false;
  root.classList.add("is-enhanced");
  this.readColors();
  this.bind();
  this.attachPanel();
  if (this.audio.readyState >= 1) {
    this.onMetadata();
  }
  if ("ResizeObserver" in window) {
    new ResizeObserver(function () {
      self.sizeTimeline();
      self.drawTimeline(self.position());
    }).observe(this.timeline);
  } else {
    window.addEventListener("resize", function () {
      self.sizeTimeline();
      self.drawTimeline(self.position());
    });
  }
  this.sizeTimeline();
  this.render();
}

Karaoke.prototype.readColors = function () {
  var pick = cssVars(this.timeline);
  this.colors = {
    bg: pick("--timeline-bg", "#0f1117"),
    line: pick("--timeline-line", "rgba(154,161,178,0.3)"),
    lineActive: pick("--timeline-line-active", "rgba(180,170,255,0.85)"),
    played: pick("--timeline-played", "rgba(124,108,246,0.22)"),
    word: pick("--timeline-word", "rgba(232,234,240,0.16)"),
    head: pick("--timeline-head", "#f4f5f8"),
    hover: pick("--timeline-hover", "rgba(232,234,240,0.4)"),
  };
};

Karaoke.prototype.duration = function () {
  var d = this.audio.duration;
  var last = this.lines.length ? this.lines[this.lines.length - 1].end : 0;
  return Math.max(isFinite(d) && d > 0 ? d : this.knownDuration, last, 1);
};

Karaoke.prototype.position = function () {
  return this.audio.currentTime || 0;
};

/* ------------------------------------------------------------- the panel */
/* Read the (new) panel: its lines from the JSON, matched to their elements by index. */
Karaoke.prototype.attachPanel = function () {
  var panel = this.root.querySelector("[data-karaoke-panel]");
  this.panel = panel;
  this.view = panel ? panel.querySelector("[data-karaoke-view]") : null;
  this.lines = [];
  this.active = this.next = this.word = -1;
  if (!panel) {
    return;
  }
  var data = jsonOf(panel.querySelector("script[type='application/json']"), []) || [];
  var elements = panel.querySelectorAll("[data-line]");
  this.lines = data
    .map(function (line, i) {
      var el = elements[i];
      if (!el) {
        return null;
      }
      var wordEls = el.querySelectorAll("[data-word]");
      var words = (line.words || []).map(function (word, j) {
        return { start: number(word.start, 0), end: number(word.end, 0), el: wordEls[j] || null };
      });
      return { start: number(line.start, 0), end: number(line.end, 0), el: el, words: words };
    })
    .filter(Boolean);

  Array.prototype.forEach.call(panel.querySelectorAll("[data-karaoke-modes], [data-karaoke-cancel], [data-karaoke-follow-wrap]"), function (el) {
    el.hidden = false;
  });
  var follow = panel.querySelector("[data-karaoke-follow]");
  if (follow) {
    follow.checked = this.follow;
  }
  this.setMode(panel.classList.contains("is-editing") ? "edit" : "view", false);
  var error = panel.querySelector("[data-edit-error]");
  var text = panel.querySelector("[data-karaoke-text]");
  if (error && text) {
    text.focus();
  }
  this.updateCount();
  this.render();
  this.scrollToCurrent(false);
};

Karaoke.prototype.setMode = function (mode, focus) {
  if (!this.panel) {
    return;
  }
  this.mode = mode === "edit" ? "edit" : "view";
  this.panel.classList.toggle("is-editing", this.mode === "edit");
  Array.prototype.forEach.call(this.panel.querySelectorAll("[data-karaoke-modes] [data-karaoke-mode]"), function (button) {
    button.setAttribute("aria-pressed", String(button.getAttribute("data-karaoke-mode") === mode));
  });
  if (this.mode === "edit" && focus) {
    var text = this.panel.querySelector("[data-karaoke-text]");
    if (text) {
      text.focus({ preventScroll: true });
    }
  } else if (this.mode === "view") {
    this.scrollToCurrent(false);
  }
};

Karaoke.prototype.updateCount = function () {
  var text = this.panel && this.panel.querySelector("[data-karaoke-text]");
  var counter = this.panel && this.panel.querySelector("[data-karaoke-chars]");
  if (!text || !counter) {
    return;
  }
  var max = Number(text.getAttribute("maxlength")) || 100000;
  counter.textContent = text.value.length.toLocaleString("en") + " / " + max.toLocaleString("en") + " characters";
  counter.classList.toggle("is-over", text.value.length > max);
};

/* ---------------------------------------------------------------- events */
Karaoke.prototype.bind = function () {
  var self = this;
  var audio = this.audio;

  this.toggleButton.addEventListener("click", function () {
    self.toggle();
  });
  audio.addEventListener("play", function () {
    self.root.classList.add("is-playing");
    self.toggleButton.setAttribute("aria-label", "Pause");
    self.errorEl.hidden = true;
    self.loop();
  });
  ["pause", "ended"].forEach(function (name) {
    audio.addEventListener(name, function () {
      self.root.classList.remove("is-playing");
      self.toggleButton.setAttribute("aria-label", "Play");
      cancelAnimationFrame(self.frame);
      self.render();
    });
  });
  audio.addEventListener("loadedmetadata", function () {
    self.onMetadata();
  });
  ["seeked", "timeupdate", "durationchange"].forEach(function (name) {
    audio.addEventListener(name, function () {
      if (audio.paused) {
        self.render();
      }
    });
  });
  audio.addEventListener("error", function () {
    self.errorEl.textContent = "The audio could not be loaded. The lyrics and their downloads still work.";
    self.errorEl.hidden = false;
  });

  // Delegated on the card, so a swapped-in panel needs nothing new.
  this.root.addEventListener("click", function (event) {
    var modeButton = event.target.closest("[data-karaoke-mode]");
    if (modeButton) {
      self.setMode(modeButton.getAttribute("data-karaoke-mode"), true);
      return;
    }
    var lineButton = event.target.closest("[data-karaoke-line]");
    if (lineButton) {
      var index = Number(lineButton.closest("[data-line]").getAttribute("data-line"));
      var line = self.lines[index];
      if (!line) {
        return;
      }
      var wordEl = event.target.closest("[data-word]");
      var word = wordEl ? line.words[Number(wordEl.getAttribute("data-word"))] : null;
      var at = word ? Math.max(line.start, word.start - LEAD_IN) : line.start;
      self.manualUntil = 0;
      self.seekTo(at);
      if (audio.paused) {
        self.play();
      }
    }
  });
  this.root.addEventListener("change", function (event) {
    if (event.target.matches("[data-karaoke-follow]")) {
      self.follow = event.target.checked;
      if (self.follow) {
        self.manualUntil = 0;
        self.scrollToCurrent(true);
      }
    }
  });
  this.root.addEventListener("input", function (event) {
    if (event.target.matches("[data-karaoke-text]")) {
      self.updateCount();
    }
  });
  // A hand on the list (wheel, touch, its scrollbar) holds the automatic scrolling for a moment.
  ["wheel", "touchstart", "pointerdown"].forEach(function (name) {
    self.root.addEventListener(
      name,
      function (event) {
        var view = event.target.closest && event.target.closest("[data-karaoke-view]");
        if (view && (name !== "pointerdown" || event.target === view)) {
          self.manualUntil = Date.now() + MANUAL_SCROLL_MS;
        }
      },
      { passive: true }
    );
  });

  // The timeline: click or drag to seek; keys when it has focus.
  var timeline = this.timeline;
  timeline.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) {
      return;
    }
    self.scrubbing = true;
    timeline.setPointerCapture(event.pointerId);
    self.seekToX(event.clientX);
    timeline.focus({ preventScroll: true });
    event.preventDefault();
  });
  timeline.addEventListener("pointermove", function (event) {
    self.hoverX = event.clientX - timeline.getBoundingClientRect().left;
    if (self.scrubbing) {
      self.seekToX(event.clientX);
    } else if (audio.paused) {
      self.drawTimeline(self.position());
    }
  });
  ["pointerup", "pointercancel"].forEach(function (name) {
    timeline.addEventListener(name, function () {
      self.scrubbing = false;
    });
  });
  timeline.addEventListener("pointerleave", function () {
    self.hoverX = null;
    if (audio.paused) {
      self.drawTimeline(self.position());
    }
  });
  timeline.addEventListener("keydown", function (event) {
    if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      self.seekTo(event.key === "Home" ? 0 : self.duration());
    }
  });

  document.addEventListener("keydown", function (event) {
    self.onKey(event);
  });

  // Save and revert answer with a new panel.
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.matches && elt.matches("[data-karaoke-panel]") && self.root.contains(elt)) {
      self.attachPanel();
    }
  });
};

Karaoke.prototype.onKey = function (event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTextControl(event.target)) {
    return;
  }
  if (event.key === " " || event.code === "Space") {
    var target = event.target;
    // The play button and other buttons keep Space, except the lines: there it plays or pauses.
    if (target && target.closest && target.closest("button, summary") && !target.closest("[data-karaoke-line]")) {
      return;
    }
    event.preventDefault();
    if (!event.repeat) {
      this.toggle();
    }
  } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
    event.preventDefault();
    this.seekTo(this.position() + (event.key === "ArrowLeft" ? -SEEK_STEP : SEEK_STEP));
  }
};

Karaoke.prototype.onMetadata = function () {
  this.totalEl.textContent = formatTime(this.duration(), true);
  this.timeline.setAttribute("aria-valuemax", String(Math.round(this.duration())));
  this.render();
};

/* ------------------------------------------------------------- transport */
Karaoke.prototype.toggle = function () {
  if (this.audio.paused) {
    this.play();
  } else {
    this.audio.pause();
  }
};

Karaoke.prototype.play = function () {
  var errorEl = this.errorEl;
  if (this.audio.ended) {
    this.audio.currentTime = 0;
  }
  playOrReport(this.audio, function (text) {
    errorEl.textContent = text;
    errorEl.hidden = false;
  });
};

Karaoke.prototype.seekTo = function (seconds) {
  var target = clamp(seconds, 0, this.duration());
  this.audio.currentTime = target;
  this.render(target);
};

Karaoke.prototype.seekToX = function (clientX) {
  var rect = this.timeline.getBoundingClientRect();
  this.seekTo(((clientX - rect.left) / Math.max(1, rect.width)) * this.duration());
};

Karaoke.prototype.loop = function () {
  var self = this;
  cancelAnimationFrame(this.frame);
  function tick() {
    if (self.audio.paused || !self.root.isConnected) {
      return;
    }
    self.render();
    self.frame = requestAnimationFrame(tick);
  }
  this.frame = requestAnimationFrame(tick);
};

/* ------------------------------------------------------------- highlight */
Karaoke.prototype.render = function (at) {
  var t = at !== undefined ? at : this.position();
  this.timeEl.textContent = formatTime(t, true);
  this.timeline.setAttribute("aria-valuenow", String(Math.round(t)));
  this.timeline.setAttribute("aria-valuetext", formatTime(t, false) + " of " + formatTime(this.duration(), false));
  this.highlight(t);
  this.drawTimeline(t);
};

Karaoke.prototype.highlight = function (t) {
  var lines = this.lines;
  var i = lastStarted(lines, t);
  var active = i >= 0 && t < lines[i].end + HOLD ? i : -1;
  var next = -1;
  if (active < 0 && i + 1 < lines.length && lines[i + 1].start - t <= NEXT_WITHIN) {
    next = i + 1;
  }
  if (active !== this.active || next !== this.next) {
    var previous = this.active;
    this.active = active;
    this.next = next;
    var past = active >= 0 ? active : i + 1;
    lines.forEach(function (line, k) {
      line.el.classList.toggle("is-active", k === active);
      line.el.classList.toggle("is-next", k === next);
      line.el.classList.toggle("is-past", k < past && k !== active);
    });
    if (previous >= 0 && lines[previous] && previous !== active) {
      this.clearWords(lines[previous]);
    }
    this.root.setAttribute("data-active-line", String(active));
    this.word = -2; // repaint the words of the new line
    this.scrollToCurrent(true);
  }
  if (active >= 0) {
    this.paintWords(lines[active], t);
  }
};

Karaoke.prototype.paintWords = function (line, t) {
  var words = line.words;
  var j = lastStarted(words, t);
  var current = j >= 0 && t < words[j].end ? j : -1;
  var key = current >= 0 ? current : -1 - (j + 1); // distinct for "between word j and j+1"
  if (key === this.word) {
    return;
  }
  this.word = key;
  words.forEach(function (word, k) {
    if (!word.el) {
      return;
    }
    word.el.classList.toggle("is-current", k === current);
    word.el.classList.toggle("is-sung", k <= j && k !== current);
  });
};

Karaoke.prototype.clearWords = function (line) {
  line.words.forEach(function (word) {
    if (word.el) {
      word.el.classList.remove("is-current", "is-sung");
    }
  });
};

/* The active (or coming) line to the upper third of the list, unless a hand is on it. */
Karaoke.prototype.scrollToCurrent = function (smooth) {
  var index = this.active >= 0 ? this.active : this.next;
  var view = this.view;
  if (index < 0 || !view || !this.lines[index] || this.mode !== "view") {
    return;
  }
  if (!this.follow || Date.now() < this.manualUntil) {
    return;
  }
  var el = this.lines[index].el;
  var top = el.offsetTop - view.clientHeight * 0.33 + el.offsetHeight / 2;
  top = clamp(top, 0, Math.max(0, view.scrollHeight - view.clientHeight));
  if (Math.abs(view.scrollTop - top) < 2) {
    return;
  }
  var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  view.scrollTo({ top: top, behavior: smooth && !reduce ? "smooth" : "auto" });
};

/* -------------------------------------------------------------- timeline */
Karaoke.prototype.sizeTimeline = function () {
  var rect = this.timeline.getBoundingClientRect();
  var ratio = window.devicePixelRatio || 1;
  this.tw = Math.max(40, rect.width - 2);
  this.th = Math.max(16, rect.height - 2);
  this.canvas.width = Math.round(this.tw * ratio);
  this.canvas.height = Math.round(this.th * ratio);
  this.tctx.setTransform(ratio, 0, 0, ratio, 0, 0);
};

Karaoke.prototype.drawTimeline = function (t) {
  var ctx = this.tctx;
  var c = this.colors;
  var W = this.tw;
  var H = this.th;
  if (!W) {
    return;
  }
  var total = this.duration();
  var self = this;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = c.bg;
  ctx.fillRect(0, 0, W, H);
  var head = (t / total) * W;
  ctx.fillStyle = c.played;
  ctx.fillRect(0, 0, head, H);
  var top = Math.round(H * 0.28);
  var height = H - top * 2;
  this.lines.forEach(function (line, k) {
    var x = (line.start / total) * W;
    var w = Math.max(2, ((line.end - line.start) / total) * W);
    ctx.fillStyle = k === self.active ? c.lineActive : c.line;
    ctx.fillRect(x, top, w, height);
    if (w > line.words.length * 3) {
      ctx.fillStyle = c.word;
      line.words.forEach(function (word) {
        ctx.fillRect((word.start / total) * W, top + height - 3, Math.max(1, ((word.end - word.start) / total) * W - 1), 3);
      });
    }
  });
  if (this.hoverX !== null) {
    ctx.fillStyle = c.hover;
    ctx.fillRect(Math.round(this.hoverX) - 0.5, 0, 1, H);
  }
  ctx.fillStyle = c.head;
  ctx.fillRect(Math.round(head) - 1, 0, 2, H);
};

/* ------------------------------------------------------------------ init */
document.querySelectorAll("[data-karaoke]").forEach(function (root) {
  if (!root.classList.contains("is-enhanced")) {
    root.stemcrateKaraoke = new Karaoke(root);
  }
});
