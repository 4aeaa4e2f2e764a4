/*
 * The slicer: section[data-slicer] and form[data-slicer-form] in templates/library/slicer.html.
 *
 * The source's candidate onsets come from JSON (samples/onset_cache.py: OnsetCurve.to_json() with full-precision
 * candidates): embedded as "slicer-onsets" when the curve was computed before, else fetched from samples:onsets
 * (a few seconds the first time, behind a loading state). From them `Candidates.pick` chooses the slice points
 * with exactly the rule of processing/engines/slicing.py's pick(), in float32 where Python compares float32:
 *
 *   threshold = 1 - sensitivity; keep strength >= threshold - 1e-6 and level_db >= silence_db; visit the
 *   candidates from the strongest down (equal strengths: earlier first), accepting each one unless an accepted
 *   one lies less than min_length s away; the slice points are the accepted times, in time order.
 *
 * The suppression is computed once per (min length, silence), so a move of the slider is one pass over the
 * candidates. The count shown ("42 samples") is the number of slice points the job will cut at.
 *
 * The canvas: the waveform (peaks) on top with a marker at each slice point; under it a strip with one block per
 * slice; at the bottom the onset-strength curve, a dot per candidate at its strength and the threshold line.
 * Click the waveform (or the curve) to play from there; click a block of the strip to hear that slice alone.
 * Keys: Space plays/pauses; Left/Right (Up/Down) nudge the sensitivity by 1% (Shift: 10%), unless a text or
 * number field has focus; [ and ] play the previous and next slice. Changing the silence threshold re-picks at once; for vocals, whose phrase starts depend
 * on it, the curve is fetched again after a pause in typing.
 * Without this script the <audio> keeps the browser's controls and the form posts what it shows.
 */
import { playOrReport, peakBars } from "./lib/audio.js";
import { cssVars, isActivatable, isTextControl, readJson } from "./lib/dom.js";
import { clamp, formatTime, plural } from "./lib/format.js";

var f32 = Math.fround;
var TOLERANCE = f32(1e-6);
var REFETCH_MS = 450;
var STRIP_H = 24;

