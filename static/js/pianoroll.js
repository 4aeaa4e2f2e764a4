/*
 * The piano roll on a MIDI clip's page: section[data-roll] in midi/templates/midi/midi.html.
 *
 * Reads the notes ("midi-notes": [start s, end s, MIDI pitch, velocity] rows) and the clip's facts
 * ("midi-config": bpm, duration) and draws them on a HiDPI canvas: keys on the left (C rows named), notes as
 * bars shaded by velocity, bar and beat lines at the clip's tempo (bars counted from 0 s, as the .mid file's
 * grid is), the playhead. The pitch range is fitted to the notes; time zooms and scrolls (an overview strip
 * below shows the whole clip and the window on it).
 *
 * The <audio> element (the stem, or the mix) is the clock. A small WebAudio synth plays the notes: a look-ahead
 * scheduler, every TICK_MS, books the notes that start within LOOKAHEAD s on the AudioContext clock, mapped from
 * audio.currentTime through a smoothed offset, so the notes stay on the audio's beat however the timers jitter.
 * Modes: notes only (the audio plays muted, as the clock), notes over the audio, the audio only.
 *
 * Mouse: click the roll to play from there, drag (or scroll sideways) to move, Ctrl + wheel to zoom, click a
 * key to hear it. Keys: Space play/pause, Left/Right a bar, Home, + and - zoom, 0 fit, F follow the playhead.
 * Without this script the <audio> keeps the browser's own controls.
 *
 * A drum part ("midi-config" drums: true, lanes: [[GM drum note, name], ...] top to bottom, from the drum_midi
 * job's clip) is drawn as drum lanes instead of keys: one named row per lane (a note the lanes do not name gets
 * a row of its own), a gutter as wide as the longest name, each hit a diamond of a fixed size at its start
 * (a drum note is a trigger: its stored 0.1 s length means nothing), shaded by velocity and lit as it sounds.
 * The synth plays a small Web Audio drum per lane instead of the pitched voice: a sine drop (kick, toms),
 * filtered noise (hats, cymbals), noise and tone (snare, clap), short tones (side stick, cowbell). Clicking a
 * lane name plays its drum, and so does each button of the lane list under the roll ([data-roll-lanes], which
 * is also what a screen reader reads). The root gets data-roll-mode ("drums" or "keys"), data-roll-lanes (the
 * names, "|"-joined), data-roll-hits (the hits placed in lanes), data-roll-drawn (the hits the last frame drew)
 * and data-auditions (the keys or lanes sounded by hand), which the browser tests read.
 */
import { playOrReport } from "./lib/audio.js";
import { cssVars, isTextControl, readJson, readStored, writeStored } from "./lib/dom.js";
import { clamp, formatTime } from "./lib/format.js";

var GUTTER = 58; // the keys, px
var RULER = 22; // bar numbers, px
var MIN_ROWS = 25; // two octaves at least, so a one-note clip still reads as a keyboard
var ROW_MIN = 7;
var ROW_MAX = 18;
var VIEW_MIN = 260;
var VIEW_MAX = 560;
var MIN_PPS = 4; // pixels per second
var MAX_PPS = 1600;
var ZOOM_STEP = 1.5;
var FOLLOW_AT = 0.4; // where the playhead stays while the view follows it, as a fraction of the width
var LOOKAHEAD = 0.15; // s of notes booked ahead on the audio clock
var TICK_MS = 25;
var MAX_VOICES = 64;
var NAMES = ["C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"];
var BLACK = [false, true, false, true, false, false, true, false, true, false, true, false];
var MODE_KEY = "stemcrate.roll.mode";
// Drum parts: one named lane per General MIDI drum note, hits drawn as diamonds of a fixed size (a drum note is
// a trigger; its stored length means nothing), lanes taller than keys.
var DRUM_ROW = 30; // px a lane wants
var DRUM_ROW_MAX = 44;
var DRUM_MIN_VIEW = 150;
var DRUM_HIT_S = 0.12; // how long a hit shows lit after it starts
var DRUM_LATE_S = 0.06; // a hit the scheduler reaches this late still sounds (the first tick after play)
var GUTTER_MIN_DRUMS = 84;
var GUTTER_MAX_DRUMS = 132;
// The General MIDI drum map's names, for a note the page's lanes do not name.
var GM_DRUMS = { 35: "Kick 2", 40: "Snare 2", 52: "China", 53: "Ride bell", 54: "Tambourine", 55: "Splash", 57: "Crash 2", 59: "Ride 2" };

function noteName(pitch) {
  return NAMES[((pitch % 12) + 12) % 12] + (Math.floor(pitch / 12) - 1);
}

function rgb(color) {
  // "#52b8f5" or "rgb(82, 184, 245)" -> [82, 184, 245]
  var text = String(color || "").trim();
  var hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(text);
  if (hex) {
    var h = hex[1].length === 3 ? hex[1].replace(/(.)/g, "$1$1") : hex[1];
    return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
  }
  var parts = text.match(/[\d.]+/g);
  return parts && parts.length >= 3 ? parts.slice(0, 3).map(Number) : [180, 170, 255];
}

function rgba(c, alpha) {
  return "rgba(" + c[0] + ", " + c[1] + ", " + c[2] + ", " + alpha.toFixed(3) + ")";
}

/* --------------------------------------------------------------- synth */
function Synth() {
  this.ctx = null;
  this.master = null;
  this.voices = [];
}

/* The AudioContext, made on the first gesture that needs it (browsers start it suspended otherwise). */
Synth.prototype.ensure = function () {
  if (!this.ctx) {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) {
      return null;
    }
    this.ctx = new Context();
    var compressor = this.ctx.createDynamicsCompressor();
    compressor.threshold.value = -18;
    compressor.ratio.value = 4;
    this.master = this.ctx.createGain();
    this.master.gain.value = 0.55;
    this.master.connect(compressor);
    compressor.connect(this.ctx.destination);
  }
  if (this.ctx.state === "suspended") {
    this.ctx.resume();
  }
  return this.ctx;
};

/* One note: a sawtooth through a low-pass that opens with the velocity, and a pluck-then-sustain envelope. */
Synth.prototype.play = function (pitch, velocity, when, duration) {
  var ctx = this.ctx;
  if (!ctx) {
    return false;
  }
  var now = ctx.currentTime;
  this.voices = this.voices.filter(function (voice) {
    return voice.end > now;
  });
  if (this.voices.length >= MAX_VOICES) {
    return false;
  }
  var start = Math.max(when, now);
  var length = Math.max(0.04, duration - (start - when));
  var level = 0.04 + 0.22 * Math.pow(clamp(velocity, 1, 127) / 127, 1.4);
  var frequency = 440 * Math.pow(2, (pitch - 69) / 12);

  var osc = ctx.createOscillator();
  osc.type = "sawtooth";
  osc.frequency.value = frequency;
  var sub = ctx.createOscillator();
  sub.type = "triangle";
  sub.frequency.value = frequency;
  var filter = ctx.createBiquadFilter();
  filter.type = "lowpass";
  filter.Q.value = 0.8;
  var bright = Math.min(9000, Math.max(700, frequency * (2.5 + 5 * (velocity / 127))));
  filter.frequency.setValueAtTime(bright, start);
  filter.frequency.setTargetAtTime(Math.max(500, bright * 0.45), start + 0.02, 0.25);
  var gain = ctx.createGain();
  var g = gain.gain;
  var release = 0.08;
  var end = start + length;
  g.setValueAtTime(0, start);
  g.linearRampToValueAtTime(level, start + 0.006);
  g.setTargetAtTime(level * 0.55, start + 0.01, 0.18);
  g.setTargetAtTime(0, end, release / 3);

  osc.connect(filter);
  sub.connect(filter);
  filter.connect(gain);
  gain.connect(this.master);
  osc.start(start);
  sub.start(start);
  osc.stop(end + release + 0.05);
  sub.stop(end + release + 0.05);
  var voice = { sources: [osc, sub], gain: gain, end: end + release + 0.05 };
  osc.onended = function () {
    gain.disconnect();
  };
  this.voices.push(voice);
  return true;
};

