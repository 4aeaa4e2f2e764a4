/*
 * Audition like an instrument (docs/audition.md): the Web Audio engine behind static/js/samples.js, and the
 * audition bar (samples/templates/samples/_audition_bar.html).
 *
 *   [data-sample]          data-audio (its WAV), data-duration, and from samples/_audition_data.html:
 *                          data-kind (loop / phrase / note / hit, samples/audition.py), data-bpm and data-key (its
 *                          source track's), data-note (its own pitch), data-rate and data-channels (its WAV's)
 *   [data-audition-bar]    the bar: [data-audition-loop] (aria-pressed), [data-audition-mode] radios (off / track /
 *                          session), [data-audition-bpm] and [data-audition-key] (the session target),
 *                          [data-audition-from-track] (a sample's page: its track becomes the session target),
 *                          [data-audition-target-text] / [data-audition-applied] (what is applied, "+3 st, 124→120 BPM");
 *                          data-worklet-url / data-stretch-url (static/vendor/signalsmith-stretch/)
 *
 * What follows what: one-shots ("note", "hit") follow the target's key only, repitched like a sampler
 * (AudioBufferSourceNode.playbackRate = 2^(semitones/12)) to the nearest octave of the target's tonic; a hit with no
 * note plays as it is. Loops and phrases follow tempo and key: time-stretched and pitch-shifted by
 * signalsmith-stretch, rendered ahead in an OfflineAudioContext (cached per sample, ratio and semitones).
 *
 * Latency: a key press only starts an AudioBufferSourceNode on a running AudioContext. Everything slow happens
 * before: a sample is fetched and decoded when it gets the focus or the pointer (and the first PRELOAD on the page
 * when it loads), and its stretched version rendered then. If the render is not ready at the key press, the plain
 * buffer plays repitched (the bar says so); if not even the decode is, start() answers false and samples.js plays
 * the file through its <audio> element (the no-Web-Audio path too), repitched with playbackRate and looped.
 * Each key-started audition writes its latency, key press to the first frame at the output, to
 * <html data-audition-latency-ms>, and what it applied to <html data-audition-last> (JSON), for the browser tests.
 *
 * L toggles the loop (not while typing). Loop and target are remembered in localStorage.
 */
import { isTextControl, readStored, writeStored } from "./lib/dom.js";

const LOOP_KEY = "stemcrate.audition.loop";
const TARGET_KEY = "stemcrate.audition.target";
const PITCHES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
const FLATS = { Db: "C#", Eb: "D#", Gb: "F#", Ab: "G#", Bb: "A#", Cb: "B", Fb: "E", "E#": "F", "B#": "C" };
const MAX_BUFFERS = 48; // decoded samples kept (a page shows 60)
const MAX_RENDERS = 24; // stretched versions kept
const PRELOAD = 12; // decoded when the page loads
const RENDER_TIMEOUT_MS = 15000;
const MIN_RATE = 0.25; // beyond a quarter or four times the tempo the stretch is not an audition any more
const MAX_RATE = 4;

const supported = typeof window.AudioContext === "function" && typeof window.OfflineAudioContext === "function";

/* ------------------------------------------------------------- music */