/* ------------------------------------------------- the picking rule (slicing.pick) */
function bisectLeft(sorted, value) {
  var lo = 0;
  var hi = sorted.length;
  while (lo < hi) {
    var mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

/* onsets: [[time s, strength 0..1, level dBFS], ...] in time order, as OnsetCurve.to_json() gives them. */
function Candidates(onsets) {
  var n = onsets.length;
  this.size = n;
  this.times = new Float64Array(n);
  this.strengths = new Float32Array(n); // stored as float32, as numpy holds them
  this.levels = new Float32Array(n);
  for (var i = 0; i < n; i++) {
    this.times[i] = Number(onsets[i][0]);
    this.strengths[i] = Number(onsets[i][1]);
    this.levels[i] = Number(onsets[i][2]);
  }
  var self = this;
  var order = [];
  for (var k = 0; k < n; k++) {
    order.push(k);
  }
  // np.lexsort((times, -strengths)): strongest first, equal strengths earlier first (the sort is stable).
  order.sort(function (a, b) {
    return self.strengths[b] - self.strengths[a] || self.times[a] - self.times[b];
  });
  this.order = order;
  this.cache = {};
  this.cacheKeys = [];
}

/* Which candidates survive the suppression at threshold 0 (slicing._suppression). */
Candidates.prototype.accepted = function (minLength, silenceDb) {
  var key = minLength + "|" + silenceDb;
  if (this.cache[key]) {
    return this.cache[key];
  }
  var silence = f32(silenceDb);
  var acceptedTimes = [];
  var accepted = new Uint8Array(this.size);
  for (var k = 0; k < this.order.length; k++) {
    var i = this.order[k];
    if (!(this.levels[i] >= silence)) {
      continue;
    }
    var t = this.times[i];
    var j = bisectLeft(acceptedTimes, t);
    if (j > 0 && t - acceptedTimes[j - 1] < minLength) {
      continue;
    }
    if (j < acceptedTimes.length && acceptedTimes[j] - t < minLength) {
      continue;
    }
    acceptedTimes.splice(j, 0, t);
    accepted[i] = 1;
  }
  this.cache[key] = accepted;
  this.cacheKeys.push(key);
  if (this.cacheKeys.length > 24) {
    delete this.cache[this.cacheKeys.shift()];
  }
  return accepted;
};

/* Indices of the chosen candidates, in time order (slicing.pick). */
Candidates.prototype.pick = function (sensitivity, minLength, silenceDb) {
  var threshold = 1 - clamp(Number(sensitivity), 0, 1);
  var limit = f32(f32(threshold) - TOLERANCE);
  var accepted = this.accepted(Math.max(0, Number(minLength)), Number(silenceDb));
  var chosen = [];
  for (var i = 0; i < this.size; i++) {
    if (accepted[i] && this.strengths[i] >= limit) {
      chosen.push(i);
    }
  }
  return chosen;
};

/* The onset times pick() returns for a to_json() dict: for checking against Python. */
function pickTimes(json, sensitivity, minLength, silenceDb) {
  var candidates = new Candidates(json.onsets || []);
  return candidates.pick(sensitivity, minLength, silenceDb).map(function (i) {
    return candidates.times[i];
  });
}

// The app's one global: tests/browser/test_slicer_browser.py checks this rule against Python's through it.
window.Stemcrate = { pickOnsets: pickTimes };

/* ------------------------------------------------------------------ helpers */
function samples(n) {
  return plural(n, "sample", "samples");
}

function isTyping(target) {
  return isTextControl(target, ["range", "button", "submit"]);
}

/* ------------------------------------------------------------------- slicer */
function Slicer(root, form) {
  this.root = root;
  this.form = form;
  this.config = readJson("slicer-config", null) || {};
  this.audio = root.querySelector("[data-slicer-audio]");
  this.ui = root.querySelector("[data-slicer-ui]");
  this.toggleButton = root.querySelector("[data-slicer-toggle]");
  this.timeEl = root.querySelector("[data-slicer-time]");
  this.totalEl = root.querySelector("[data-slicer-total]");
  this.countEl = root.querySelector("[data-slicer-count]");
  this.wave = root.querySelector("[data-slicer-wave]");
  this.canvas = root.querySelector("[data-slicer-canvas]");
  this.hoverEl = root.querySelector("[data-slicer-hover]");
  this.errorEl = root.querySelector("[data-slicer-error]");
  this.ctx = this.canvas.getContext("2d");
  this.layer = document.createElement("canvas"); // everything but the playhead and the hover line
  this.layerCtx = this.layer.getContext("2d");
  this.range = form.querySelector("[data-slicer-sensitivity]");
  this.rangeValue = form.querySelector("[data-slicer-sensitivity-value]");
  this.minInput = form.querySelector("[data-slicer-min-length]");
  this.maxInput = form.querySelector("[data-slicer-max-length]");
  this.silenceInput = form.querySelector("[data-slicer-silence]");
  this.submit = form.querySelector("[data-slicer-submit]");
  this.submitLabel = form.querySelector("[data-slicer-submit-label]");
  this.warning = form.querySelector("[data-slicer-warning]");

  var defaults = this.config.defaults || {};
  this.defaults = {
    minLength: Number(defaults.min_length) || 0.05,
    maxLength: Number(defaults.max_length) || 4,
    silenceDb: Number(defaults.silence_db) || -50,
  };
  this.peaks = (this.config.peaks || []).map(function (v) {
    return clamp(Number(v) || 0, 0, 1);
  });
  this.data = null;
  this.candidates = null;
  this.chosen = []; // indices into the candidates
  this.markers = []; // their times
  this.curveSilence = null; // the silence threshold the loaded curve was made with
  this.controller = null;
  this.refetchTimer = 0;
  this.dirty = true;
  this.frame = 0;
  this.drawQueued = false;
  this.pendingSeek = null;
  this.stopAt = null;
  this.auditioning = -1;
  this.lastSlice = -1; // the slice heard last, for [ and ]
  this.hover = null; // {x, zone, time}
  this.hoverSlice = -1;
  this.colors = null;

  this.audio.controls = false;
  this.ui.hidden = false;
  root.classList.add("is-enhanced");
  this.readColors();
  this.bind();
  this.onSensitivity();
  if (this.audio.readyState >= 1) {
    this.onMetadata();
  }
  var cached = readJson("slicer-onsets", null);
  if (cached && Array.isArray(cached.onsets)) {
    this.setData(cached);
  } else {
    this.fetchOnsets();
  }
}

Slicer.prototype.readColors = function () {
  var color = cssVars(this.wave);
  this.colors = {
    wave: color("--slicer-wave", "rgba(154, 161, 178, 0.42)"),
    waveSlice: color("--slicer-wave-slice", "rgba(196, 188, 255, 0.7)"),
    marker: color("--slicer-marker", "#f5a142"),
    strip: color("--slicer-strip", "rgba(124, 108, 246, 0.2)"),
    stripAlt: color("--slicer-strip-alt", "rgba(124, 108, 246, 0.34)"),
    stripHover: color("--slicer-strip-hover", "rgba(180, 170, 255, 0.62)"),
    stripPlay: color("--slicer-strip-play", "#7c6cf6"),
    stripText: color("--slicer-strip-text", "#e8eaf0"),
    curve: color("--slicer-curve", "rgba(82, 184, 245, 0.22)"),
    curveLine: color("--slicer-curve-line", "rgba(82, 184, 245, 0.55)"),
    dot: color("--slicer-dot", "rgba(154, 161, 178, 0.45)"),
    dotOn: color("--slicer-dot-on", "#f5a142"),
    threshold: color("--slicer-threshold", "rgba(243, 181, 63, 0.75)"),
    head: color("--slicer-head", "#f4f5f8"),
    hover: color("--slicer-hover", "rgba(232, 234, 240, 0.45)"),
    grid: color("--slicer-grid", "rgba(255, 255, 255, 0.05)"),
  };
};

/* ------------------------------------------------------------ the options */
Slicer.prototype.sensitivity = function () {
  var value = parseFloat(this.range.value);
  return clamp(isFinite(value) ? value : 50, 0, 100) / 100;
};

function numberIn(input, low, high) {
  var value = input ? parseFloat(input.value) : NaN;
  return isFinite(value) && value >= low && value <= high ? value : null;
}

/* The options the markers are picked with; an invalid field falls back to its default and is reported. */
Slicer.prototype.options = function () {
  var problems = [];
  var minLength = numberIn(this.minInput, 0.01, 10);
  if (minLength === null) {
    problems.push("Min length must be between 0.01 and 10 s.");
    minLength = this.defaults.minLength;
  }
  var maxLength = numberIn(this.maxInput, 0.02, 30);
  if (maxLength === null) {
    problems.push("Max length must be between 0.02 and 30 s.");
    maxLength = this.defaults.maxLength;
  } else if (maxLength < minLength) {
    problems.push("Max length must be at least the min length.");
  }
  var silenceDb = numberIn(this.silenceInput, -120, -6);
  if (silenceDb === null) {
    problems.push("Silence must be between -120 and -6 dBFS.");
    silenceDb = this.defaults.silenceDb;
  }
  return {
    sensitivity: this.sensitivity(),
    minLength: minLength,
    maxLength: Math.max(maxLength, minLength),
    silenceDb: silenceDb,
    problems: problems,
  };
};

Slicer.prototype.onSensitivity = function () {
  var percent = Math.round(this.sensitivity() * 100);
  this.rangeValue.textContent = percent + "%";
  this.range.setAttribute("aria-valuetext", percent + "%");
  this.range.style.setProperty("--fill", percent + "%"); // CSSOM from this script: allowed by the CSP
  this.repick();
};

Slicer.prototype.nudge = function (delta) {
  var value = clamp(Math.round(parseFloat(this.range.value) || 0) + delta, 0, 100);
  this.range.value = String(value);
  this.onSensitivity();
};

Slicer.prototype.repick = function () {
  var options = this.options();
  if (this.candidates) {
    this.chosen = this.candidates.pick(options.sensitivity, options.minLength, options.silenceDb);
    var times = this.candidates.times;
    this.markers = this.chosen.map(function (i) {
      return times[i];
    });
  }
  this.current = options;
  this.auditioning = -1;
  this.lastSlice = -1;
  this.hoverSlice = -1;
  this.updateCount();
  this.invalidate();
};

Slicer.prototype.updateCount = function () {
  var options = this.current || this.options();
  var warning = options.problems.join(" ");
  var disable = false;
  if (!this.candidates) {
    this.countEl.textContent = this.loading ? "Finding onsets…" : "…";
    this.countEl.setAttribute("data-count", "");
    this.submitLabel.textContent = "Slice into samples";
  } else {
    var n = this.markers.length;
    var max = Number((this.data && this.data.max_samples) || 2000);
    this.countEl.textContent = samples(n);
    this.countEl.setAttribute("data-count", String(n));
    this.wave.setAttribute("aria-label", "Waveform with " + plural(n, "slice marker", "slice markers") + ": click to play from a point");
    if (n === 0) {
      this.submitLabel.textContent = "Nothing to slice";
      warning = warning || "No onsets at this sensitivity: raise it, or lower the silence threshold.";
      disable = true;
    } else if (n > max) {
      this.submitLabel.textContent = "Slice " + samples(n);
      warning = "More than " + max + " samples in one run is noise, not hits: lower the sensitivity or raise the min length.";
      disable = true;
    } else {
      this.submitLabel.textContent = "Slice " + samples(n);
    }
  }
  this.submit.disabled = disable;
  this.warning.textContent = warning;
  this.warning.hidden = !warning;
};

/* -------------------------------------------------------------- the curve */
Slicer.prototype.setLoading = function (loading) {
  this.loading = loading;
  this.wave.classList.toggle("is-loading", loading);
  this.wave.setAttribute("aria-busy", loading ? "true" : "false");
  if (!this.candidates) {
    this.updateCount();
  }
};

Slicer.prototype.setData = function (data) {
  this.data = data;
  this.candidates = new Candidates(data.onsets || []);
  this.curveSilence = Number(data.silence_db);
  this.hideError();
  this.setLoading(false);
  this.repick();
};

Slicer.prototype.fetchOnsets = function () {
  var self = this;
  if (this.controller) {
    this.controller.abort();
  }
  var controller = window.AbortController ? new AbortController() : null;
  this.controller = controller;
  var options = this.options();
  var url = new URL(this.config.onsets_url, window.location.href);
  url.searchParams.set("silence_db", String(options.silenceDb));
  this.setLoading(true);
  fetch(url.toString(), {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
    signal: controller ? controller.signal : undefined,
  })
    .then(function (response) {
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (body) {
          if (!response.ok || !Array.isArray(body.onsets)) {
            throw new Error(
              body.error || "The onsets could not be loaded (HTTP " + response.status + "). Reload the page to try again."
            );
          }
          return body;
        });
    })
    .then(function (data) {
      if (controller === self.controller) {
        self.controller = null;
        self.setData(data);
      }
    })
    .catch(function (error) {
      if (error && error.name === "AbortError") {
        return;
      }
      if (controller === self.controller) {
        self.controller = null;
        self.setLoading(false);
        self.showError((error && error.message) || "The onsets could not be loaded.");
      }
    });
};

Slicer.prototype.onSilence = function () {
  var self = this;
  this.repick(); // levels are fixed: the markers follow at once
  if (!this.config.phrases) {
    return;
  }
  // Vocal phrase starts depend on the threshold: fetch the curve for it once the typing pauses.
  window.clearTimeout(this.refetchTimer);
  this.refetchTimer = window.setTimeout(function () {
    var silence = numberIn(self.silenceInput, -120, -6);
    if (silence !== null && silence !== self.curveSilence) {
      self.fetchOnsets();
    }
  }, REFETCH_MS);
};

Slicer.prototype.showError = function (text) {
  this.errorEl.textContent = text;
  this.errorEl.hidden = false;
};

Slicer.prototype.hideError = function () {
  this.errorEl.textContent = "";
  this.errorEl.hidden = true;
};

/* --------------------------------------------------------------- playback */
Slicer.prototype.duration = function () {
  var fromData = this.data && Number(this.data.duration);
  if (fromData > 0) {
    return fromData;
  }
  var d = this.audio.duration;
  return isFinite(d) && d > 0 ? d : Number(this.config.duration) || 0;
};

Slicer.prototype.currentTime = function () {
  return this.pendingSeek !== null ? this.pendingSeek : this.audio.currentTime || 0;
};

Slicer.prototype.onMetadata = function () {
  if (this.pendingSeek !== null) {
    this.audio.currentTime = this.pendingSeek;
    this.pendingSeek = null;
  }
  this.totalEl.textContent = formatTime(this.duration(), true);
};

Slicer.prototype.seekTo = function (seconds) {
  var target = clamp(seconds, 0, this.duration() || seconds);
  if (this.audio.readyState >= 1) {
    this.audio.currentTime = target;
    this.pendingSeek = null;
  } else {
    this.pendingSeek = target;
  }
  this.draw();
};

Slicer.prototype.play = function () {
  playOrReport(this.audio, this.showError.bind(this));
};

Slicer.prototype.toggle = function () {
  if (this.audio.paused || this.audio.ended) {
    this.stopAt = null;
    this.auditioning = -1;
    this.lastSlice = -1;
    this.invalidate();
    this.play();
  } else {
    this.audio.pause();
  }
};

Slicer.prototype.playFrom = function (seconds) {
  this.stopAt = null;
  this.auditioning = -1;
  this.lastSlice = -1;
  this.invalidate();
  this.seekTo(seconds);
  this.play();
};

/* Slice i runs from its pre-roll before its onset to the next slice's start, at most max length long. */
Slicer.prototype.sliceBounds = function (i) {
  var preRoll = Number((this.data && this.data.pre_roll) || 0);
  var start = Math.max(0, this.markers[i] - preRoll);
  var end = this.duration();
  if (i + 1 < this.markers.length) {
    end = Math.min(end, Math.max(start, this.markers[i + 1] - preRoll));
  }
  var maxLength = (this.current || this.options()).maxLength;
  return { start: start, end: Math.min(end, start + maxLength) };
};

Slicer.prototype.sliceAt = function (seconds) {
  var i = bisectLeft(this.markers, seconds + 1e-9) - 1;
  if (i < 0) {
    return -1;
  }
  var bounds = this.sliceBounds(i);
  return seconds <= bounds.end ? i : -1;
};

Slicer.prototype.audition = function (i) {
  var bounds = this.sliceBounds(i);
  this.auditioning = i;
  this.lastSlice = i;
  this.stopAt = bounds.end;
  this.invalidate();
  this.seekTo(bounds.start);
  this.play();
};

/* [ and ]: the previous or next slice from the one playing (or the playhead's). */
Slicer.prototype.auditionNext = function (direction) {
  // An audition stops a little past its slice's end: step from the slice heard last, not the playhead's.
  var current = this.lastSlice >= 0 ? this.lastSlice : this.sliceAt(this.currentTime());
  var next = current < 0 ? (direction > 0 ? 0 : this.markers.length - 1) : current + direction;
  this.audition(clamp(next, 0, this.markers.length - 1));
};

Slicer.prototype.loop = function () {
  var self = this;
  cancelAnimationFrame(this.frame);
  function tick() {
    if (self.stopAt !== null && self.audio.currentTime >= self.stopAt) {
      self.audio.pause();
      self.stopAt = null;
    }
    self.draw();
    if (!self.audio.paused && !self.audio.ended) {
      self.frame = requestAnimationFrame(tick);
    }
  }
  this.frame = requestAnimationFrame(tick);
};

/* ---------------------------------------------------------------- events */
Slicer.prototype.bind = function () {
  var self = this;
  var audio = this.audio;
  var wave = this.wave;

  this.toggleButton.addEventListener("click", function () {
    self.toggle();
  });
  audio.addEventListener("play", function () {
    self.root.classList.add("is-playing");
    self.toggleButton.setAttribute("aria-label", "Pause");
    self.loop();
  });
  ["pause", "ended"].forEach(function (name) {
    audio.addEventListener(name, function () {
      self.root.classList.remove("is-playing");
      self.toggleButton.setAttribute("aria-label", "Play");
      if (self.auditioning >= 0 && self.stopAt === null) {
        self.auditioning = -1;
        self.invalidate();
      }
      self.draw();
    });
  });
  audio.addEventListener("loadedmetadata", function () {
    self.onMetadata();
    self.invalidate();
  });
  ["seeked", "timeupdate"].forEach(function (name) {
    audio.addEventListener(name, function () {
      if (audio.paused) {
        self.draw();
      }
    });
  });
  audio.addEventListener("error", function () {
    self.showError("This browser cannot play the source. The markers and the Slice button still work.");
  });

  // Pointer: the strip auditions a slice; anywhere else plays from that point.
  wave.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) {
      return;
    }
    event.preventDefault();
    wave.focus({ preventScroll: true });
    var at = self.pointerAt(event);
    if (!at) {
      return;
    }
    if (at.zone === "strip") {
      var i = self.sliceAt(at.time);
      if (i >= 0) {
        self.audition(i);
        return;
      }
    }
    self.playFrom(at.time);
  });
  wave.addEventListener("pointermove", function (event) {
    var at = self.pointerAt(event);
    var slice = at && at.zone === "strip" ? self.sliceAt(at.time) : -1;
    self.hover = at;
    wave.classList.toggle("is-over-strip", slice >= 0);
    if (slice !== self.hoverSlice) {
      self.hoverSlice = slice; // the strip and the waveform show the slice under the pointer
      self.dirty = true;
    }
    self.draw();
  });
  wave.addEventListener("pointerleave", function () {
    self.hover = null;
    wave.classList.remove("is-over-strip");
    if (self.hoverSlice >= 0) {
      self.hoverSlice = -1;
      self.dirty = true;
    }
    self.draw();
  });

  this.range.addEventListener("input", function () {
    self.onSensitivity();
  });
  [this.minInput, this.maxInput].forEach(function (input) {
    input.addEventListener("input", function () {
      self.repick();
    });
  });
  this.silenceInput.addEventListener("input", function () {
    self.onSilence();
  });
  // hx-disabled-elt enables the button again after a request: put back what the count says.
  this.form.addEventListener("htmx:afterRequest", function () {
    window.setTimeout(function () {
      self.updateCount();
    }, 0);
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var target = event.target;
    if (event.key === " " || event.code === "Space") {
      if (isTyping(target) || isActivatable(target, "a[href]")) {
        return;
      }
      event.preventDefault();
      if (!event.repeat) {
        self.toggle();
      }
      return;
    }
    if (event.key === "[" || event.key === "]") {
      if (isTyping(target) || !self.markers.length) {
        return;
      }
      event.preventDefault();
      self.auditionNext(event.key === "]" ? 1 : -1);
      return;
    }
    var step = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1 }[event.key];
    if (!step || target === self.range || isTyping(target)) {
      return; // the slider moves itself (and fires "input"); fields keep their arrows
    }
    event.preventDefault();
    self.nudge(step * (event.shiftKey ? 10 : 1));
  });

  if (window.ResizeObserver) {
    new ResizeObserver(function () {
      self.invalidate();
    }).observe(wave);
  }
  window.addEventListener("resize", function () {
    self.invalidate();
  });
};