/* A second of white noise, made once: the body of every hat, cymbal, snare and clap. */
Synth.prototype.noise = function () {
  if (!this.noiseBuffer) {
    var ctx = this.ctx;
    var buffer = ctx.createBuffer(1, ctx.sampleRate, ctx.sampleRate);
    var data = buffer.getChannelData(0);
    for (var i = 0; i < data.length; i++) {
      data[i] = Math.random() * 2 - 1;
    }
    this.noiseBuffer = buffer;
  }
  return this.noiseBuffer;
};

/* What a General MIDI drum note sounds like here: "kick", "tom", "snare", "clap", "rim", "hat", "openhat",
 * "crash", "ride" or "cowbell". */
function drumKind(pitch) {
  if (pitch === 35 || pitch === 36) {
    return "kick";
  }
  if (pitch === 37) {
    return "rim";
  }
  if (pitch === 38 || pitch === 40) {
    return "snare";
  }
  if (pitch === 39) {
    return "clap";
  }
  if (pitch === 42 || pitch === 44) {
    return "hat";
  }
  if (pitch === 46) {
    return "openhat";
  }
  if ([41, 43, 45, 47, 48, 50].indexOf(pitch) >= 0) {
    return "tom";
  }
  if (pitch === 51 || pitch === 53 || pitch === 59) {
    return "ride";
  }
  if (pitch === 56) {
    return "cowbell";
  }
  return "crash"; // 49, 52, 55, 57 and anything else: a wash of noise
}

/* One drum hit at `when`: a pitched sine drop (kick, toms), filtered noise (hats, cymbals), both (snare, clap),
 * or a short tone (rim, cowbell). Louder and brighter with the velocity. */
Synth.prototype.drum = function (pitch, velocity, when) {
  var ctx = this.ctx;
  if (!ctx) {
    return false;
  }
  var now = ctx.currentTime;
  this.voices = this.voices.filter(function (voice) {
    return voice.end > now;
  });
  if (this.voices.length >= MAX_VOICES) {
    return false;
  }
  var self = this;
  var start = Math.max(when, now);
  var v = clamp(velocity, 1, 127) / 127;
  var level = 0.08 + 0.5 * Math.pow(v, 1.3);
  var kind = drumKind(pitch);
  var out = ctx.createGain();
  out.gain.value = 1;
  out.connect(this.master);
  var sources = []; // every source of the hit, for stopAll
  var pending = []; // those started at `start` and stopped at the end of the longest envelope
  var end = start;

  function envelope(peak, decay) {
    var gain = ctx.createGain();
    gain.gain.setValueAtTime(0, start);
    gain.gain.linearRampToValueAtTime(peak, start + 0.002);
    gain.gain.exponentialRampToValueAtTime(0.0008, start + decay);
    gain.connect(out);
    end = Math.max(end, start + decay);
    return gain;
  }
  function tone(type, from, to, drop, peak, decay) {
    var osc = ctx.createOscillator();
    osc.type = type;
    osc.frequency.setValueAtTime(from, start);
    if (to !== from) {
      osc.frequency.exponentialRampToValueAtTime(to, start + drop);
    }
    osc.connect(envelope(peak, decay));
    pending.push(osc);
  }
  function noise(filterType, frequency, q, peak, decay) {
    var source = ctx.createBufferSource();
    source.buffer = self.noise();
    source.loop = true;
    var filter = ctx.createBiquadFilter();
    filter.type = filterType;
    filter.frequency.value = frequency;
    filter.Q.value = q;
    source.connect(filter);
    filter.connect(envelope(peak, decay));
    pending.push(source);
  }

  if (kind === "kick") {
    tone("sine", 150, 45, 0.12, level * 1.4, 0.4);
  } else if (kind === "tom") {
    // 41 (low floor) ... 50 (high): 80 Hz to 200 Hz.
    var f = 80 * Math.pow(2, (pitch - 41) / 7.5);
    tone("sine", f * 1.6, f, 0.1, level * 1.1, 0.45);
  } else if (kind === "snare") {
    tone("triangle", 240, 170, 0.05, level * 0.6, 0.12);
    noise("highpass", 1400, 0.7, level * 0.8, 0.2);
  } else if (kind === "clap") {
    // Three quick bursts and a tail, the way hands never quite clap together.
    [0, 0.012, 0.024].forEach(function (lag) {
      var burst = ctx.createBufferSource();
      burst.buffer = self.noise();
      var band = ctx.createBiquadFilter();
      band.type = "bandpass";
      band.frequency.value = 1200;
      band.Q.value = 1.2;
      var gain = ctx.createGain();
      gain.gain.setValueAtTime(0, start + lag);
      gain.gain.linearRampToValueAtTime(level, start + lag + 0.001);
      gain.gain.exponentialRampToValueAtTime(0.0008, start + lag + 0.03);
      burst.connect(band);
      band.connect(gain);
      gain.connect(out);
      burst.start(start + lag);
      burst.stop(start + lag + 0.04);
      sources.push(burst);
    });
    noise("bandpass", 1100, 0.9, level * 0.6, 0.22);
  } else if (kind === "rim") {
    tone("square", 820, 820, 0, level * 0.35, 0.05);
    noise("bandpass", 3000, 1.5, level * 0.4, 0.03);
  } else if (kind === "hat") {
    noise("highpass", 7500, 0.6, level * 0.7, 0.06);
  } else if (kind === "openhat") {
    noise("highpass", 7000, 0.6, level * 0.6, 0.35);
  } else if (kind === "ride") {
    tone("sine", 3100, 3100, 0, level * 0.12, 0.7);
    noise("highpass", 5000, 0.5, level * 0.3, 0.6);
  } else if (kind === "cowbell") {
    var bell = ctx.createBiquadFilter();
    bell.type = "bandpass";
    bell.frequency.value = 800;
    bell.Q.value = 2;
    var ring = envelope(level * 0.35, 0.3);
    ring.disconnect();
    ring.connect(bell);
    bell.connect(out);
    [540, 800].forEach(function (frequency) {
      var osc = ctx.createOscillator();
      osc.type = "square";
      osc.frequency.value = frequency;
      osc.connect(ring);
      pending.push(osc);
    });
  } else {
    noise("highpass", 4000, 0.5, level * 0.55, 1.2);
  }

  pending.forEach(function (source) {
    source.start(start);
    source.stop(end + 0.05);
    sources.push(source);
  });
  pending[0].onended = function () {
    out.disconnect();
  };
  this.voices.push({ sources: sources, gain: out, end: end + 0.05 });
  return true;
};

/* Silence everything booked or sounding, with a short fade (no click). */
Synth.prototype.stopAll = function () {
  if (!this.ctx) {
    return;
  }
  var now = this.ctx.currentTime;
  this.voices.forEach(function (voice) {
    voice.gain.gain.cancelScheduledValues(now);
    voice.gain.gain.setTargetAtTime(0, now, 0.01);
    voice.sources.forEach(function (source) {
      try {
        source.stop(now + 0.06);
      } catch (error) {
        // not started yet, or already stopped: either way silent
      }
    });
  });
  this.voices = [];
};