/* "A#", "Bb", "A3" -> 10, 10, 9; null when it is not a note name. */
export function pitchClass(name) {
  const match = /^\s*([A-Ga-g])([#b]?)/.exec(name || "");
  if (!match) {
    return null;
  }
  let letter = match[1].toUpperCase() + match[2];
  letter = FLATS[letter] || letter;
  return PITCHES.indexOf(letter);
}

/* "A minor", "F# major", "C" -> {tonic: 9, minor: true}; null when there is no key. */
export function parseKey(text) {
  const tonic = pitchClass(text);
  if (tonic === null || tonic < 0) {
    return null;
  }
  return { tonic, minor: /min|\bm$/i.test(text || "") };
}

/* A semitone distance folded to the nearest octave: -5 … +6. */
function nearest(difference) {
  const up = ((difference % 12) + 12) % 12;
  return up > 6 ? up - 12 : up;
}

/* The major key with the same notes: a minor key's relative major (A minor -> C). */
function majorTonic(key) {
  return key.minor ? (key.tonic + 3) % 12 : key.tonic;
}

export function keyLabel(key) {
  return key ? PITCHES[key.tonic] + (key.minor ? " minor" : " major") : "";
}

function formatBpm(bpm) {
  return String(Math.round(bpm * 10) / 10);
}

/* ------------------------------------------------------------ settings */
let loopOn = readStored(LOOP_KEY) === "on";
let target = readTarget();

function readTarget() {
  let stored = null;
  try {
    stored = JSON.parse(readStored(TARGET_KEY) || "null");
  } catch (error) {
    stored = null;
  }
  stored = stored && typeof stored === "object" ? stored : {};
  const mode = ["off", "track", "session"].indexOf(stored.mode) === -1 ? "off" : stored.mode;
  const bpm = parseFloat(stored.bpm);
  return { mode, bpm: bpm >= 40 && bpm <= 300 ? bpm : null, key: parseKey(stored.key) ? stored.key : "" };
}

export function getTarget() {
  return Object.assign({}, target);
}

export function setTarget(changes) {
  target = Object.assign({}, target, changes);
  writeStored(TARGET_KEY, JSON.stringify(target));
  renderBars();
  prepareVisible();
}

export function isLooping() {
  return loopOn;
}

export function setLoop(on) {
  loopOn = !!on;
  writeStored(LOOP_KEY, loopOn ? "on" : "off");
  if (playing) {
    playing.source.loop = loopOn; // the sound playing now follows: on, it goes round; off, it ends at its end
  }
  const audio = document.querySelector("[data-sample-audio]");
  if (audio) {
    audio.loop = loopOn;
  }
  renderBars();
}

/*
 * What an audition of `item` applies under the current target:
 * {kind, stretch: loops and phrases, semitones, rate: input seconds per output second (target BPM / its BPM),
 *  fromBpm, toBpm, playbackRate: a one-shot's repitch, text: "+3 st, 124→120 BPM"}.
 */
export function planFor(item) {
  const kind = item.getAttribute("data-kind") || "hit";
  const stretch = kind === "loop" || kind === "phrase";
  const bpm = parseFloat(item.getAttribute("data-bpm")) || 0;
  const ownKey = parseKey(item.getAttribute("data-key"));
  const note = item.getAttribute("data-note") || "";
  const plan = { kind, stretch, semitones: 0, rate: 1, fromBpm: bpm || null, toBpm: null, playbackRate: 1, text: "" };
  let toBpm = null;
  let toKey = null;
  if (target.mode === "track") {
    toBpm = bpm || null;
    toKey = ownKey;
  } else if (target.mode === "session") {
    toBpm = target.bpm;
    toKey = parseKey(target.key);
  }
  if (target.mode === "off") {
    plan.text = "as recorded";
    return plan;
  }
  if (stretch) {
    if (toBpm && bpm) {
      const rate = toBpm / bpm;
      if (rate >= MIN_RATE && rate <= MAX_RATE) {
        plan.rate = rate;
        plan.toBpm = toBpm;
      }
    }
    if (toKey && ownKey) {
      plan.semitones = nearest(majorTonic(toKey) - majorTonic(ownKey));
    } else if (toKey && pitchClass(note) !== null) {
      plan.semitones = nearest(toKey.tonic - pitchClass(note));
    }
  } else if (toKey && pitchClass(note) !== null) {
    plan.semitones = nearest(toKey.tonic - pitchClass(note));
    plan.playbackRate = Math.pow(2, plan.semitones / 12);
  }
  const parts = [];
  if (plan.semitones) {
    parts.push((plan.semitones > 0 ? "+" : "−") + Math.abs(plan.semitones) + " st");
  }
  if (plan.rate !== 1) {
    parts.push(formatBpm(bpm) + "→" + formatBpm(plan.toBpm) + " BPM");
  }
  if (!parts.length) {
    parts.push(!stretch && pitchClass(note) === null && toKey ? "no note: as recorded" : "no change");
  }
  plan.text = parts.join(", ");
  return plan;
}

/* The repitch for the <audio> fallback: a sampler's, for one-shots and loops alike. */
export function fallbackRate(item) {
  return Math.pow(2, planFor(item).semitones / 12);
}

/* ---------------------------------------------------------- the engine */
let context = null;
let playing = null; // {source, item, startedAt, offset, playbackRate, timeScale, duration, how}
let keyPressedAt = null; // event.timeStamp of the key press the next start() answers
const buffers = new Map(); // url -> {promise, buffer}
const renders = new Map(); // url|rate|semitones -> {promise, buffer}
const decoders = new Map(); // sample rate -> OfflineAudioContext used to decode at the file's own rate
let renderChain = Promise.resolve();
let stretchLoaded = null;

function remember(map, key, value, limit) {
  map.set(key, value);
  while (map.size > limit) {
    map.delete(map.keys().next().value);
  }
}

/* The live context, made on the first key press or pointer press (browsers start audio on a gesture only). */
function liveContext(create) {
  if (!supported) {
    return null;
  }
  if (!context && create) {
    try {
      // The smallest output buffer the device allows: the live graph only plays buffers (the stretching happens
      // offline), so it cannot underrun for lack of CPU. In Chromium this is 3 ms + 8 ms where "interactive" is
      // 10 ms + 32 ms (docs/audition.md).
      context = new AudioContext({ latencyHint: 0 });
    } catch (error) {
      context = null;
    }
  }
  if (context && context.state === "suspended") {
    context.resume().catch(function () {});
  }
  return context;
}

function wake(event) {
  if (event.type === "keydown") {
    // The handlers of this same key press (samples.js's Space / Enter) start the audition; later ones do not count.
    const pressed = event.timeStamp;
    keyPressedAt = pressed;
    window.setTimeout(function () {
      if (keyPressedAt === pressed) {
        keyPressedAt = null;
      }
    }, 0);
  } else {
    keyPressedAt = null;
  }
  liveContext(true);
}
document.addEventListener("keydown", wake, true);
document.addEventListener("pointerdown", wake, true);

function decoder(rate, channels) {
  const key = rate + "/" + channels;
  if (!decoders.has(key)) {
    decoders.set(key, new OfflineAudioContext(Math.max(1, channels), 1, rate));
  }
  return decoders.get(key);
}

function decode(item) {
  const url = item.getAttribute("data-audio");
  if (!url) {
    return Promise.reject(new Error("no audio"));
  }
  const known = buffers.get(url);
  if (known) {
    return known.promise;
  }
  const rate = parseInt(item.getAttribute("data-rate"), 10) || 44100;
  const channels = parseInt(item.getAttribute("data-channels"), 10) || 2;
  const entry = { buffer: null, promise: null };
  entry.promise = fetch(url, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.arrayBuffer();
    })
    .then(function (data) {
      return decoder(rate, channels).decodeAudioData(data);
    })
    .then(function (buffer) {
      entry.buffer = buffer;
      return buffer;
    })
    .catch(function (error) {
      buffers.delete(url); // another try on the next focus
      throw error;
    });
  remember(buffers, url, entry, MAX_BUFFERS);
  return entry.promise;
}

function loadStretch(bar) {
  if (!stretchLoaded) {
    const moduleUrl = bar && bar.getAttribute("data-stretch-url");
    const workletUrl = bar && bar.getAttribute("data-worklet-url");
    if (!moduleUrl || !workletUrl) {
      return Promise.reject(new Error("no stretch library on this page"));
    }
    stretchLoaded = import(moduleUrl).then(function (module) {
      const create = module.default;
      // The CSP refuses the blob: URL the library would build: the same module, generated as a static file.
      create.moduleUrl = workletUrl;
      return create;
    });
    stretchLoaded.catch(function () {
      stretchLoaded = null;
    });
  }
  return stretchLoaded;
}

function renderKey(url, plan) {
  return url + "|" + plan.rate.toFixed(5) + "|" + plan.semitones;
}

/*
 * The buffer in the target's tempo and key: signalsmith-stretch in an OfflineAudioContext, input to output 1 : 1/rate.
 * The stretcher needs some input before and after any point to render it (its window) and warms up over its first
 * blocks, so it gets PAD seconds either side and the middle is kept: a loop is padded with its own end and start
 * (it goes round, so its downbeat and its seam come out whole), a phrase with silence. The result is exactly
 * duration / rate long, its beats where the target's tempo puts them (within a few ms: docs/audition.md).
 */
const PAD = 0.3;

function padded(buffer, wrap) {
  const pad = Math.round(PAD * buffer.sampleRate);
  const length = buffer.length;
  const channels = [];
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const data = buffer.getChannelData(c);
    const out = new Float32Array(length + 2 * pad);
    if (wrap) {
      for (let i = 0; i < pad; i++) {
        out[i] = data[(((length - pad + i) % length) + length) % length];
        out[pad + length + i] = data[i % length];
      }
    }
    out.set(data, pad);
    channels.push(out);
  }
  return { pad, channels };
}

