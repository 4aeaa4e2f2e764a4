/*
 * The multi-stem player on a track's page: article[data-stems-player] in the "stems" partial of
 * templates/library/track.html, one per stem set.
 *
 * One <audio data-stem-audio> per stem, all driven by one transport: a shared play/pause button, a seek bar
 * (input[type=range]) and a clock. Play starts every stem at the same position (once they can all play); every
 * 250 ms a stem that drifted more than 50 ms from the first one is put back in place. Per stem: Mute (M) and
 * Solo (S) toggles (aria-pressed; while any stem is soloed only soloed stems are heard, and mute always wins),
 * a volume slider, a pan slider, a level meter, and a checkbox choosing it for the "Download mix" link, whose
 * ?stems= list, gain.<stem> (dB) and pan.<stem> are rebuilt on every change, so the server's mix-down sounds
 * like what is heard (the server pre-renders the link with every stem but the vocals).
 *
 * Pan and the meters need Web Audio: on the first play each <audio> is routed through a GainNode (volume,
 * mute and solo), a StereoPannerNode and an AnalyserNode (the meter's peak level, drawn every frame).
 * Until then, or where Web Audio is missing, volume and mute act on the elements themselves.
 *
 * Keys, while focus is inside the stems panel (#stems): Space plays/pauses the stems (unless the focused
 * control uses Space itself), Left/Right seek 5 s. They are handled in the capture phase and marked
 * defaultPrevented, which static/js/player.js respects, so the track's own player does not react as well.
 * Only one thing plays at a time: starting the stems pauses the track player and other stem sets, and
 * starting any other audio pauses the stems.
 *
 * htmx swaps the panel (polling during a separation, deleting a set): new sets are set up on htmx:load; sets
 * that stay keep their DOM (hx-preserve), and with it their state and playback.
 * Without this script every stem keeps the browser's own audio controls.
 */
import { isActivatable, isTextControl, matching } from "./lib/dom.js";
import { clamp, formatTime } from "./lib/format.js";

var DRIFT_LIMIT = 0.05; // seconds
var SYNC_MS = 250;
var RESYNC_COOLDOWN_MS = 750; // a stem just put back in place gets time to settle before the next correction
var START_WAIT_MS = 4000; // longest wait for every stem to be ready before starting anyway
var SEEK_STEP = 5;

var players = [];

function gainDb(volume) {
  return volume > 0 ? Math.max(-60, 20 * Math.log10(volume)) : -60;
}

function panText(value) {
  if (Math.abs(value) < 0.005) {
    return "centre";
  }
  return Math.round(Math.abs(value) * 100) + "% " + (value < 0 ? "left" : "right");
}

function StemsPlayer(root) {
  var self = this;
  this.root = root;
  this.toggleButton = root.querySelector("[data-stems-toggle]");
  this.transport = root.querySelector("[data-stems-transport]");
  this.timeEl = root.querySelector("[data-stems-time]");
  this.totalEl = root.querySelector("[data-stems-total]");
  this.seek = root.querySelector("[data-stems-seek]");
  this.errorEl = root.querySelector("[data-stems-error]");
  this.mixLink = root.querySelector("[data-stem-mix-link]");
  this.mixSummary = root.querySelector("[data-stem-mix-summary]");
  this.knownDuration = parseFloat(root.getAttribute("data-duration")) || 0;
  this.stems = Array.prototype.map.call(root.querySelectorAll("[data-stem]"), function (row) {
    return {
      row: row,
      name: row.getAttribute("data-stem-name"),
      label: (row.querySelector(".stem-name") || row).textContent.trim(),
      audio: row.querySelector("[data-stem-audio]"),
      mute: row.querySelector("[data-stem-mute]"),
      solo: row.querySelector("[data-stem-solo]"),
      volume: row.querySelector("[data-stem-volume]"),
      pan: row.querySelector("[data-stem-pan]"),
      meter: row.querySelector("[data-stem-meter]"),
      pick: row.querySelector("[data-stem-mix]"),
      gainNode: null,
      panNode: null,
      analyser: null,
      muted: false,
      soloed: false,
      resyncedAt: 0,
    };
  });
  this.audios = this.stems.map(function (stem) {
    return stem.audio;
  });
  this.master = this.audios[0];
  this.playing = false; // what the user asked for; the elements follow
  this.scrubbing = false;
  this.pendingSeek = null;
  this.startToken = 0;
  this.syncTimer = 0;
  this.frame = 0;
  this.context = null; // the Web Audio graph, made on the first play (browsers start audio on a gesture)

  if (!this.master || !this.toggleButton || !this.seek) {
    return;
  }
  this.audios.forEach(function (audio) {
    audio.controls = false;
  });
  Array.prototype.forEach.call(root.querySelectorAll("[data-stems-transport], [data-stem-controls], [data-stem-pick]"), function (el) {
    el.hidden = false;
  });
  root.classList.add("is-enhanced");
  this.bind();
  if (this.master.readyState >= 1) {
    this.onMetadata();
  }
  this.applyAudibility();
  this.stems.forEach(function (stem) {
    self.paintRange(stem.volume, stem.volume ? parseFloat(stem.volume.value) : 1, 1);
  });
  this.updateMix();
  this.render();
}