/* ---------------------------------------------------------------- roll */
function Roll(root) {
  var self = this;
  this.root = root;
  this.audio = root.querySelector("[data-roll-audio]");
  this.ui = root.querySelector("[data-roll-ui]");
  this.toggleButton = root.querySelector("[data-roll-toggle]");
  this.timeEl = root.querySelector("[data-roll-time]");
  this.totalEl = root.querySelector("[data-roll-total]");
  this.barEl = root.querySelector("[data-roll-bar]");
  this.view = root.querySelector("[data-roll-view]");
  this.canvas = root.querySelector("[data-roll-canvas]");
  this.tip = root.querySelector("[data-roll-tip]");
  this.overview = root.querySelector("[data-roll-overview]");
  this.overviewCanvas = root.querySelector("[data-roll-overview-canvas]");
  this.zoomLabel = root.querySelector("[data-roll-zoom-label]");
  this.followButton = root.querySelector("[data-roll-follow]");
  this.errorEl = root.querySelector("[data-roll-error]");
  this.ctx = this.canvas.getContext("2d");
  this.octx = this.overviewCanvas.getContext("2d");

  var config = readJson("midi-config", {}) || {};
  this.bpm = Number(config.bpm) > 0 ? Number(config.bpm) : 120;
  this.beat = 60 / this.bpm;
  this.bar = this.beat * 4;
  this.notes = (readJson("midi-notes", []) || [])
    .filter(function (n) {
      return Array.isArray(n) && n.length >= 4 && isFinite(n[0]) && isFinite(n[1]) && isFinite(n[2]);
    })
    .map(function (n) {
      var start = Number(n[0]);
      return { start: start, end: Math.max(start + 0.01, Number(n[1])), pitch: Math.round(n[2]), velocity: Number(n[3]) || 80 };
    })
    .sort(function (a, b) {
      return a.start - b.start || a.pitch - b.pitch;
    });
  this.longest = this.notes.reduce(function (m, n) {
    return Math.max(m, n.end - n.start);
  }, 0);
  this.lastEnd = this.notes.reduce(function (m, n) {
    return Math.max(m, n.end);
  }, 0);
  this.knownDuration = Math.max(Number(config.duration) || 0, this.lastEnd);
  this.drums = config.drums === true;
  this.gutter = GUTTER;
  if (this.drums) {
    this.setLanes(config.lanes);
  } else {
    this.fitPitches();
  }
  this.root.setAttribute("data-roll-mode", this.drums ? "drums" : "keys");

  this.synth = new Synth();
  this.mode = "both";
  this.playing = false;
  this.follow = true;
  this.pps = 0;
  this.viewStart = 0;
  this.width = 0;
  this.height = 0;
  this.hover = null; // {x, y}
  this.pressedKey = null;
  this.frame = 0;
  this.timer = 0;
  this.nextNote = 0;
  this.offset = null; // AudioContext time minus media time, smoothed
  this.scheduled = 0;
  this.drag = null;

  this.audio.controls = false;
  this.ui.hidden = false;
  root.classList.add("is-enhanced");
  this.readColors();
  if (this.drums) {
    this.measureGutter();
    this.buildLaneList();
  }
  this.layout(true);
  this.bind();
  this.restoreMode();
  if (this.audio.readyState >= 1) {
    this.onMetadata();
  }
  if ("ResizeObserver" in window) {
    new ResizeObserver(function () {
      self.layout(false);
      self.draw();
    }).observe(this.view);
  } else {
    window.addEventListener("resize", function () {
      self.layout(false);
      self.draw();
    });
  }
  this.draw();
}

/* A drum part's rows: the page's lanes (top to bottom), then a lane for any note they do not name. */
Roll.prototype.setLanes = function (lanes) {
  var self = this;
  this.lanes = [];
  this.laneOf = {};
  function add(pitch, name) {
    if (self.laneOf[pitch] === undefined) {
      self.laneOf[pitch] = self.lanes.length;
      self.lanes.push({ pitch: pitch, name: name, hits: 0 });
    }
  }
  (Array.isArray(lanes) ? lanes : []).forEach(function (lane) {
    if (Array.isArray(lane) && lane.length >= 2 && isFinite(lane[0])) {
      add(Math.round(lane[0]), String(lane[1]));
    }
  });
  this.notes.forEach(function (n) {
    add(n.pitch, GM_DRUMS[n.pitch] || "Note " + n.pitch);
    self.lanes[self.laneOf[n.pitch]].hits++;
  });
  if (!this.lanes.length) {
    add(36, "Kick");
  }
  this.lo = 0;
  this.hi = 127;
};

/* The gutter wide enough for the longest lane name. */
Roll.prototype.measureGutter = function () {
  var ctx = this.ctx;
  ctx.font = "600 12px " + this.colors.font;
  var widest = this.lanes.reduce(function (m, lane) {
    return Math.max(m, ctx.measureText(lane.name).width);
  }, 0);
  this.gutter = Math.round(clamp(widest + 24, GUTTER_MIN_DRUMS, GUTTER_MAX_DRUMS));
};

/* The lanes as buttons under the roll: each plays its drum (the keyboard's way to audition a lane, and a list a
 * screen reader can read), with its number of hits. */
Roll.prototype.buildLaneList = function () {
  var self = this;
  var list = this.root.querySelector("[data-roll-lanes]");
  if (!list) {
    return;
  }
  list.textContent = "";
  this.lanes.forEach(function (lane) {
    var item = document.createElement("li");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "roll-lane";
    button.setAttribute("data-lane-pitch", String(lane.pitch));
    button.setAttribute("data-lane-hits", String(lane.hits));
    button.title = "Hear the " + lane.name.toLowerCase() + " (note " + lane.pitch + ")";
    var name = document.createElement("span");
    name.className = "roll-lane-name";
    name.textContent = lane.name;
    var hits = document.createElement("span");
    hits.className = "roll-lane-hits";
    hits.textContent = lane.hits + (lane.hits === 1 ? " hit" : " hits");
    button.append(name, hits);
    button.addEventListener("click", function () {
      self.previewKey(lane.pitch);
    });
    item.append(button);
    list.append(item);
  });
  this.root.setAttribute(
    "data-roll-lanes",
    this.lanes
      .map(function (lane) {
        return lane.name;
      })
      .join("|")
  );
  this.root.setAttribute(
    "data-roll-hits",
    String(
      this.lanes.reduce(function (m, lane) {
        return m + lane.hits;
      }, 0)
    )
  );
};

/* The rows shown: the notes' range with a little room, at least MIN_ROWS, within MIDI's 0-127. */
Roll.prototype.fitPitches = function () {
  var lo = 48;
  var hi = 72;
  if (this.notes.length) {
    lo = Infinity;
    hi = -Infinity;
    this.notes.forEach(function (n) {
      lo = Math.min(lo, n.pitch);
      hi = Math.max(hi, n.pitch);
    });
    lo -= 2;
    hi += 2;
  }
  while (hi - lo + 1 < MIN_ROWS) {
    lo -= 1;
    if (hi - lo + 1 < MIN_ROWS) {
      hi += 1;
    }
  }
  this.lo = clamp(lo, 0, 127);
  this.hi = clamp(hi, this.lo, 127);
};

Roll.prototype.readColors = function () {
  var pick = cssVars(this.view);
  var overview = cssVars(this.overview);
  this.colors = {
    bg: pick("--roll-bg", "#0f1117"),
    rowBlack: pick("--roll-row-black", "rgba(0,0,0,0.28)"),
    rowLine: pick("--roll-row-line", "rgba(255,255,255,0.03)"),
    rowC: pick("--roll-row-c", "rgba(255,255,255,0.1)"),
    sixteenth: pick("--roll-sixteenth", "rgba(255,255,255,0.025)"),
    beat: pick("--roll-beat", "rgba(255,255,255,0.06)"),
    bar: pick("--roll-bar", "rgba(180,170,255,0.26)"),
    ruler: pick("--roll-ruler", "#171a22"),
    rulerText: pick("--roll-ruler-text", "#9aa1b2"),
    keyWhite: pick("--roll-key-white", "#c9cdd8"),
    keyBlack: pick("--roll-key-black", "#1d2029"),
    keyLine: pick("--roll-key-line", "rgba(11,12,16,0.35)"),
    keyText: pick("--roll-key-text", "#4a5064"),
    keyCText: pick("--roll-key-c-text", "#0b0c10"),
    note: rgb(pick("--roll-note", "#b4aaff")),
    noteActive: pick("--roll-note-active", "#ffffff"),
    head: pick("--roll-head", "#f4f5f8"),
    hover: pick("--roll-hover", "rgba(232,234,240,0.32)"),
    hoverRow: pick("--roll-hover-row", "rgba(255,255,255,0.035)"),
    font: getComputedStyle(document.body).fontFamily,
    mono: (getComputedStyle(this.barEl || this.view).fontFamily || "monospace"),
    oBg: overview("--overview-bg", "#0f1117"),
    oWindow: overview("--overview-window", "rgba(124,108,246,0.16)"),
    oEdge: overview("--overview-window-edge", "rgba(180,170,255,0.75)"),
    oHead: overview("--overview-head", "#f4f5f8"),
  };
};