Slicer.prototype.layout = function (width, height) {
  var waveH = Math.round(height * 0.5);
  var stripTop = waveH + 6;
  var curveTop = stripTop + STRIP_H + 10;
  return {
    width: width,
    height: height,
    waveH: waveH,
    stripTop: stripTop,
    curveTop: curveTop,
    curveH: Math.max(10, height - curveTop - 8),
  };
};

Slicer.prototype.pointerAt = function (event) {
  var rect = this.canvas.getBoundingClientRect();
  var duration = this.duration();
  if (!rect.width || !duration) {
    return null;
  }
  var x = clamp(event.clientX - rect.left, 0, rect.width);
  var y = event.clientY - rect.top;
  var box = this.layout(rect.width, rect.height);
  var zone = "wave";
  if (y >= box.stripTop - 3 && y <= box.stripTop + STRIP_H + 3) {
    zone = "strip";
  } else if (y > box.stripTop + STRIP_H) {
    zone = "curve";
  }
  return { x: x, zone: zone, time: (x / rect.width) * duration };
};

/* ---------------------------------------------------------------- drawing */
Slicer.prototype.invalidate = function () {
  this.dirty = true;
  this.draw();
};

Slicer.prototype.draw = function () {
  var self = this;
  if (this.drawQueued) {
    return;
  }
  this.drawQueued = true;
  requestAnimationFrame(function () {
    self.drawQueued = false;
    self.render();
  });
};

