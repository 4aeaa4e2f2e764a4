/*
 * The waveform player on a track's page: section[data-player] in templates/library/track.html.
 *
 * Draws the analysis peaks (json_script "peaks", 0..1) mirrored around the centre on a HiDPI canvas, the part
 * already played in the accent colour, beats as ticks ("beats", seconds). Click or drag on the waveform to seek.
 * Keys: Space plays/pauses (unless a form control has focus), Left/Right seek 5 s, Home/End on the waveform.
 * With no peaks yet (not analysed), a flat line stands in and playback and seeking still work.
 * Without this script the <audio> element keeps the browser's own controls.
 */
import { playOrReport, peakBars } from "./lib/audio.js";
import { cssVars, isActivatable, isFormControl, readJson } from "./lib/dom.js";
import { clamp, formatTime } from "./lib/format.js";

var SEEK_STEP = 5;

function readArray(id) {
  var value = readJson(id, []);
  return Array.isArray(value) ? value : [];
}

function Player(root) {
  this.root = root;
  this.audio = root.querySelector("[data-player-audio]");
  this.ui = root.querySelector("[data-player-ui]");
  this.button = root.querySelector("[data-player-toggle]");
  this.timeEl = document.getElementById("player-time");
  this.totalEl = root.querySelector("[data-player-total]");
  this.wave = root.querySelector("[data-player-wave]");
  this.canvas = root.querySelector("[data-player-canvas]");
  this.hover = root.querySelector("[data-player-hover]");
  this.errorEl = root.querySelector("[data-player-error]");
  this.ctx = this.canvas.getContext("2d");
  this.peaks = readArray("peaks").map(function (v) {
    return clamp(Number(v) || 0, 0, 1);
  });
  this.beats = readArray("beats").filter(function (v) {
    return isFinite(v);
  });
  this.knownDuration = parseFloat(root.getAttribute("data-duration")) || 0;
  this.hoverX = null;
  this.dragging = false;
  this.pendingSeek = null;
  this.frame = 0;
  this.colors = null;
  this.lastSliderUpdate = 0;

  this.audio.controls = false;
  this.ui.hidden = false;
  root.classList.add("is-enhanced");
  this.bind();
  this.readColors();
  if (this.audio.readyState >= 1) {
    this.onMetadata(); // the metadata arrived before this script ran
  }
  this.render();
}

Player.prototype.duration = function () {
  var d = this.audio.duration;
  return isFinite(d) && d > 0 ? d : this.knownDuration;
};

Player.prototype.currentTime = function () {
  return this.pendingSeek !== null ? this.pendingSeek : this.audio.currentTime || 0;
};

Player.prototype.readColors = function () {
  var pick = cssVars(this.wave);
  this.colors = {
    idle: pick("--wave-idle", "rgba(154, 161, 178, 0.38)"),
    playedTop: pick("--wave-played-top", "#b3a6ff"),
    playedBottom: pick("--wave-played-bottom", "#7c6cf6"),
    head: pick("--wave-head", "#e8eaf0"),
    beat: pick("--wave-beat", "rgba(154, 161, 178, 0.22)"),
    downbeat: pick("--wave-downbeat", "rgba(180, 170, 255, 0.55)"),
    hover: pick("--wave-hover", "rgba(232, 234, 240, 0.5)"),
  };
};