/* ---------------------------------------------------------- geometry */
Roll.prototype.duration = function () {
  var d = this.audio.duration;
  return Math.max(isFinite(d) && d > 0 ? d : this.knownDuration, this.lastEnd, 0.5);
};

Roll.prototype.position = function () {
  return this.audio.currentTime || 0;
};

Roll.prototype.rows = function () {
  return this.drums ? this.lanes.length : this.hi - this.lo + 1;
};

/* The top of a pitch's row, in canvas px. */
Roll.prototype.rowTop = function (pitch) {
  return RULER + (this.drums ? this.laneOf[pitch] : this.hi - pitch) * this.rowH;
};

Roll.prototype.laneWidth = function () {
  return Math.max(10, this.width - this.gutter);
};

Roll.prototype.visibleSeconds = function () {
  return this.laneWidth() / this.pps;
};

/* Sizes the canvases for the box and the device pixel ratio; the roll's height follows its rows. */
Roll.prototype.layout = function (first) {
  var rows = this.rows();
  var wanted = clamp(Math.round(rows * 14 + RULER), VIEW_MIN, VIEW_MAX);
  if (this.drums) {
    // A few lanes grow up to DRUM_ROW_MAX each rather than leave the roll's bottom empty.
    // (With no hits, room for the page's "no hits" note.)
    var least = this.notes.length ? Math.min(DRUM_MIN_VIEW, rows * DRUM_ROW_MAX + RULER + 2) : DRUM_MIN_VIEW;
    wanted = clamp(Math.round(rows * DRUM_ROW + RULER), least, VIEW_MAX);
  }
  if (window.matchMedia && window.matchMedia("(max-width: 720px)").matches) {
    wanted = clamp(wanted, this.drums ? Math.min(wanted, DRUM_MIN_VIEW) : VIEW_MIN, 340);
  }
  this.view.style.height = wanted + "px"; // CSSOM: allowed by the CSP, unlike a style attribute
  var rect = this.view.getBoundingClientRect();
  var ratio = window.devicePixelRatio || 1;
  this.width = Math.max(120, rect.width - 2);
  this.height = Math.max(120, rect.height - 2);
  // A drum part's lanes fill the height chosen for them above; a keyboard's rows stay within their limits.
  this.rowH = this.drums ? Math.max(ROW_MIN, (this.height - RULER) / rows) : clamp((this.height - RULER) / rows, ROW_MIN / 2, ROW_MAX * 2);
  this.canvas.width = Math.round(this.width * ratio);
  this.canvas.height = Math.round(this.height * ratio);
  this.ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  var orect = this.overview.getBoundingClientRect();
  this.owidth = Math.max(60, orect.width - 2);
  this.oheight = Math.max(20, orect.height - 2);
  this.overviewCanvas.width = Math.round(this.owidth * ratio);
  this.overviewCanvas.height = Math.round(this.oheight * ratio);
  this.octx.setTransform(ratio, 0, 0, ratio, 0, 0);
  if (first || !this.pps) {
    // Eight bars (or the whole clip when shorter) across the lane to begin with.
    this.setZoom(this.laneWidth() / Math.min(this.duration(), 8 * this.bar), 0);
  } else {
    this.setZoom(this.pps, this.viewStart);
  }
};

Roll.prototype.minPps = function () {
  return Math.max(MIN_PPS, Math.min(this.laneWidth() / this.duration(), 40));
};

Roll.prototype.setZoom = function (pps, viewStart) {
  this.pps = clamp(pps, this.minPps(), MAX_PPS);
  this.setViewStart(viewStart);
  this.updateZoomLabel();
};

Roll.prototype.setViewStart = function (seconds) {
  var max = Math.max(0, this.duration() - this.visibleSeconds());
  this.viewStart = clamp(seconds, 0, max);
  this.root.setAttribute("data-view-start", this.viewStart.toFixed(2));
};

/* Zoom by a factor, keeping the time under `anchorX` (a lane x) where it is. */
Roll.prototype.zoomBy = function (factor, anchorX) {
  var x = anchorX;
  if (x === undefined) {
    var head = (this.position() - this.viewStart) * this.pps;
    x = head >= 0 && head <= this.laneWidth() ? head : this.laneWidth() / 2;
  }
  var at = this.viewStart + x / this.pps;
  var pps = clamp(this.pps * factor, this.minPps(), MAX_PPS);
  this.setZoom(pps, at - x / pps);
  this.draw();
};

Roll.prototype.fit = function () {
  this.setZoom(this.laneWidth() / this.duration(), 0);
  this.draw();
};

Roll.prototype.updateZoomLabel = function () {
  if (!this.zoomLabel) {
    return;
  }
  var bars = this.visibleSeconds() / this.bar;
  var text = bars >= 10 ? Math.round(bars) + " bars" : bars >= 1 ? (Math.round(bars * 2) / 2).toString() + " bar" + (bars >= 1.25 ? "s" : "") : Math.max(1, Math.round(bars * 4)) + "/4 bar";
  this.zoomLabel.textContent = text;
  this.zoomLabel.title = formatTime(this.visibleSeconds(), true) + " visible";
  var zoomIn = this.root.querySelector("[data-roll-zoom='in']");
  var zoomOut = this.root.querySelector("[data-roll-zoom='out']");
  if (zoomIn) {
    zoomIn.disabled = this.pps >= MAX_PPS - 1e-6;
  }
  if (zoomOut) {
    zoomOut.disabled = this.pps <= this.minPps() + 1e-6;
  }
};

Roll.prototype.timeAt = function (clientX) {
  var rect = this.canvas.getBoundingClientRect();
  return this.viewStart + (clientX - rect.left - this.gutter) / this.pps;
};

Roll.prototype.pitchAt = function (clientY) {
  var rect = this.canvas.getBoundingClientRect();
  var y = clientY - rect.top - RULER;
  if (y < 0) {
    return null;
  }
  var row = Math.floor(y / this.rowH);
  if (this.drums) {
    return row < this.lanes.length ? this.lanes[row].pitch : null;
  }
  var pitch = this.hi - row;
  return pitch >= this.lo && pitch <= this.hi ? pitch : null;
};

Roll.prototype.noteAt = function (time, pitch) {
  if (this.drums) {
    var reach = this.hitHalf() / this.pps; // s either side of a hit that its diamond covers
    var best = null;
    for (var j = this.firstVisible(time - reach); j < this.notes.length && this.notes[j].start <= time + reach; j++) {
      var hit = this.notes[j];
      if (hit.pitch === pitch && Math.abs(hit.start - time) <= reach && (!best || Math.abs(hit.start - time) < Math.abs(best.start - time))) {
        best = hit;
      }
    }
    return best;
  }
  for (var i = this.firstVisible(time); i < this.notes.length && this.notes[i].start <= time; i++) {
    var n = this.notes[i];
    if (n.pitch === pitch && n.start <= time && time <= n.end) {
      return n;
    }
  }
  return null;
};

/* Half a drum hit's diamond, px: fixed, whatever the zoom. */
Roll.prototype.hitHalf = function () {
  return clamp(this.rowH * 0.34, 4, 9);
};