Slicer.prototype.render = function () {
  var canvas = this.canvas;
  var width = canvas.clientWidth;
  var height = canvas.clientHeight;
  var now = this.currentTime();
  this.timeEl.textContent = formatTime(now, true);
  if (!width || !height) {
    return;
  }
  var dpr = window.devicePixelRatio || 1;
  var pixelWidth = Math.round(width * dpr);
  var pixelHeight = Math.round(height * dpr);
  if (canvas.width !== pixelWidth || canvas.height !== pixelHeight) {
    canvas.width = pixelWidth;
    canvas.height = pixelHeight;
    this.layer.width = pixelWidth;
    this.layer.height = pixelHeight;
    this.dirty = true;
  }
  var box = this.layout(width, height);
  if (this.dirty) {
    this.dirty = false;
    this.layerCtx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.layerCtx.clearRect(0, 0, width, height);
    this.paintLayer(this.layerCtx, box);
  }
  var ctx = this.ctx;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, pixelWidth, pixelHeight);
  ctx.drawImage(this.layer, 0, 0);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);

  var duration = this.duration();
  var colors = this.colors;
  if (duration) {
    var headX = clamp((now / duration) * width, 0, width);
    ctx.fillStyle = colors.head;
    ctx.fillRect(Math.min(width - 2, Math.max(0, headX - 1)), 0, 2, height);
  }
  var hover = this.hover;
  if (hover && duration) {
    ctx.fillStyle = colors.hover;
    ctx.fillRect(Math.round(hover.x), 0, 1, height);
    var text = formatTime(hover.time, true);
    if (hover.zone === "strip") {
      var i = this.sliceAt(hover.time);
      if (i >= 0) {
        var bounds = this.sliceBounds(i);
        text = "Slice " + (i + 1) + " · " + (bounds.end - bounds.start).toFixed(2) + " s";
      }
    }
    this.hoverEl.textContent = text;
    this.hoverEl.style.left = hover.x + "px"; // CSSOM from this script: allowed by the CSP
    this.hoverEl.hidden = false;
  } else {
    this.hoverEl.hidden = true;
  }
};