function renderStretched(buffer, rate, semitones, wrap) {
  return loadStretch(document.querySelector("[data-audition-bar]")).then(function (create) {
    const input = padded(buffer, wrap);
    const frames = Math.ceil((input.pad + buffer.length) / rate) + 1;
    const offline = new OfflineAudioContext(buffer.numberOfChannels, frames, buffer.sampleRate);
    return create(offline, {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      outputChannelCount: [buffer.numberOfChannels],
    }).then(function (node) {
      node.connect(offline.destination);
      return node
        .addBuffers(input.channels)
        .then(function () {
          return node.schedule({ active: true, input: 0, output: 0, rate, semitones });
        })
        .then(function () {
          return offline.startRendering();
        })
        .then(function (full) {
          const from = Math.round(input.pad / rate);
          const length = Math.max(1, Math.round(buffer.length / rate));
          const result = new AudioBuffer({
            length,
            numberOfChannels: buffer.numberOfChannels,
            sampleRate: buffer.sampleRate,
          });
          for (let c = 0; c < buffer.numberOfChannels; c++) {
            result.copyToChannel(full.getChannelData(c).subarray(from, from + length), c);
          }
          return result;
        });
    });
  });
}

function ensureRender(item, buffer, plan) {
  const key = renderKey(item.getAttribute("data-audio"), plan);
  const known = renders.get(key);
  if (known) {
    return known.promise;
  }
  const entry = { buffer: null, promise: null };
  item.setAttribute("data-audition-render", "pending");
  // One render at a time: they share the CPU with the page. A stretch whose WASM never starts (a policy without
  // 'wasm-unsafe-eval') never answers: give up after RENDER_TIMEOUT_MS rather than hold up every later render.
  entry.promise = renderChain
    .then(function () {
      return Promise.race([
        renderStretched(buffer, plan.rate, plan.semitones, plan.kind === "loop"),
        new Promise(function (resolve, reject) {
          window.setTimeout(function () {
            reject(new Error("the time-stretch did not start"));
          }, RENDER_TIMEOUT_MS);
        }),
      ]);
    })
    .then(function (rendered) {
      entry.buffer = rendered;
      entry.peak = peakOf(rendered);
      markPrepared(item);
      renderBars();
      return rendered;
    })
    .catch(function (error) {
      entry.failed = true; // kept: the next press plays repitched and says why, without trying again
      item.setAttribute("data-audition-render", "failed");
      renderBars();
      throw error;
    });
  renderChain = entry.promise.catch(function () {});
  remember(renders, key, entry, MAX_RENDERS);
  return entry.promise;
}