/* Index of the first note that may still sound at `time` (notes are sorted by start). */
Roll.prototype.firstVisible = function (time) {
  var target = time - this.longest;
  var lo = 0;
  var hi = this.notes.length;
  while (lo < hi) {
    var mid = (lo + hi) >> 1;
    if (this.notes[mid].start < target) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
};

/* ---------------------------------------------------------- binding */
Roll.prototype.bind = function () {
  var self = this;
  var audio = this.audio;

  this.toggleButton.addEventListener("click", function () {
    self.toggle();
  });
  audio.addEventListener("play", function () {
    self.playing = true;
    self.root.classList.add("is-playing");
    self.toggleButton.setAttribute("aria-label", "Pause");
    self.errorEl.hidden = true;
    self.loop();
  });
  audio.addEventListener("playing", function () {
    self.startScheduler();
  });
  audio.addEventListener("pause", function () {
    self.onStop();
  });
  audio.addEventListener("ended", function () {
    self.onStop();
  });
  audio.addEventListener("seeking", function () {
    self.synth.stopAll();
    self.resetSchedule();
  });
  audio.addEventListener("waiting", function () {
    self.synth.stopAll();
    self.offset = null;
  });
  audio.addEventListener("loadedmetadata", function () {
    self.onMetadata();
  });
  ["seeked", "timeupdate", "durationchange"].forEach(function (name) {
    audio.addEventListener(name, function () {
      if (!self.playing) {
        self.draw();
      }
    });
  });
  audio.addEventListener("error", function () {
    self.showError("The audio could not be loaded. The notes still play (“Notes only”), and the .mid file downloads.");
  });

  // Modes: what is heard.
  Array.prototype.forEach.call(this.root.querySelectorAll("[data-roll-modes] input[type='radio']"), function (input) {
    input.addEventListener("change", function () {
      if (input.checked) {
        self.setMode(input.value);
      }
    });
  });

  // Zoom, fit, follow.
  Array.prototype.forEach.call(this.root.querySelectorAll("[data-roll-zoom]"), function (button) {
    button.addEventListener("click", function () {
      self.zoomBy(button.getAttribute("data-roll-zoom") === "in" ? ZOOM_STEP : 1 / ZOOM_STEP);
    });
  });
  var fit = this.root.querySelector("[data-roll-fit]");
  if (fit) {
    fit.addEventListener("click", function () {
      self.fit();
    });
  }
  if (this.followButton) {
    this.followButton.addEventListener("click", function () {
      self.setFollow(!self.follow);
      if (self.follow) {
        self.reveal(self.position());
      }
      self.draw();
    });
  }

  // The roll: click to seek, drag to move, keys to hear.
  var view = this.view;
  view.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) {
      return;
    }
    var rect = self.canvas.getBoundingClientRect();
    var x = event.clientX - rect.left;
    view.focus({ preventScroll: true });
    if (x < self.gutter) {
      var pitch = self.pitchAt(event.clientY);
      if (pitch !== null) {
        self.previewKey(pitch);
      }
      event.preventDefault();
      return;
    }
    self.drag = { x: event.clientX, viewStart: self.viewStart, moved: false, id: event.pointerId };
    view.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  view.addEventListener("pointermove", function (event) {
    var rect = self.canvas.getBoundingClientRect();
    self.hover = { x: event.clientX - rect.left, y: event.clientY - rect.top, clientX: event.clientX, clientY: event.clientY };
    view.classList.toggle("is-over-keys", self.hover.x < self.gutter);
    if (self.drag) {
      var dx = event.clientX - self.drag.x;
      if (!self.drag.moved && Math.abs(dx) > 4) {
        self.drag.moved = true;
        view.classList.add("is-panning");
        self.setFollow(false);
      }
      if (self.drag.moved) {
        self.setViewStart(self.drag.viewStart - dx / self.pps);
      }
    }
    self.updateTip();
    if (!self.playing) {
      self.draw();
    }
  });
  function endDrag(event) {
    if (!self.drag) {
      return;
    }
    var drag = self.drag;
    self.drag = null;
    view.classList.remove("is-panning");
    if (!drag.moved && event.type === "pointerup") {
      self.seekTo(self.timeAt(event.clientX));
      self.setFollow(true);
    }
    self.draw();
  }
  view.addEventListener("pointerup", endDrag);
  view.addEventListener("pointercancel", endDrag);
  view.addEventListener("pointerleave", function () {
    self.hover = null;
    self.tip.hidden = true;
    view.classList.remove("is-over-keys");
    if (!self.playing) {
      self.draw();
    }
  });
  view.addEventListener(
    "wheel",
    function (event) {
      var rect = self.canvas.getBoundingClientRect();
      if (event.ctrlKey || event.metaKey) {
        event.preventDefault();
        var scale = event.deltaMode === 1 ? 40 : 1;
        self.zoomBy(Math.exp(-event.deltaY * scale * 0.0025), Math.max(0, event.clientX - rect.left - self.gutter));
        return;
      }
      var dx = event.deltaX || (event.shiftKey ? event.deltaY : 0);
      if (!dx) {
        return; // a plain vertical wheel scrolls the page
      }
      event.preventDefault();
      self.setFollow(false);
      self.setViewStart(self.viewStart + ((event.deltaMode === 1 ? 40 : 1) * dx) / self.pps);
      self.draw();
    },
    { passive: false }
  );

  // The overview: drag the window, or click to centre it there.
  var overview = this.overview;
  overview.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) {
      return;
    }
    var rect = overview.getBoundingClientRect();
    var time = ((event.clientX - rect.left) / self.owidth) * self.duration();
    var span = self.visibleSeconds();
    var inside = time >= self.viewStart && time <= self.viewStart + span;
    var grab = inside ? time - self.viewStart : span / 2;
    self.setFollow(false);
    self.setViewStart(time - grab);
    self.overviewDrag = { grab: grab };
    overview.setPointerCapture(event.pointerId);
    overview.classList.add("is-dragging");
    event.preventDefault();
    self.draw();
  });
  overview.addEventListener("pointermove", function (event) {
    if (!self.overviewDrag) {
      return;
    }
    var rect = overview.getBoundingClientRect();
    var time = ((event.clientX - rect.left) / self.owidth) * self.duration();
    self.setViewStart(time - self.overviewDrag.grab);
    self.draw();
  });
  function endOverview() {
    self.overviewDrag = null;
    overview.classList.remove("is-dragging");
  }
  overview.addEventListener("pointerup", endOverview);
  overview.addEventListener("pointercancel", endOverview);

  document.addEventListener("keydown", function (event) {
    self.onKey(event);
  });
};

Roll.prototype.onKey = function (event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTextControl(event.target)) {
    return;
  }
  var key = event.key;
  if (key === " " || event.code === "Space") {
    if (event.target === this.toggleButton) {
      return; // the button toggles by itself
    }
    event.preventDefault();
    if (!event.repeat) {
      this.toggle();
    }
  } else if (key === "ArrowLeft" || key === "ArrowRight") {
    if (event.target && event.target.closest && event.target.closest("[data-roll-modes]")) {
      return; // arrows move between the radios
    }
    event.preventDefault();
    var t = this.position();
    var barNow = Math.round(t / this.bar);
    var next = key === "ArrowLeft" ? (Math.abs(t - barNow * this.bar) < 0.05 ? barNow - 1 : Math.floor(t / this.bar)) : Math.floor(t / this.bar + 1e-6) + 1;
    this.seekTo(next * this.bar);
    this.setFollow(true);
  } else if (key === "Home") {
    event.preventDefault();
    this.seekTo(0);
    this.setFollow(true);
  } else if (key === "+" || key === "=") {
    event.preventDefault();
    this.zoomBy(ZOOM_STEP);
  } else if (key === "-" || key === "_") {
    event.preventDefault();
    this.zoomBy(1 / ZOOM_STEP);
  } else if (key === "0") {
    event.preventDefault();
    this.fit();
  } else if (key === "f" || key === "F") {
    event.preventDefault();
    this.setFollow(!this.follow);
    this.draw();
  }
};