Player.prototype.bind = function () {
  var self = this;
  var audio = this.audio;

  this.button.addEventListener("click", function () {
    self.toggle();
  });

  audio.addEventListener("play", function () {
    self.root.classList.add("is-playing");
    self.button.setAttribute("aria-label", "Pause");
    self.loop();
  });
  audio.addEventListener("pause", function () {
    self.root.classList.remove("is-playing");
    self.button.setAttribute("aria-label", "Play");
    self.render();
  });
  audio.addEventListener("ended", function () {
    self.root.classList.remove("is-playing");
    self.button.setAttribute("aria-label", "Play");
    self.render();
  });
  audio.addEventListener("loadedmetadata", function () {
    self.onMetadata();
    self.render();
  });
  ["seeked", "timeupdate", "durationchange"].forEach(function (name) {
    audio.addEventListener(name, function () {
      if (audio.paused) {
        self.render();
      }
    });
  });
  audio.addEventListener("error", function () {
    self.showError(
      "This browser cannot play the file as uploaded. A playable preview is made during analysis; " +
        "you can still download the original."
    );
  });

  // Seek by clicking or dragging on the waveform.
  var wave = this.wave;
  wave.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) {
      return;
    }
    self.dragging = true;
    wave.setPointerCapture(event.pointerId);
    wave.classList.add("is-dragging");
    self.seekToX(event.clientX);
    event.preventDefault();
    wave.focus({ preventScroll: true });
  });
  wave.addEventListener("pointermove", function (event) {
    self.hoverX = event.clientX;
    if (self.dragging) {
      self.seekToX(event.clientX);
    } else {
      self.render();
    }
  });
  function endDrag(event) {
    if (!self.dragging) {
      return;
    }
    self.dragging = false;
    wave.classList.remove("is-dragging");
    if (wave.hasPointerCapture && wave.hasPointerCapture(event.pointerId)) {
      wave.releasePointerCapture(event.pointerId);
    }
  }
  wave.addEventListener("pointerup", endDrag);
  wave.addEventListener("pointercancel", endDrag);
  wave.addEventListener("pointerleave", function () {
    if (!self.dragging) {
      self.hoverX = null;
      self.render();
    }
  });
  wave.addEventListener("keydown", function (event) {
    if (event.key === "Home") {
      event.preventDefault();
      self.seekTo(0);
    } else if (event.key === "End") {
      event.preventDefault();
      self.seekTo(self.duration());
    }
  });

  // Space and the arrow keys anywhere on the page, except where the key means something else.
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isFormControl(event.target)) {
      return;
    }
    if (event.key === " " || event.code === "Space") {
      if (isActivatable(event.target)) {
        return; // Space presses these itself (the play button included)
      }
      event.preventDefault(); // no page scroll
      if (!event.repeat) {
        self.toggle();
      }
    } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      event.preventDefault();
      self.seekTo(self.currentTime() + (event.key === "ArrowLeft" ? -SEEK_STEP : SEEK_STEP));
    }
  });

  if (window.ResizeObserver) {
    new ResizeObserver(function () {
      self.render();
    }).observe(this.wave);
  } else {
    window.addEventListener("resize", function () {
      self.render();
    });
  }
  // devicePixelRatio changes when the window moves to another screen or the page is zoomed.
  window.addEventListener("resize", function () {
    self.render();
  });
};

Player.prototype.onMetadata = function () {
  if (this.pendingSeek !== null) {
    this.audio.currentTime = clamp(this.pendingSeek, 0, this.duration());
    this.pendingSeek = null;
  }
  this.totalEl.textContent = formatTime(this.duration(), true);
  this.wave.setAttribute("aria-valuemax", String(Math.round(this.duration())));
};

Player.prototype.toggle = function () {
  if (this.audio.paused || this.audio.ended) {
    playOrReport(this.audio, this.showError.bind(this));
  } else {
    this.audio.pause();
  }
};

Player.prototype.showError = function (text) {
  this.errorEl.textContent = text;
  this.errorEl.hidden = false;
};

Player.prototype.seekTo = function (seconds) {
  var duration = this.duration();
  if (!duration) {
    return;
  }
  var target = clamp(seconds, 0, duration);
  if (this.audio.readyState >= 1) {
    this.audio.currentTime = target;
    this.pendingSeek = null;
  } else {
    // No metadata yet: remember the position and apply it once the browser knows the file.
    this.pendingSeek = target;
    if (this.audio.preload === "none" || this.audio.networkState === 0) {
      this.audio.load();
    }
  }
  this.render();
};

Player.prototype.seekToX = function (clientX) {
  var rect = this.canvas.getBoundingClientRect();
  if (!rect.width) {
    return;
  }
  var fraction = clamp((clientX - rect.left) / rect.width, 0, 1);
  this.seekTo(fraction * this.duration());
};