StemsPlayer.prototype.duration = function () {
  var d = this.master.duration;
  return isFinite(d) && d > 0 ? d : this.knownDuration;
};

StemsPlayer.prototype.position = function () {
  return this.pendingSeek !== null ? this.pendingSeek : this.master.currentTime || 0;
};

StemsPlayer.prototype.bind = function () {
  var self = this;

  this.toggleButton.addEventListener("click", function () {
    self.toggle();
  });

  this.master.addEventListener("loadedmetadata", function () {
    self.onMetadata();
    self.render();
  });
  this.master.addEventListener("ended", function () {
    self.pause();
  });
  ["seeked", "timeupdate", "durationchange"].forEach(function (name) {
    self.master.addEventListener(name, function () {
      if (!self.playing) {
        self.render();
      }
    });
  });
  this.audios.forEach(function (audio) {
    audio.addEventListener("error", function () {
      self.showError("A stem could not be loaded. Reload the page to try again; the downloads still work.");
    });
  });

  // The seek bar: follows playback, except while it is being dragged.
  var seek = this.seek;
  seek.addEventListener("pointerdown", function () {
    self.scrubbing = true;
  });
  ["pointerup", "pointercancel", "change", "blur"].forEach(function (name) {
    seek.addEventListener(name, function () {
      self.scrubbing = false;
    });
  });
  seek.addEventListener("input", function () {
    self.seekTo(parseFloat(seek.value) || 0);
  });

  this.stems.forEach(function (stem) {
    if (stem.mute) {
      stem.mute.addEventListener("click", function () {
        stem.muted = !stem.muted;
        self.applyAudibility();
      });
    }
    if (stem.solo) {
      stem.solo.addEventListener("click", function () {
        stem.soloed = !stem.soloed;
        self.applyAudibility();
      });
    }
    if (stem.volume) {
      stem.volume.addEventListener("input", function () {
        var value = clamp(parseFloat(stem.volume.value) || 0, 0, 1);
        stem.volume.setAttribute("aria-valuetext", Math.round(value * 100) + "%");
        self.paintRange(stem.volume, value, 1);
        self.applyAudibility();
        self.updateMix();
      });
    }
    if (stem.pan) {
      stem.pan.addEventListener("input", function () {
        var value = clamp(parseFloat(stem.pan.value) || 0, -1, 1);
        stem.pan.setAttribute("aria-valuetext", panText(value));
        if (stem.panNode) {
          stem.panNode.pan.value = value;
        }
        self.updateMix();
      });
      stem.pan.addEventListener("dblclick", function () {
        stem.pan.value = "0";
        stem.pan.dispatchEvent(new Event("input"));
      });
    }
    if (stem.pick) {
      stem.pick.addEventListener("change", function () {
        self.updateMix();
      });
    }
  });
};

StemsPlayer.prototype.onMetadata = function () {
  var duration = this.duration();
  this.seek.max = String(duration);
  this.totalEl.textContent = formatTime(duration, true);
  if (this.pendingSeek !== null) {
    var target = this.pendingSeek;
    this.audios.forEach(function (audio) {
      if (audio.readyState >= 1) {
        audio.currentTime = target;
      }
    });
    this.pendingSeek = null;
  }
};

/* ------------------------------------------------------------ transport */
StemsPlayer.prototype.toggle = function () {
  if (this.playing) {
    this.pause();
  } else {
    this.play();
  }
};