Roll.prototype.onMetadata = function () {
  this.totalEl.textContent = formatTime(this.duration(), true);
  this.setZoom(this.pps, this.viewStart);
  this.draw();
};

Roll.prototype.showError = function (text) {
  this.errorEl.textContent = text;
  this.errorEl.hidden = false;
};

/* ------------------------------------------------------- transport */
Roll.prototype.toggle = function () {
  if (this.audio.paused) {
    this.play();
  } else {
    this.audio.pause();
  }
};

Roll.prototype.play = function () {
  if (this.mode !== "stem") {
    this.synth.ensure(); // inside the gesture: browsers allow audio to start here
  }
  if (this.audio.ended || this.position() >= this.duration() - 0.05) {
    this.audio.currentTime = 0;
  }
  playOrReport(this.audio, this.showError.bind(this));
};

Roll.prototype.onStop = function () {
  this.playing = false;
  this.root.classList.remove("is-playing");
  this.toggleButton.setAttribute("aria-label", "Play");
  window.clearInterval(this.timer);
  this.timer = 0;
  this.synth.stopAll();
  cancelAnimationFrame(this.frame);
  this.draw();
};

Roll.prototype.seekTo = function (seconds) {
  var target = clamp(seconds, 0, this.duration());
  this.synth.stopAll();
  this.audio.currentTime = target;
  this.resetSchedule(target);
  this.reveal(target);
  this.draw(target);
};

/* Bring `time` into view if it is not (after a seek, or when following is switched back on). */
Roll.prototype.reveal = function (time) {
  var span = this.visibleSeconds();
  if (time < this.viewStart || time > this.viewStart + span * 0.95) {
    this.setViewStart(time - span * 0.1);
  }
};

Roll.prototype.setFollow = function (on) {
  this.follow = !!on;
  if (this.followButton) {
    this.followButton.setAttribute("aria-pressed", String(this.follow));
  }
};

Roll.prototype.setMode = function (mode) {
  if (["notes", "both", "stem"].indexOf(mode) < 0) {
    mode = "both";
  }
  this.mode = mode;
  this.audio.muted = mode === "notes";
  this.root.setAttribute("data-mode", mode);
  if (mode === "stem") {
    this.synth.stopAll();
  } else if (this.playing) {
    this.synth.ensure();
    this.resetSchedule();
    this.startScheduler();
  }
  writeStored(MODE_KEY, mode);
};

Roll.prototype.restoreMode = function () {
  var mode = readStored(MODE_KEY) || "both";
  var input = this.root.querySelector("[data-roll-modes] input[value='" + mode + "']");
  if (input) {
    input.checked = true;
  }
  this.setMode(input ? mode : "both");
};

Roll.prototype.previewKey = function (pitch) {
  var self = this;
  if (this.synth.ensure() && this.sound(pitch, 96, this.synth.ctx.currentTime + 0.01, 0.45)) {
    this.auditions = (this.auditions || 0) + 1;
    this.root.setAttribute("data-auditions", String(this.auditions)); // a test reads that the key sounded
  }
  this.pressedKey = pitch;
  this.draw();
  window.setTimeout(function () {
    if (self.pressedKey === pitch) {
      self.pressedKey = null;
      self.draw();
    }
  }, 350);
};

/* One note on the synth: a drum hit in a drum part, a pitched note otherwise. */
Roll.prototype.sound = function (pitch, velocity, when, duration) {
  return this.drums ? this.synth.drum(pitch, velocity, when) : this.synth.play(pitch, velocity, when, duration);
};

/* ------------------------------------------------------- scheduler */
Roll.prototype.resetSchedule = function (at) {
  var time = at !== undefined ? at : this.position();
  // The first note that has not ended by `time`; a note already sounding is picked up from where it is.
  var i = this.firstVisible(time);
  while (i < this.notes.length && this.notes[i].end <= time) {
    i++;
  }
  this.nextNote = i;
  this.offset = null;
};

Roll.prototype.startScheduler = function () {
  var self = this;
  window.clearInterval(this.timer);
  if (this.audio.paused) {
    return;
  }
  this.resetSchedule();
  this.schedule();
  this.timer = window.setInterval(function () {
    self.schedule();
  }, TICK_MS);
};

/* Book the notes starting in the next LOOKAHEAD s. media time t plays at context time t / rate + offset. */
Roll.prototype.schedule = function () {
  var ctx = this.synth.ctx;
  var audio = this.audio;
  if (this.mode === "stem" || !ctx || audio.paused || audio.seeking || audio.readyState < 3) {
    return;
  }
  var rate = audio.playbackRate || 1;
  var media = audio.currentTime;
  var raw = ctx.currentTime - media / rate;
  if (this.offset === null || Math.abs(raw - this.offset) > 0.06) {
    this.offset = raw; // (re)anchor: a seek, a stall, or the first tick
  } else {
    this.offset += (raw - this.offset) * 0.05; // smooth out timer and clock jitter
  }
  var horizon = media + LOOKAHEAD * rate;
  var booked = 0;
  while (this.nextNote < this.notes.length && this.notes[this.nextNote].start < horizon) {
    var note = this.notes[this.nextNote++];
    if (note.end <= media) {
      continue;
    }
    var from = Math.max(note.start, media);
    if (this.drums && from - note.start > DRUM_LATE_S) {
      continue; // a seek landed after this hit: it is not struck late (a hit only just missed still sounds)
    }
    if (this.sound(note.pitch, note.velocity, from / rate + this.offset, (note.end - from) / rate)) {
      booked++;
    }
  }
  if (booked) {
    this.scheduled += booked;
    this.root.setAttribute("data-scheduled", String(this.scheduled));
  }
};

/* ----------------------------------------------------------- drawing */
Roll.prototype.loop = function () {
  var self = this;
  cancelAnimationFrame(this.frame);
  function tick() {
    if (!self.playing || !self.root.isConnected) {
      return;
    }
    var t = self.position();
    if (self.follow && !self.drag && !self.overviewDrag) {
      var span = self.visibleSeconds();
      if (t > self.viewStart + span * FOLLOW_AT) {
        self.setViewStart(t - span * FOLLOW_AT);
      } else if (t < self.viewStart) {
        self.setViewStart(t - span * 0.1);
      }
    }
    self.draw(t);
    self.frame = requestAnimationFrame(tick);
  }
  this.frame = requestAnimationFrame(tick);
};

Roll.prototype.updateTip = function () {
  var hover = this.hover;
  if (!hover || hover.y < 0 || (this.drag && this.drag.moved)) {
    this.tip.hidden = true;
    return;
  }
  var rect = this.canvas.getBoundingClientRect();
  var pitch = this.pitchAt(hover.clientY);
  var text;
  if (hover.x < this.gutter) {
    text = pitch !== null ? this.rowName(pitch) + " · click to hear" : "";
  } else {
    var time = this.timeAt(hover.clientX);
    var note = pitch !== null ? this.noteAt(time, pitch) : null;
    if (note && this.drums) {
      text = this.rowName(note.pitch) + " · " + this.barBeat(note.start) + " · " + formatTime(note.start, true) + " · vel " + Math.round(note.velocity);
    } else if (note) {
      text = noteName(note.pitch) + " · " + formatTime(note.start, true) + " · " + Math.round((note.end - note.start) * 1000) + " ms · vel " + Math.round(note.velocity);
    } else {
      text = (pitch !== null ? this.rowName(pitch) + " · " : "") + this.barBeat(Math.max(0, time)) + " · " + formatTime(Math.max(0, time), true);
    }
  }
  if (!text) {
    this.tip.hidden = true;
    return;
  }
  this.tip.textContent = text;
  this.tip.hidden = false;
  var tipWidth = this.tip.offsetWidth;
  var left = clamp(hover.x + 14, 4, rect.width - tipWidth - 4);
  var top = hover.y > 40 ? hover.y - 30 : hover.y + 18;
  this.tip.style.transform = "translate(" + Math.round(left) + "px, " + Math.round(top) + "px)";
};