Player.prototype.loop = function () {
  var self = this;
  cancelAnimationFrame(this.frame);
  function tick() {
    self.render();
    if (!self.audio.paused && !self.audio.ended) {
      self.frame = requestAnimationFrame(tick);
    }
  }
  this.frame = requestAnimationFrame(tick);
};

Player.prototype.render = function () {
  var now = this.currentTime();
  var duration = this.duration();
  this.timeEl.textContent = formatTime(now, true);
  var stamp = Date.now();
  if (stamp - this.lastSliderUpdate > 250 || this.audio.paused) {
    this.lastSliderUpdate = stamp;
    this.wave.setAttribute("aria-valuenow", String(Math.round(now)));
    this.wave.setAttribute("aria-valuetext", formatTime(now, false) + " of " + formatTime(duration, false));
  }
  this.draw(duration ? now / duration : 0, duration);
};

Player.prototype.draw = function (fraction, duration) {
  var canvas = this.canvas;
  var ctx = this.ctx;
  var width = canvas.clientWidth;
  var height = canvas.clientHeight;
  if (!width || !height) {
    return;
  }
  var dpr = window.devicePixelRatio || 1;
  var pixelWidth = Math.round(width * dpr);
  var pixelHeight = Math.round(height * dpr);
  if (canvas.width !== pixelWidth || canvas.height !== pixelHeight) {
    canvas.width = pixelWidth;
    canvas.height = pixelHeight;
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);

  var colors = this.colors;
  var mid = height / 2;
  var reach = mid - 10; // room for the beat ticks above and below
  var progressX = clamp(fraction, 0, 1) * width;

  // The shape, as one path: bars from the peaks, or a flat line while there are none.
  var path = peakBars(this.peaks, width, mid, reach);

  ctx.fillStyle = colors.idle;
  ctx.fill(path);
  if (progressX > 0) {
    var gradient = ctx.createLinearGradient(0, mid - reach, 0, mid + reach);
    gradient.addColorStop(0, colors.playedTop);
    gradient.addColorStop(0.5, colors.playedBottom);
    gradient.addColorStop(1, colors.playedTop);
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, 0, progressX, height);
    ctx.clip();
    ctx.fillStyle = gradient;
    ctx.fill(path);
    ctx.restore();
  }

  // Beats: a tick at the top and bottom edge, every fourth one taller; only when they are not a blur.
  if (this.beats.length > 1 && duration) {
    var spacing = (width * (this.beats[1] - this.beats[0])) / duration;
    if (spacing >= 3) {
      for (var b = 0; b < this.beats.length; b++) {
        var x = Math.round((this.beats[b] / duration) * width) + 0.5;
        var down = b % 4 === 0;
        var size = down ? 6 : 3;
        ctx.fillStyle = down ? colors.downbeat : colors.beat;
        ctx.fillRect(x, 0, 1, size);
        ctx.fillRect(x, height - size, 1, size);
      }
    }
  }

  // The playhead.
  if (duration) {
    ctx.fillStyle = colors.head;
    ctx.fillRect(Math.min(width - 2, Math.max(0, progressX - 1)), 4, 2, height - 8);
  }

  // Where a click would seek to.
  if (this.hoverX !== null && !this.dragging && duration) {
    var rect = canvas.getBoundingClientRect();
    var hx = clamp(this.hoverX - rect.left, 0, width);
    ctx.fillStyle = colors.hover;
    ctx.fillRect(Math.round(hx), 0, 1, height);
    this.hover.textContent = formatTime((hx / width) * duration, false);
    this.hover.style.left = hx + "px"; // CSSOM from this script: allowed by the CSP
    this.hover.hidden = false;
  } else {
    this.hover.hidden = true;
  }
};

document.querySelectorAll("[data-player]").forEach(function (root) {
  if (!root.classList.contains("is-enhanced")) {
    root.stemcratePlayer = new Player(root);
  }
});