function peakOf(buffer) {
  let peak = 0;
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const data = buffer.getChannelData(c);
    for (let i = 0; i < data.length; i++) {
      const value = Math.abs(data[i]);
      if (value > peak) {
        peak = value;
      }
    }
  }
  return peak;
}

function markPrepared(item) {
  const url = item.getAttribute("data-audio");
  const entry = buffers.get(url);
  item.setAttribute("data-audition-decoded", entry && entry.buffer ? "yes" : "no");
  const plan = planFor(item);
  if (plan.stretch && (plan.rate !== 1 || plan.semitones)) {
    const render = renders.get(renderKey(url, plan));
    item.setAttribute("data-audition-render", render && render.buffer ? "ready" : render && render.failed ? "failed" : "pending");
  } else {
    item.setAttribute("data-audition-render", "none");
  }
}

/* The stretched buffer ready for `item` under the current target, or null (for the browser tests, and a debugger). */
export function renderedBuffer(item) {
  const render = renders.get(renderKey(item.getAttribute("data-audio"), planFor(item)));
  return render && render.buffer ? render.buffer : null;
}

/* Decode `item` (and render its stretched version) ahead of a key press. */
export function prepare(item) {
  if (!supported || !item || !item.getAttribute("data-audio")) {
    return Promise.resolve(null);
  }
  return decode(item)
    .then(function (buffer) {
      markPrepared(item);
      const plan = planFor(item);
      if (plan.stretch && (plan.rate !== 1 || plan.semitones)) {
        return ensureRender(item, buffer, plan);
      }
      return buffer;
    })
    .catch(function () {
      return null; // the <audio> path still plays it, and says so if the file is missing
    });
}