/* A row's name: the lane's ("Snare") in a drum part, the note's ("C♯3") otherwise. */
Roll.prototype.rowName = function (pitch) {
  return this.drums ? this.lanes[this.laneOf[pitch]].name : noteName(pitch);
};

Roll.prototype.barBeat = function (time) {
  var bar = Math.floor(time / this.bar + 1e-9);
  var beat = Math.floor((time - bar * this.bar) / this.beat + 1e-9);
  return "Bar " + (bar + 1) + "." + (clamp(beat, 0, 3) + 1);
};

Roll.prototype.draw = function (at) {
  var t = at !== undefined ? at : this.position();
  this.drawRoll(t);
  this.drawOverview(t);
  this.timeEl.textContent = formatTime(t, true);
  if (this.barEl) {
    this.barEl.textContent = this.barBeat(t);
  }
  this.root.setAttribute("data-position", t.toFixed(2));
};

function roundRect(ctx, x, y, w, h, r) {
  r = Math.min(r, w / 2, h / 2);
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.lineTo(x + w - r, y);
  ctx.quadraticCurveTo(x + w, y, x + w, y + r);
  ctx.lineTo(x + w, y + h - r);
  ctx.quadraticCurveTo(x + w, y + h, x + w - r, y + h);
  ctx.lineTo(x + r, y + h);
  ctx.quadraticCurveTo(x, y + h, x, y + h - r);
  ctx.lineTo(x, y + r);
  ctx.quadraticCurveTo(x, y, x + r, y);
  ctx.closePath();
}

Roll.prototype.drawRoll = function (t) {
  var ctx = this.ctx;
  var c = this.colors;
  var W = this.width;
  var H = this.height;
  var rowH = this.rowH;
  var lo = this.lo;
  var hi = this.hi;
  var pps = this.pps;
  var start = this.viewStart;
  var end = start + this.visibleSeconds();
  var gutter = this.gutter;
  var drums = this.drums;
  var self = this;
  function xOf(time) {
    return gutter + (time - start) * pps;
  }
  function yOf(pitch) {
    return self.rowTop(pitch);
  }

  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = c.bg;
  ctx.fillRect(0, 0, W, H);

  // Rows: black keys darker, a line under every C; a drum part's lanes striped, a line between them.
  var hoverPitch = this.hover && this.hover.x >= gutter ? this.pitchAt(this.hover.clientY) : null;
  for (var li = 0; drums && li < this.lanes.length; li++) {
    var ly = RULER + li * rowH;
    if (li % 2 === 1) {
      ctx.fillStyle = c.rowBlack;
      ctx.fillRect(gutter, ly, W - gutter, rowH);
    }
    if (this.lanes[li].pitch === hoverPitch) {
      ctx.fillStyle = c.hoverRow;
      ctx.fillRect(gutter, ly, W - gutter, rowH);
    }
    ctx.fillStyle = c.rowC;
    ctx.fillRect(gutter, Math.round(ly + rowH) - 0.5, W - gutter, 1);
  }
  for (var p = lo; !drums && p <= hi; p++) {
    var y = yOf(p);
    if (BLACK[p % 12]) {
      ctx.fillStyle = c.rowBlack;
      ctx.fillRect(gutter, y, W - gutter, rowH);
    }
    if (p === hoverPitch) {
      ctx.fillStyle = c.hoverRow;
      ctx.fillRect(gutter, y, W - gutter, rowH);
    }
    if (p % 12 === 0 || (p % 12 === 5 && rowH >= 9)) {
      ctx.fillStyle = p % 12 === 0 ? c.rowC : c.rowLine;
      ctx.fillRect(gutter, Math.round(y + rowH) - 0.5, W - gutter, 1);
    } else if (rowH >= 11) {
      ctx.fillStyle = c.rowLine;
      ctx.fillRect(gutter, Math.round(y + rowH) - 0.5, W - gutter, 1);
    }
  }

  // The grid: sixteenths when there is room, beats, bars.
  var beatPx = this.beat * pps;
  var barPx = this.bar * pps;
  var step = this.beat / 4;
  var kinds = [];
  if (beatPx / 4 >= 10) {
    kinds.push([step, c.sixteenth]);
  }
  if (beatPx >= 9) {
    kinds.push([this.beat, c.beat]);
  }
  var barEvery = 1;
  while (barPx * barEvery < 10) {
    barEvery *= 2;
  }
  kinds.push([this.bar * barEvery, c.bar]);
  kinds.forEach(function (kind) {
    var every = kind[0];
    ctx.fillStyle = kind[1];
    for (var i = Math.floor(start / every); i * every <= end; i++) {
      var x = Math.round(xOf(i * every)) - 0.5;
      if (x >= gutter) {
        ctx.fillRect(x, RULER, 1, H - RULER);
      }
    }
  });

  // Notes, shaded by velocity; the ones sounding now lit.
  var playing = this.playing || this.audio.currentTime > 0;
  var sounding = {};
  var r = Math.min(3, rowH / 3);
  var labelFont = "600 " + Math.min(11, Math.max(8, Math.floor(rowH * 0.7))) + "px " + c.font;
  if (drums) {
    this.drawHits(t, playing, sounding, xOf);
  }
  for (var i = this.firstVisible(start); !drums && i < this.notes.length; i++) {
    var n = this.notes[i];
    if (n.start > end) {
      break;
    }
    if (n.end < start || n.pitch < lo || n.pitch > hi) {
      continue;
    }
    var x0 = xOf(n.start);
    var x1 = xOf(n.end);
    var w = Math.max(2, x1 - x0 - 1);
    var ny = yOf(n.pitch) + 1;
    var nh = Math.max(2, rowH - 2);
    var v = clamp(n.velocity / 127, 0, 1);
    var active = playing && n.start <= t && t < n.end;
    if (active) {
      sounding[n.pitch] = true;
    }
    roundRect(ctx, x0, ny, w, nh, r);
    ctx.fillStyle = active ? c.noteActive : rgba(c.note, 0.28 + 0.72 * v);
    ctx.fill();
    ctx.strokeStyle = active ? rgba(c.note, 1) : rgba(c.note, 0.55 + 0.45 * v);
    ctx.lineWidth = 1;
    ctx.stroke();
    if (w > 30 && rowH >= 11) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(x0, ny, w, nh);
      ctx.clip();
      ctx.fillStyle = active || v > 0.55 ? "rgba(11, 12, 16, 0.78)" : "rgba(232, 234, 240, 0.8)";
      ctx.font = labelFont;
      ctx.textBaseline = "middle";
      ctx.fillText(noteName(n.pitch), x0 + 4, ny + nh / 2 + 0.5);
      ctx.restore();
    }
  }

  // The hover line.
  if (this.hover && this.hover.x >= gutter && !(this.drag && this.drag.moved)) {
    ctx.fillStyle = c.hover;
    ctx.fillRect(Math.round(this.hover.x) - 0.5, RULER, 1, H - RULER);
  }

  // The ruler: bar numbers, spaced to stay readable.
  ctx.fillStyle = c.ruler;
  ctx.fillRect(0, 0, W, RULER);
  ctx.fillStyle = c.bar;
  ctx.fillRect(0, RULER - 1, W, 1);
  var labelEvery = barEvery;
  while (barPx * labelEvery < 44) {
    labelEvery *= 2;
  }
  ctx.font = "600 11px " + c.mono;
  ctx.textBaseline = "middle";
  for (var b = Math.floor(start / (this.bar * labelEvery)); b * this.bar * labelEvery <= end; b++) {
    var bx = xOf(b * this.bar * labelEvery);
    if (bx >= gutter - 1) {
      ctx.fillStyle = c.bar;
      ctx.fillRect(Math.round(bx) - 0.5, RULER - 7, 1, 7);
      ctx.fillStyle = c.rulerText;
      ctx.fillText(String(b * labelEvery + 1), bx + 4, RULER / 2);
    }
  }

  // The playhead.
  var hx = xOf(t);
  if (hx >= gutter - 1 && hx <= W + 1) {
    ctx.fillStyle = c.head;
    ctx.fillRect(Math.round(hx) - 1, RULER, 2, H - RULER);
    ctx.beginPath();
    ctx.moveTo(hx - 6, 0);
    ctx.lineTo(hx + 6, 0);
    ctx.lineTo(hx + 6, RULER - 8);
    ctx.lineTo(hx, RULER - 1);
    ctx.lineTo(hx - 6, RULER - 8);
    ctx.closePath();
    ctx.fill();
  }

  // The keys, over everything at the left edge.
  ctx.fillStyle = c.ruler;
  ctx.fillRect(0, 0, gutter, RULER);
  var keySize = Math.min(11, Math.max(8, Math.floor(rowH * 0.72))) + "px " + c.font;
  if (drums) {
    this.drawLaneNames(sounding, hoverPitch);
  }
  for (var k = lo; !drums && k <= hi; k++) {
    var ky = yOf(k);
    var black = BLACK[k % 12];
    var lit = sounding[k] || this.pressedKey === k;
    ctx.fillStyle = lit ? rgba(c.note, 1) : black ? c.keyBlack : c.keyWhite;
    ctx.fillRect(0, ky, gutter - 1, rowH);
    ctx.fillStyle = c.keyLine;
    ctx.fillRect(0, Math.round(ky + rowH) - 0.5, gutter - 1, 1);
    var isC = k % 12 === 0;
    if (isC || (!black && rowH >= 13) || lit || k === hoverPitch) {
      ctx.font = (isC ? "700 " : "500 ") + keySize;
      ctx.textBaseline = "middle";
      ctx.textAlign = "right";
      ctx.fillStyle = lit ? "#0b0c10" : black ? "#c9cdd8" : isC ? c.keyCText : c.keyText;
      if (rowH >= 7 || isC) {
        ctx.fillText(noteName(k), gutter - 7, ky + rowH / 2 + 0.5);
      }
      ctx.textAlign = "left";
    }
  }
  ctx.fillStyle = c.bar;
  ctx.fillRect(gutter - 1, 0, 1, H);
};