Slicer.prototype.paintLayer = function (ctx, box) {
  var colors = this.colors;
  var width = box.width;
  var duration = this.duration();
  var xOf = function (seconds) {
    return duration ? (seconds / duration) * width : 0;
  };
  var hoverSlice = this.hoverSlice;
  var focus = this.auditioning >= 0 ? this.auditioning : hoverSlice;

  // The waveform: bars from the peaks, mirrored; the focused slice lighter.
  var mid = box.waveH / 2;
  var reach = mid - 4;
  var path = peakBars(this.peaks, width, mid, reach);
  ctx.fillStyle = colors.grid;
  ctx.fillRect(0, box.curveTop + box.curveH, width, 1);
  ctx.fillStyle = colors.wave;
  ctx.fill(path);
  if (focus >= 0 && focus < this.markers.length) {
    var focused = this.sliceBounds(focus);
    ctx.save();
    ctx.beginPath();
    ctx.rect(xOf(focused.start), 0, Math.max(1, xOf(focused.end) - xOf(focused.start)), box.waveH);
    ctx.clip();
    ctx.fillStyle = colors.waveSlice;
    ctx.fill(path);
    ctx.restore();
  }

  // The strip: one block per slice, numbered where there is room.
  ctx.font = "600 11px " + getComputedStyle(document.body).fontFamily;
  ctx.textBaseline = "middle";
  for (var s = 0; s < this.markers.length; s++) {
    var bounds = this.sliceBounds(s);
    var x0 = xOf(bounds.start);
    var x1 = Math.max(x0 + 1, xOf(bounds.end));
    ctx.fillStyle = s === this.auditioning ? colors.stripPlay : s === hoverSlice ? colors.stripHover : s % 2 ? colors.stripAlt : colors.strip;
    ctx.fillRect(x0, box.stripTop, Math.max(1, x1 - x0 - 1), STRIP_H);
    if (x1 - x0 > 22) {
      ctx.fillStyle = colors.stripText;
      ctx.fillText(String(s + 1), x0 + 5, box.stripTop + STRIP_H / 2, x1 - x0 - 8);
    }
  }

  // Markers through the waveform and the strip.
  ctx.fillStyle = colors.marker;
  for (var m = 0; m < this.markers.length; m++) {
    ctx.fillRect(Math.round(xOf(this.markers[m])), 0, 1, box.stripTop + STRIP_H);
  }

  // The onset-strength curve, a dot per candidate at its strength, and the threshold.
  var data = this.data;
  var yOf = function (value) {
    return box.curveTop + box.curveH * (1 - clamp(value, 0, 1));
  };
  if (data && data.curve && data.curve.length) {
    var hop = Number(data.curve_hop) || duration / data.curve.length;
    ctx.beginPath();
    ctx.moveTo(0, yOf(0));
    for (var c = 0; c < data.curve.length; c++) {
      ctx.lineTo(xOf(c * hop), yOf(data.curve[c]));
    }
    ctx.lineTo(xOf(data.curve.length * hop), yOf(0));
    ctx.closePath();
    ctx.fillStyle = colors.curve;
    ctx.fill();
    ctx.strokeStyle = colors.curveLine;
    ctx.lineWidth = 1;
    ctx.stroke();
  }
  var candidates = this.candidates;
  if (candidates) {
    var options = this.current || this.options();
    var accepted = candidates.accepted(Math.max(0, options.minLength), options.silenceDb);
    var silence = f32(options.silenceDb);
    var on = new Uint8Array(candidates.size);
    this.chosen.forEach(function (i) {
      on[i] = 1;
    });
    for (var k = 0; k < candidates.size; k++) {
      if (!(candidates.levels[k] >= silence)) {
        continue; // below the silence threshold: never a slice
      }
      var x = xOf(candidates.times[k]);
      var y = yOf(candidates.strengths[k]);
      ctx.fillStyle = on[k] ? colors.dotOn : colors.dot;
      ctx.globalAlpha = on[k] || accepted[k] ? 1 : 0.45;
      ctx.beginPath();
      ctx.arc(x, y, on[k] ? 2.5 : 1.6, 0, Math.PI * 2);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    var thresholdY = Math.round(yOf(1 - options.sensitivity)) + 0.5;
    ctx.strokeStyle = colors.threshold;
    ctx.setLineDash([4, 4]);
    ctx.beginPath();
    ctx.moveTo(0, thresholdY);
    ctx.lineTo(width, thresholdY);
    ctx.stroke();
    ctx.setLineDash([]);
  }
};

var slicerRoot = document.querySelector("[data-slicer]");
var slicerForm = document.querySelector("[data-slicer-form]");
if (slicerRoot && slicerForm && !slicerRoot.classList.contains("is-enhanced")) {
  slicerRoot.stemcrateSlicer = new Slicer(slicerRoot, slicerForm);
}