function prepareVisible() {
  const items = Array.prototype.slice.call(document.querySelectorAll("[data-sample]"), 0, PRELOAD);
  const active = document.activeElement && document.activeElement.closest && document.activeElement.closest("[data-sample]");
  if (active && items.indexOf(active) === -1) {
    items.unshift(active);
  }
  // Two at a time, in page order.
  let chain = [Promise.resolve(), Promise.resolve()];
  items.forEach(function (item, index) {
    chain[index % 2] = chain[index % 2].then(function () {
      return prepare(item);
    });
  });
}

/* Where the audition is, in seconds of the original sample; null when the engine plays nothing. */
export function position() {
  if (!playing || !context) {
    return null;
  }
  let at = (context.currentTime - playing.startedAt) * playing.playbackRate + playing.offset;
  if (at < 0) {
    at = 0;
  }
  if (playing.source.loop && playing.duration > 0) {
    at %= playing.duration;
  } else {
    at = Math.min(at, playing.duration);
  }
  return at * playing.timeScale;
}

export function isPlaying(item) {
  return !!playing && (!item || playing.item === item);
}

function measureLatency(when) {
  if (keyPressedAt === null) {
    return;
  }
  const pressed = keyPressedAt;
  keyPressedAt = null;
  const now = performance.now();
  const device = ((context.baseLatency || 0) + (context.outputLatency || 0)) * 1000;
  // From the clock: the start is (when - currentTime) ahead of the block being rendered, then the device latency.
  const byClock = now + (when - context.currentTime) * 1000 + device - pressed;
  // From the output timestamp: the frame at contextTime is at the output at performanceTime. That frame is the one
  // leaving the device, so the device latency is in it already (the two figures agree within a few ms).
  let byStamp = null;
  const stamp = context.getOutputTimestamp ? context.getOutputTimestamp() : null;
  if (stamp && stamp.performanceTime > 0) {
    byStamp = stamp.performanceTime + (when - stamp.contextTime) * 1000 - pressed;
  }
  // The larger of the two: the figure we promise is an upper bound.
  const latency = byStamp === null ? byClock : Math.max(byClock, byStamp);
  const root = document.documentElement;
  root.setAttribute("data-audition-latency-ms", latency.toFixed(2));
  root.setAttribute(
    "data-audition-latency-detail",
    JSON.stringify({
      byClock: +byClock.toFixed(2),
      byStamp: byStamp === null ? null : +byStamp.toFixed(2),
      baseLatency: context.baseLatency || 0,
      outputLatency: context.outputLatency || 0,
      state: context.state,
    })
  );
}

/*
 * Start `item` now: true when the engine plays it (its buffer was decoded ahead), false when samples.js should use
 * its <audio> element. options: from (seconds into the sample), onEnded (called when it ends by itself).
 */