StemsPlayer.prototype.play = function () {
  var self = this;
  if (this.playing) {
    return;
  }
  var duration = this.duration();
  var start = this.position();
  if (this.master.ended || (duration && start >= duration - 0.05)) {
    start = 0;
  }
  this.playing = true;
  this.ensureGraph();
  this.errorEl.hidden = true;
  this.root.classList.add("is-playing");
  this.toggleButton.setAttribute("aria-label", "Pause stems");
  // One thing plays at a time: the track player and other stem sets stop.
  Array.prototype.forEach.call(document.querySelectorAll("audio"), function (audio) {
    if (!self.root.contains(audio) && !audio.paused) {
      audio.pause();
    }
  });
  this.pendingSeek = null;
  this.audios.forEach(function (audio) {
    if (audio.readyState >= 1 && Math.abs(audio.currentTime - start) > 0.01) {
      audio.currentTime = start;
    } else if (audio.readyState < 1 && (audio.preload === "none" || audio.networkState === 0)) {
      audio.load();
    }
  });
  this.startWhenReady(start);
  this.loop();
};

/* Start every stem together, once each has data at `start` (or after START_WAIT_MS, whatever is ready). */
StemsPlayer.prototype.startWhenReady = function (start) {
  var self = this;
  var token = ++this.startToken;
  var began = Date.now();
  this.root.classList.add("is-buffering");
  function ready() {
    return self.audios.every(function (audio) {
      return audio.readyState >= 3 && !audio.seeking;
    });
  }
  function go() {
    if (token !== self.startToken || !self.playing) {
      return;
    }
    if (!ready() && Date.now() - began < START_WAIT_MS) {
      window.setTimeout(go, 40);
      return;
    }
    self.root.classList.remove("is-buffering");
    self.audios.forEach(function (audio) {
      if (audio.readyState >= 1 && Math.abs(audio.currentTime - start) > DRIFT_LIMIT) {
        audio.currentTime = start;
      }
      var playing = audio.play();
      if (playing && playing.catch) {
        playing.catch(function (error) {
          if (error && error.name !== "AbortError" && token === self.startToken) {
            self.showError("Playback did not start: " + (error.message || error.name) + ".");
            self.pause();
          }
        });
      }
    });
    window.clearInterval(self.syncTimer);
    self.syncTimer = window.setInterval(function () {
      self.sync();
    }, SYNC_MS);
  }
  go();
};

StemsPlayer.prototype.pause = function () {
  this.startToken++;
  this.playing = false;
  window.clearInterval(this.syncTimer);
  cancelAnimationFrame(this.frame);
  this.root.classList.remove("is-playing", "is-buffering");
  this.toggleButton.setAttribute("aria-label", "Play stems");
  this.audios.forEach(function (audio) {
    audio.pause();
  });
  // Paused, every stem waits at the same position.
  var at = this.master.currentTime || 0;
  this.audios.forEach(function (audio) {
    if (audio.readyState >= 1 && Math.abs(audio.currentTime - at) > 0.01) {
      audio.currentTime = at;
    }
  });
  this.render();
};

/* Drift correction: the first stem is the clock; any other more than DRIFT_LIMIT away is put back. */
StemsPlayer.prototype.sync = function () {
  if (!this.root.isConnected) {
    this.pause();
    return;
  }
  if (!this.playing || this.master.paused || this.master.seeking) {
    return;
  }
  var master = this.master.currentTime;
  var now = Date.now();
  var duration = this.duration();
  this.stems.forEach(function (stem) {
    var audio = stem.audio;
    if (audio === this.master || audio.seeking || audio.readyState < 1) {
      return;
    }
    if (audio.ended || (audio.paused && master < duration - 0.1)) {
      if (master < (isFinite(audio.duration) ? audio.duration : duration) - 0.1) {
        audio.currentTime = master;
        audio.play().catch(function () {});
      }
      return;
    }
    if (Math.abs(audio.currentTime - master) > DRIFT_LIMIT && now - stem.resyncedAt > RESYNC_COOLDOWN_MS) {
      stem.resyncedAt = now;
      audio.currentTime = master;
    }
  }, this);
};