/* A drum part's hits in view: a diamond of a fixed size at each hit's start, shaded by velocity, lit while it
 * sounds. Counts what it drew (data-roll-drawn), so a test can check that every hit is on the roll. */
Roll.prototype.drawHits = function (t, playing, sounding, xOf) {
  var ctx = this.ctx;
  var c = this.colors;
  var rowH = this.rowH;
  var half = this.hitHalf();
  var reach = half / this.pps;
  var start = this.viewStart - reach;
  var end = this.viewStart + this.visibleSeconds() + reach;
  var halfH = Math.min(half * 1.25, rowH / 2 - 2);
  var drawn = 0;
  for (var i = this.firstVisible(start); i < this.notes.length; i++) {
    var n = this.notes[i];
    if (n.start > end) {
      break;
    }
    if (n.start < start) {
      continue;
    }
    var x = xOf(n.start);
    if (x + half < this.gutter) {
      continue;
    }
    var cy = this.rowTop(n.pitch) + rowH / 2;
    var v = clamp(n.velocity / 127, 0, 1);
    var active = playing && n.start <= t && t < n.start + DRUM_HIT_S;
    if (active) {
      sounding[n.pitch] = true;
    }
    ctx.beginPath();
    ctx.moveTo(x, cy - halfH);
    ctx.lineTo(x + half, cy);
    ctx.lineTo(x, cy + halfH);
    ctx.lineTo(x - half, cy);
    ctx.closePath();
    ctx.fillStyle = active ? c.noteActive : rgba(c.note, 0.25 + 0.75 * v);
    ctx.fill();
    ctx.strokeStyle = active ? rgba(c.note, 1) : rgba(c.note, 0.5 + 0.5 * v);
    ctx.lineWidth = 1;
    ctx.stroke();
    drawn++;
  }
  this.root.setAttribute("data-roll-drawn", String(drawn));
};

/* A drum part's gutter: the lane names, the one sounding (or clicked) lit. */
Roll.prototype.drawLaneNames = function (sounding, hoverPitch) {
  var ctx = this.ctx;
  var c = this.colors;
  var rowH = this.rowH;
  var gutter = this.gutter;
  var size = Math.min(12, Math.max(9, Math.floor(rowH * 0.5)));
  var litKey = [];
  ctx.textBaseline = "middle";
  ctx.textAlign = "left";
  for (var i = 0; i < this.lanes.length; i++) {
    var lane = this.lanes[i];
    var y = RULER + i * rowH;
    var lit = sounding[lane.pitch] || this.pressedKey === lane.pitch;
    if (lit) {
      litKey.push(lane.pitch);
    }
    ctx.fillStyle = lit ? rgba(c.note, 1) : i % 2 ? c.keyBlack : c.ruler;
    ctx.fillRect(0, y, gutter - 1, rowH);
    ctx.fillStyle = c.keyLine;
    ctx.fillRect(0, Math.round(y + rowH) - 0.5, gutter - 1, 1);
    ctx.font = (lit || lane.pitch === hoverPitch ? "700 " : "600 ") + size + "px " + c.font;
    ctx.fillStyle = lit ? "#0b0c10" : c.keyWhite;
    ctx.fillText(lane.name, 10, y + rowH / 2 + 0.5, gutter - 16);
  }
  // The lane list's buttons light with their lanes (only touched when that changes, not every frame).
  var key = litKey.join(",");
  if (key !== this.litLanes) {
    this.litLanes = key;
    Array.prototype.forEach.call(this.root.querySelectorAll("[data-roll-lanes] [data-lane-pitch]"), function (button) {
      button.classList.toggle("is-sounding", litKey.indexOf(Number(button.getAttribute("data-lane-pitch"))) >= 0);
    });
  }
};

Roll.prototype.drawOverview = function (t) {
  var ctx = this.octx;
  var c = this.colors;
  var W = this.owidth;
  var H = this.oheight;
  var total = this.duration();
  var rows = this.rows();
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = c.oBg;
  ctx.fillRect(0, 0, W, H);
  var lo = this.lo;
  var pad = 4;
  var rowH = (H - pad * 2) / rows;
  for (var i = 0; i < this.notes.length; i++) {
    var n = this.notes[i];
    var x = (n.start / total) * W;
    var w = Math.max(1, ((n.end - n.start) / total) * W);
    var y = pad + (this.drums ? this.laneOf[n.pitch] : rows - 1 - (n.pitch - lo)) * rowH;
    ctx.fillStyle = rgba(c.note, 0.35 + 0.65 * clamp(n.velocity / 127, 0, 1));
    ctx.fillRect(x, y, w, Math.max(1, rowH));
  }
  var wx = (this.viewStart / total) * W;
  var ww = Math.max(6, (this.visibleSeconds() / total) * W);
  ctx.fillStyle = c.oWindow;
  ctx.fillRect(wx, 0, ww, H);
  ctx.strokeStyle = c.oEdge;
  ctx.lineWidth = 1;
  ctx.strokeRect(Math.round(wx) + 0.5, 0.5, Math.round(ww) - 1, H - 1);
  ctx.fillStyle = c.oHead;
  ctx.fillRect(Math.round((t / total) * W) - 0.5, 0, 1.5, H);
};

/* ----------------------------------------------------------------- init */
document.querySelectorAll("[data-roll]").forEach(function (root) {
  if (!root.classList.contains("is-enhanced")) {
    root.stemcrateRoll = new Roll(root);
  }
});