export function start(item, options) {
  options = options || {};
  const url = item && item.getAttribute("data-audio");
  const entry = url && buffers.get(url);
  if (!supported || !entry || !entry.buffer) {
    keyPressedAt = null;
    prepare(item);
    setHow(item, supported ? "file" : "element");
    return false;
  }
  if (!liveContext(!navigator.userActivation || navigator.userActivation.hasBeenActive)) {
    setHow(item, "file");
    return false;
  }
  const plan = planFor(item);
  let buffer = entry.buffer;
  let playbackRate = 1;
  let timeScale = 1;
  let how = "as recorded";
  let renderedPeak = null;
  if (plan.stretch && (plan.rate !== 1 || plan.semitones)) {
    const render = renders.get(renderKey(url, plan));
    if (render && render.buffer) {
      buffer = render.buffer;
      renderedPeak = render.peak;
      timeScale = plan.rate;
      how = "stretched";
    } else {
      playbackRate = Math.pow(2, plan.semitones / 12);
      how = render && render.failed ? "repitched: the time-stretch failed" : "repitched: the stretch is still rendering";
      ensureRender(item, entry.buffer, plan).catch(function () {});
    }
  } else if (plan.semitones) {
    playbackRate = plan.playbackRate;
    how = "repitched";
  }
  stop();
  const source = context.createBufferSource();
  source.buffer = buffer;
  source.playbackRate.value = playbackRate;
  source.loop = loopOn;
  source.connect(context.destination);
  const offset = Math.max(0, Math.min((options.from || 0) / timeScale, buffer.duration - 0.001));
  const when = context.currentTime;
  source.start(when, offset);
  const state = { source, item, startedAt: when, offset, playbackRate, timeScale, duration: buffer.duration, how };
  playing = state;
  source.onended = function () {
    if (playing === state) {
      playing = null;
      if (options.onEnded) {
        options.onEnded(state.item); // adopt() may have moved it to a re-rendered element
      }
    }
  };
  measureLatency(when);
  document.documentElement.setAttribute(
    "data-audition-last",
    JSON.stringify({
      id: item.id,
      kind: plan.kind,
      how,
      semitones: plan.semitones,
      rate: plan.rate,
      playbackRate,
      bufferDuration: buffer.duration,
      originalDuration: entry.buffer.duration,
      loop: loopOn,
      renderedPeak,
    })
  );
  setHow(item, how);
  return true;
}

/* `item` was re-rendered by htmx as `again`: the sound playing for it plays on for the new element. */
export function adopt(item, again) {
  if (playing && playing.item === item) {
    playing.item = again;
    return true;
  }
  return false;
}

export function stop() {
  if (!playing) {
    return;
  }
  const state = playing;
  playing = null;
  try {
    state.source.onended = null;
    state.source.stop();
  } catch (error) {
    /* already stopped */
  }
  state.source.disconnect();
}

/* ------------------------------------------------------------- the bar */
let lastHow = { item: null, how: "" };

function setHow(item, how) {
  lastHow = { item, how };
  renderBars(item);
}

function currentItem() {
  if (playing) {
    return playing.item;
  }
  const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("[data-sample]");
  return (
    focused ||
    document.querySelector("[data-sample-primary]") ||
    document.querySelector("[data-sample-list] [data-sample][tabindex='0']") ||
    document.querySelector("[data-sample]")
  );
}

function targetText() {
  if (target.mode === "track") {
    return "Its track: each sample follows the tempo and key of the track it came from";
  }
  if (target.mode === "session") {
    const parts = [];
    if (target.bpm) {
      parts.push(formatBpm(target.bpm) + " BPM");
    }
    if (parseKey(target.key)) {
      parts.push(keyLabel(parseKey(target.key)));
    }
    return parts.length ? "Session: " + parts.join(" · ") : "Session: set a tempo and a key";
  }
  return "Off: samples play as recorded";
}

function renderBars(item) {
  item = item || currentItem();
  Array.prototype.forEach.call(document.querySelectorAll("[data-audition-bar]"), function (bar) {
    const loop = bar.querySelector("[data-audition-loop]");
    if (loop) {
      loop.setAttribute("aria-pressed", String(loopOn));
      loop.classList.toggle("is-on", loopOn);
    }
    Array.prototype.forEach.call(bar.querySelectorAll("[data-audition-mode]"), function (radio) {
      radio.checked = radio.value === target.mode;
      radio.closest(".audition-mode").classList.toggle("is-on", radio.checked);
    });
    const session = bar.querySelector("[data-audition-session]");
    if (session) {
      session.hidden = target.mode !== "session";
    }
    const bpm = bar.querySelector("[data-audition-bpm]");
    if (bpm && document.activeElement !== bpm) {
      bpm.value = target.bpm ? formatBpm(target.bpm) : "";
    }
    const key = bar.querySelector("[data-audition-key]");
    if (key) {
      key.value = target.key || "";
    }
    const text = bar.querySelector("[data-audition-target-text]");
    if (text) {
      text.textContent = targetText();
    }
    const applied = bar.querySelector("[data-audition-applied]");
    if (applied) {
      applied.textContent = item ? appliedText(item) : "";
    }
  });
}