StemsPlayer.prototype.seekTo = function (seconds) {
  var duration = this.duration();
  if (!duration) {
    return;
  }
  var target = clamp(seconds, 0, duration);
  if (this.master.readyState >= 1) {
    this.audios.forEach(function (audio) {
      if (audio.readyState >= 1) {
        audio.currentTime = target;
      }
    });
    this.pendingSeek = null;
  } else {
    this.pendingSeek = target; // applied once the browser knows the files
  }
  this.stems.forEach(function (stem) {
    stem.resyncedAt = Date.now();
  });
  // While playing, each stem resumes by itself after the seek; sync() evens out what is left.
  this.render(target);
};

/* ---------------------------------------------------- mute, solo, mix */
StemsPlayer.prototype.applyAudibility = function () {
  var anySolo = this.stems.some(function (stem) {
    return stem.soloed;
  });
  this.root.classList.toggle("has-solo", anySolo);
  this.stems.forEach(function (stem) {
    var audible = !stem.muted && (!anySolo || stem.soloed);
    var volume = stem.volume ? clamp(parseFloat(stem.volume.value) || 0, 0, 1) : 1;
    if (stem.gainNode) {
      stem.gainNode.gain.value = audible ? volume : 0;
    } else {
      stem.audio.muted = !audible;
      stem.audio.volume = volume;
    }
    stem.row.setAttribute("data-gain", String(audible ? volume : 0)); // what is heard (the tests read it)
    stem.row.classList.toggle("is-muted", stem.muted);
    stem.row.classList.toggle("is-soloed", stem.soloed);
    stem.row.classList.toggle("is-silent", !audible);
    if (stem.mute) {
      stem.mute.setAttribute("aria-pressed", String(stem.muted));
    }
    if (stem.solo) {
      stem.solo.setAttribute("aria-pressed", String(stem.soloed));
    }
  });
};

StemsPlayer.prototype.updateMix = function () {
  if (!this.mixLink) {
    return;
  }
  var picked = this.stems.filter(function (stem) {
    return stem.pick && stem.pick.checked;
  });
  var base = this.mixLink.getAttribute("data-mix-base");
  if (picked.length) {
    var names = picked.map(function (stem) {
      return encodeURIComponent(stem.name);
    });
    var settings = "";
    picked.forEach(function (stem) {
      var volume = stem.volume ? clamp(parseFloat(stem.volume.value) || 0, 0, 1) : 1;
      var pan = stem.pan ? clamp(parseFloat(stem.pan.value) || 0, -1, 1) : 0;
      if (volume < 1) {
        settings += "&gain." + encodeURIComponent(stem.name) + "=" + gainDb(volume).toFixed(1);
      }
      if (pan !== 0) {
        settings += "&pan." + encodeURIComponent(stem.name) + "=" + pan.toFixed(2);
      }
    });
    this.mixLink.setAttribute("href", base + "?stems=" + names.join(",") + settings);
    this.mixLink.removeAttribute("aria-disabled");
    this.mixLink.classList.remove("is-disabled");
  } else {
    this.mixLink.removeAttribute("href");
    this.mixLink.setAttribute("aria-disabled", "true");
    this.mixLink.classList.add("is-disabled");
  }
  if (this.mixSummary) {
    this.mixSummary.textContent = picked.length
      ? picked
          .map(function (stem) {
            return stem.label;
          })
          .join(" + ") + ", rendered as one WAV"
      : "Tick “In mix” on at least one stem.";
  }
};

/* -------------------------------------------------------------- drawing */
StemsPlayer.prototype.showError = function (text) {
  this.errorEl.textContent = text;
  this.errorEl.hidden = false;
};

// The filled part of a range input: a custom property read by app.css (CSSOM, allowed by the CSP).
StemsPlayer.prototype.paintRange = function (input, value, max) {
  if (input) {
    input.style.setProperty("--fill", (max ? clamp((value / max) * 100, 0, 100) : 0).toFixed(2) + "%");
  }
};

/* Route every stem through gain, pan and a meter; once, on the first play (a user gesture). */
StemsPlayer.prototype.ensureGraph = function () {
  var Context = window.AudioContext || window.webkitAudioContext;
  if (this.context || !Context) {
    if (this.context && this.context.state === "suspended") {
      this.context.resume();
    }
    return;
  }
  var context = new Context();
  this.context = context;
  this.stems.forEach(function (stem) {
    var source = context.createMediaElementSource(stem.audio);
    stem.gainNode = context.createGain();
    stem.panNode = context.createStereoPanner();
    stem.panNode.pan.value = stem.pan ? clamp(parseFloat(stem.pan.value) || 0, -1, 1) : 0;
    stem.analyser = context.createAnalyser();
    stem.analyser.fftSize = 1024;
    stem.levels = new Float32Array(stem.analyser.fftSize);
    stem.audio.muted = false;
    stem.audio.volume = 1;
    source.connect(stem.gainNode);
    stem.gainNode.connect(stem.panNode);
    stem.panNode.connect(stem.analyser);
    stem.analyser.connect(context.destination);
  });
  this.applyAudibility();
};