function appliedText(item) {
  const plan = planFor(item);
  const kinds = { loop: "Loop", phrase: "Phrase", note: "One-shot", hit: "Hit" };
  let text = (kinds[plan.kind] || "Sample") + ": " + plan.text;
  if (lastHow.item === item && lastHow.how && lastHow.how !== "as recorded") {
    const notes = {
      file: " (played from the file: not loaded yet, so repitched only)",
      element: " (no Web Audio in this browser: repitched only)",
    };
    text += notes[lastHow.how] || " (" + lastHow.how + ")";
  } else if (plan.stretch && (plan.rate !== 1 || plan.semitones)) {
    const state = item.getAttribute("data-audition-render");
    if (state === "pending") {
      text += " (rendering…)";
    } else if (state === "failed") {
      text += " (the time-stretch failed: repitched only)";
    }
  }
  return text;
}

function fillKeys(select) {
  if (select.options.length > 1) {
    return;
  }
  ["major", "minor"].forEach(function (scale) {
    const group = document.createElement("optgroup");
    group.label = scale === "major" ? "Major" : "Minor";
    PITCHES.forEach(function (pitch) {
      const option = document.createElement("option");
      option.value = pitch + " " + scale;
      option.textContent = pitch + " " + scale;
      group.appendChild(option);
    });
    select.appendChild(group);
  });
}

function initBars() {
  Array.prototype.forEach.call(document.querySelectorAll("[data-audition-bar]"), function (bar) {
    const key = bar.querySelector("[data-audition-key]");
    if (key) {
      fillKeys(key);
    }
  });
  renderBars();
}

document.addEventListener("click", function (event) {
  const target = event.target;
  if (!target.closest || !target.closest("[data-audition-bar]")) {
    return;
  }
  if (target.closest("[data-audition-loop]")) {
    setLoop(!loopOn);
    return;
  }
  if (target.closest("[data-audition-from-track]")) {
    const item = target.closest("[data-sample]") || document.querySelector("[data-sample-primary]");
    if (item) {
      setTarget({ mode: "session", bpm: parseFloat(item.getAttribute("data-bpm")) || null, key: item.getAttribute("data-key") || "" });
    }
  }
});

document.addEventListener("change", function (event) {
  const field = event.target;
  if (!field.closest || !field.closest("[data-audition-bar]")) {
    return;
  }
  if (field.matches("[data-audition-mode]")) {
    setTarget({ mode: field.value });
  } else if (field.matches("[data-audition-bpm]")) {
    const bpm = parseFloat(field.value);
    setTarget({ bpm: bpm >= 40 && bpm <= 300 ? bpm : null });
  } else if (field.matches("[data-audition-key]")) {
    setTarget({ key: field.value });
  }
});

document.addEventListener("keydown", function (event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.repeat) {
    return;
  }
  if ((event.key === "l" || event.key === "L") && !isTextControl(event.target)) {
    if (!document.querySelector("[data-audition-bar]") || document.querySelector("dialog[open]")) {
      return;
    }
    event.preventDefault();
    setLoop(!loopOn);
  }
});

function prepareAround(item) {
  prepare(item);
  const list = item.closest("[data-sample-list]");
  if (!list) {
    return;
  }
  const items = Array.prototype.slice.call(list.querySelectorAll("[data-sample]"));
  const index = items.indexOf(item);
  [index + 1, index - 1].forEach(function (i) {
    if (items[i]) {
      prepare(items[i]);
    }
  });
}

document.addEventListener("focusin", function (event) {
  const item = event.target.closest && event.target.closest("[data-sample]");
  if (item) {
    prepareAround(item);
    renderBars(item);
  }
});

document.addEventListener("pointerover", function (event) {
  const item = event.target.closest && event.target.closest("[data-sample]");
  if (item && !(event.relatedTarget && item.contains(event.relatedTarget))) {
    prepare(item);
  }
});

document.addEventListener("htmx:afterSettle", function () {
  prepareVisible();
  renderBars();
});

initBars();
prepareVisible();