/* The meters: each stem's peak over the last analyser window, in dBFS mapped onto -60..0, held briefly. */
StemsPlayer.prototype.drawMeters = function () {
  this.stems.forEach(function (stem) {
    if (!stem.meter || !stem.analyser) {
      return;
    }
    stem.analyser.getFloatTimeDomainData(stem.levels);
    var peak = 0;
    for (var i = 0; i < stem.levels.length; i++) {
      peak = Math.max(peak, Math.abs(stem.levels[i]));
    }
    var db = peak > 0 ? 20 * Math.log10(peak) : -Infinity;
    var fill = this.playing ? clamp((db + 60) / 60, 0, 1) : 0;
    stem.shown = Math.max(fill, (stem.shown || 0) - 0.02); // falls at ~1.2 units a second
    stem.meter.style.setProperty("--level", (stem.shown * 100).toFixed(1) + "%");
    stem.meter.setAttribute("data-level-db", isFinite(db) ? db.toFixed(1) : "-inf");
    stem.meter.classList.toggle("is-hot", db > -1);
  }, this);
};

StemsPlayer.prototype.loop = function () {
  var self = this;
  cancelAnimationFrame(this.frame);
  function tick() {
    self.render();
    self.drawMeters();
    if (self.playing && self.root.isConnected) {
      self.frame = requestAnimationFrame(tick);
    }
  }
  this.frame = requestAnimationFrame(tick);
};

StemsPlayer.prototype.render = function (at) {
  var now = at !== undefined ? at : this.position();
  var duration = this.duration();
  this.timeEl.textContent = formatTime(now, true);
  if (!this.scrubbing) {
    this.seek.value = String(now);
  }
  this.seek.setAttribute("aria-valuetext", formatTime(now, false) + " of " + formatTime(duration, false));
  this.paintRange(this.seek, this.scrubbing ? parseFloat(this.seek.value) || 0 : now, duration);
};

/* ----------------------------------------------------------- page-wide */
function playerFor(target) {
  var panel = target && target.closest && target.closest("#stems");
  if (!panel) {
    return null;
  }
  var root = target.closest("[data-stems-player]") || panel.querySelector("[data-stems-player].is-enhanced");
  return root && root.stemcrateStems ? root.stemcrateStems : null;
}

// Capture phase: runs before player.js's own document listener, which skips events already handled.
document.addEventListener(
  "keydown",
  function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTextControl(event.target, ["range"])) {
      return;
    }
    var player = playerFor(event.target);
    if (!player) {
      return;
    }
    if (event.key === " " || event.code === "Space") {
      if (isActivatable(event.target)) {
        return; // Space presses these itself (play, M, S, the checkboxes)
      }
      event.preventDefault(); // no page scroll, and player.js leaves it alone
      if (!event.repeat) {
        player.toggle();
      }
    } else if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && !event.target.closest("input")) {
      // (A focused slider keeps its own arrow keys; player.js ignores those anyway.)
      event.preventDefault();
      player.seekTo(player.position() + (event.key === "ArrowLeft" ? -SEEK_STEP : SEEK_STEP));
    }
  },
  true
);

// Any other audio starting (the track player, another stem set) pauses the stems that are playing.
document.addEventListener(
  "play",
  function (event) {
    players = players.filter(function (player) {
      return player.root.isConnected;
    });
    players.forEach(function (player) {
      if (player.playing && !player.root.contains(event.target)) {
        player.pause();
      }
    });
  },
  true
);

function init(root) {
  matching(root, "[data-stems-player]").forEach(function (el) {
    if (!el.classList.contains("is-enhanced")) {
      el.stemcrateStems = new StemsPlayer(el);
      players.push(el.stemcrateStems);
    }
  });
}

document.addEventListener("htmx:load", function (event) {
  init(event.detail.elt);
});

init(document);
