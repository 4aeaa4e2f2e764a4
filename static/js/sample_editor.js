/*
 * The sample page's waveform editor (samples/templates/samples/detail.html, section#sample-edit; styles in
 * static/css/editor.css). It enhances the Edit card's number form, which stays the source of truth and posts as
 * it does without JavaScript ("Save as new sample" queues the edit_sample job; audio/sample_edit.py renders it).
 *
 *   [data-sample-editor]     the editor: data-audio (the WAV, owner-only, same origin), data-duration (s),
 *                            data-sample-rate (Hz)
 *   [data-editor-wave]       wavesurfer.js 8 (static/vendor/wavesurfer/) draws the waveform and a time ruler here;
 *                            the regions plugin gives the trim region, whose edges set Start and End
 *   [data-editor-zoom]       the zoom slider (log scale, from "fit" up); [data-editor-zoom-in|out|fit] buttons
 *   [data-editor-play]       the preview (Web Audio), [data-editor-loop] loops it
 *   [data-editor-status]     loading and errors; [data-editor-approx] the keep_length note
 *
 * Two-way: dragging the region's edges or the fade handles writes the form's inputs (rounded to 1 ms; a region
 * at the sample's edge leaves Start or End empty, which means "from the start" / "to the end"); typing in the
 * inputs moves the region and the fades. The fades are drawn with the chosen curve (an SVG inside the region).
 *
 * The preview renders the edit into an AudioBuffer as audio/sample_edit.py does (lib/sample_edit.js: trim,
 * reverse, gain or normalise to -1 dBFS, fades with the same curves, clipping at full scale) and plays it with a playbackRate of
 * 2^(semitones/12): exact for "repitch" (the sampler's way). For "keep_length" it is approximate: the pitch
 * changes by speed, so the preview is shorter or longer than the render, which keeps the length.
 *
 * Keys (focus in the Edit card, not while typing in a field): Space preview / stop, + / - zoom, 0 fit, Esc stop;
 * Ctrl + wheel over the waveform zooms around the pointer. The trim edges and the fade handles are sliders in
 * the Tab order: arrows nudge 10 ms (Shift 100 ms, Alt 1 ms), Home / End go to the limit. The waveform's
 * scroll box is in the Tab order too: zoomed in, the arrows scroll it (Home / End: to either end).
 *
 * The strict CSP (style-src 'self') refuses the <style> wavesurfer writes into its shadow root, so it is created
 * through lib/shadow_styles.js (its CSS becomes an adopted stylesheet). Nothing of the hero player
 * (static/js/samples.js) is touched: starting the preview pauses the page's <audio> elements, and a <audio>
 * that starts stops the preview.
 */
import WaveSurfer from "../vendor/wavesurfer/wavesurfer.esm.js";
import RegionsPlugin from "../vendor/wavesurfer/plugins/regions.esm.js";
import TimelinePlugin from "../vendor/wavesurfer/plugins/timeline.esm.js";
import { claimAudio, onAudioClaimed } from "./lib/audio.js";
import { cssVars, isActivatable, isTextControl } from "./lib/dom.js";
import { clamp } from "./lib/format.js";
import { curveOf, renderEdit } from "./lib/sample_edit.js";
import { withAdoptedShadowStyles } from "./lib/shadow_styles.js";

var MIN_LENGTH = 0.005; // s: the shortest region the handles allow (the engine needs 16 frames)
var NUDGE = 0.01; // s per arrow key; Shift x10, Alt /10
var ZOOM_STEPS = 1000; // the slider's range
var ZOOM_FACTOR = 1.5; // per + / - press
var WAVE_HEIGHT = 128;
var SVG = "http://www.w3.org/2000/svg";

function number(field, fallback) {
  var value = field ? parseFloat(field.value) : NaN;
  return isFinite(value) ? value : fallback;
}

function seconds(value) {
  return value.toFixed(3) + " s";
}

function setUp(root) {
  var section = root.closest("#sample-edit") || root.parentElement;
  var form = section.querySelector("form.sample-edit-form");
  if (!form) {
    return;
  }
  var fields = form.elements;
  var waveBox = root.querySelector("[data-editor-wave]");
  var statusLine = root.querySelector("[data-editor-status]");
  var approxNote = root.querySelector("[data-editor-approx]");
  var playButton = root.querySelector("[data-editor-play]");
  var playLabel = root.querySelector("[data-editor-play-label]");
  var loopBox = root.querySelector("[data-editor-loop]");
  var clock = root.querySelector("[data-editor-clock]");
  var slider = root.querySelector("[data-editor-zoom]");
  var zoomLevel = root.querySelector("[data-editor-zoom-level]");
  var zoomButtons = Array.prototype.slice.call(root.querySelectorAll("[data-editor-zoom-in], [data-editor-zoom-out], [data-editor-zoom-fit]"));
  var duration = parseFloat(root.getAttribute("data-duration")) || 0;
  var sampleRate = parseInt(root.getAttribute("data-sample-rate"), 10) || 44100;

  var buffer = null; // the decoded sample, at its own rate
  var ws = null;
  var regions = RegionsPlugin.create();
  var region = null;
  var parts = {}; // the elements added inside the region: fade boxes, curves, handles
  var head = null; // the preview's playhead, inside wavesurfer's wrapper
  var scroller = null; // wavesurfer's scroll box
  var pxPerSec = 0;
  var fitPx = 1;
  var edit = { start: 0, end: 0, fadeIn: 0, fadeOut: 0 };

  zoomButtons.forEach(function (button) {
    button.disabled = true;
  });

  function say(text, isError) {
    statusLine.textContent = text;
    statusLine.classList.toggle("is-error", !!isError);
  }

  /* ------------------------------------------------------------ the form <-> the edit */
  function readForm() {
    var start = clamp(number(fields.start, 0), 0, duration);
    var end = clamp(number(fields.end, duration), 0, duration);
    if (end - start < MIN_LENGTH) {
      return null; // not a region (yet): the server says why when it is posted
    }
    var length = end - start;
    var fadeIn = clamp(number(fields.fade_in, 0), 0, length);
    var fadeOut = clamp(number(fields.fade_out, 0), 0, length - fadeIn);
    return { start: start, end: end, fadeIn: fadeIn, fadeOut: fadeOut };
  }

  /* The inputs from the edit, in whole milliseconds that clean_edit accepts: a region edge at the sample's
     edge leaves the field empty, and the rounded fades never add up to more than the rounded region. */
  function writeForm(changed) {
    var startMs = Math.round(edit.start * 1000);
    var endMs = Math.round(edit.end * 1000);
    var atEnd = edit.end > duration - 0.0005;
    var lengthMs = (atEnd ? Math.floor(duration * 1000) : endMs) - startMs;
    var inMs = clamp(Math.round(edit.fadeIn * 1000), 0, lengthMs);
    var outMs = clamp(Math.round(edit.fadeOut * 1000), 0, lengthMs - inMs);
    var values = {
      start: startMs ? (startMs / 1000).toFixed(3) : "",
      end: atEnd ? "" : (endMs / 1000).toFixed(3),
      fade_in: inMs ? (inMs / 1000).toFixed(3) : "",
      fade_out: outMs ? (outMs / 1000).toFixed(3) : "",
    };
    (changed || Object.keys(values)).forEach(function (name) {
      if (fields[name] && fields[name].value !== values[name]) {
        fields[name].value = values[name];
      }
    });
  }

  function fitFades() {
    var length = edit.end - edit.start;
    edit.fadeIn = clamp(edit.fadeIn, 0, length);
    edit.fadeOut = clamp(edit.fadeOut, 0, length - edit.fadeIn);
  }

  function outputRate() {
    var semitones = clamp(number(fields.pitch, 0), -24, 24);
    return Math.pow(2, semitones / 12);
  }

  function describe() {
    var keepLength = fields.pitch_mode && fields.pitch_mode.value === "keep_length";
    approxNote.hidden = !(keepLength && number(fields.pitch, 0) !== 0);
    if (buffer) {
      var length = edit.end - edit.start;
      var result = keepLength ? length : length / outputRate();
      say("Trim " + edit.start.toFixed(3) + "–" + edit.end.toFixed(3) + " s · the new sample lasts " + seconds(result) + ".");
    }
  }

  /* ------------------------------------------------------------ the region and its fades */
  function slider_(element, label) {
    element.setAttribute("tabindex", "0");
    element.setAttribute("role", "slider");
    element.setAttribute("aria-label", label);
    element.setAttribute("aria-valuemin", "0");
    return element;
  }

  function setSliderValue(element, value, max) {
    element.setAttribute("aria-valuemax", max.toFixed(3));
    element.setAttribute("aria-valuenow", value.toFixed(3));
    element.setAttribute("aria-valuetext", seconds(value));
  }

  function makeFade(side) {
    var box = document.createElement("div");
    box.setAttribute("part", "fade fade-" + side);
    box.setAttribute("aria-hidden", "true");
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 100 100");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("part", "fade-svg");
    var shade = document.createElementNS(SVG, "path");
    shade.setAttribute("part", "fade-shade");
    var line = document.createElementNS(SVG, "path");
    line.setAttribute("part", "fade-line");
    line.setAttribute("fill", "none");
    line.setAttribute("vector-effect", "non-scaling-stroke");
    svg.appendChild(shade);
    svg.appendChild(line);
    box.appendChild(svg);
    var handle = slider_(document.createElement("div"), side === "in" ? "Fade in" : "Fade out");
    handle.setAttribute("part", "fade-handle fade-handle-" + side);
    handle.setAttribute("data-fade", side);
    return { box: box, shade: shade, line: line, handle: handle };
  }

  /* The curve as SVG paths in a 100 x 100 box: the gain rises left to right (fade in) or falls (fade out);
     the shade covers what the fade takes away. */
  function curvePaths(shape, falling) {
    var points = [];
    for (var i = 0; i <= 40; i += 1) {
      var t = i / 40;
      var gain = shape(falling ? 1 - t : t);
      points.push((t * 100).toFixed(2) + "," + (100 - gain * 100).toFixed(2));
    }
    return { line: "M" + points.join(" L"), shade: "M0,0 L" + points.join(" L") + " L100,0 Z" };
  }

  function drawFades() {
    if (!region || !parts.in || !parts.before) {
      return;
    }
    var length = Math.max(edit.end - edit.start, 1e-9);
    var shape = curveOf(fields.fade_curve ? fields.fade_curve.value : "linear");
    var inPct = (edit.fadeIn / length) * 100;
    var outPct = (edit.fadeOut / length) * 100;
    parts.before.style.width = (edit.start / duration) * 100 + "%";
    parts.after.style.left = (edit.end / duration) * 100 + "%";
    parts.in.box.style.width = inPct + "%";
    parts.out.box.style.width = outPct + "%";
    parts.in.handle.style.left = inPct + "%";
    parts.out.handle.style.left = 100 - outPct + "%";
    var rising = curvePaths(shape, false);
    var falling = curvePaths(shape, true);
    parts.in.line.setAttribute("d", rising.line);
    parts.in.shade.setAttribute("d", rising.shade);
    parts.out.line.setAttribute("d", falling.line);
    parts.out.shade.setAttribute("d", falling.shade);
    setSliderValue(parts.in.handle, edit.fadeIn, length - edit.fadeOut);
    setSliderValue(parts.out.handle, edit.fadeOut, length - edit.fadeIn);
    setSliderValue(parts.startHandle, edit.start, edit.end - MIN_LENGTH);
    setSliderValue(parts.endHandle, edit.end, duration);
    parts.endHandle.setAttribute("aria-valuemin", (edit.start + MIN_LENGTH).toFixed(3));
  }

  function moveRegion() {
    if (region && (Math.abs(region.start - edit.start) > 1e-6 || Math.abs(region.end - edit.end) > 1e-6)) {
      region.setOptions({ start: edit.start, end: edit.end });
    }
    drawFades();
    describe();
    previewChanged();
  }

  function setFade(side, value) {
    var length = edit.end - edit.start;
    if (side === "in") {
      edit.fadeIn = clamp(value, 0, length - edit.fadeOut);
    } else {
      edit.fadeOut = clamp(value, 0, length - edit.fadeIn);
    }
    writeForm([side === "in" ? "fade_in" : "fade_out"]);
    drawFades();
    previewChanged();
  }

  function setEdge(side, value) {
    if (side === "start") {
      edit.start = clamp(value, 0, edit.end - MIN_LENGTH);
    } else {
      edit.end = clamp(value, edit.start + MIN_LENGTH, duration);
    }
    fitFades();
    writeForm();
    moveRegion();
  }

  function nudgeKeys(event, current, set, low, high) {
    var step = event.shiftKey ? NUDGE * 10 : event.altKey ? NUDGE / 10 : NUDGE;
    var next = null;
    switch (event.key) {
      case "ArrowLeft":
      case "ArrowDown":
        next = current - step;
        break;
      case "ArrowRight":
      case "ArrowUp":
        next = current + step;
        break;
      case "PageDown":
        next = current - NUDGE * 10;
        break;
      case "PageUp":
        next = current + NUDGE * 10;
        break;
      case "Home":
        next = low;
        break;
      case "End":
        next = high;
        break;
      default:
        return;
    }
    event.preventDefault(); // and samples.js, which checks, leaves the arrows alone
    event.stopPropagation();
    set(Math.round(next * 10000) / 10000);
  }

  function dragFade(handle, side) {
    handle.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      event.stopPropagation(); // not a drag of the whole region
      handle.focus();
      handle.setPointerCapture(event.pointerId);
      // Where on the knob it was grabbed, from the point where the fade ends (in) or begins (out), so that
      // the fade follows the pointer without a jump.
      var box = region.element.getBoundingClientRect();
      var length = edit.end - edit.start;
      var point = box.left + (side === "in" ? edit.fadeIn / length : 1 - edit.fadeOut / length) * box.width;
      var grab = event.clientX - point;
      function move(moveEvent) {
        box = region.element.getBoundingClientRect();
        length = edit.end - edit.start;
        var ratio = box.width ? (moveEvent.clientX - grab - box.left) / box.width : 0;
        setFade(side, side === "in" ? ratio * length : (1 - ratio) * length);
      }
      function up() {
        handle.removeEventListener("pointermove", move);
        handle.removeEventListener("pointerup", up);
        handle.removeEventListener("pointercancel", up);
      }
      handle.addEventListener("pointermove", move);
      handle.addEventListener("pointerup", up);
      handle.addEventListener("pointercancel", up);
    });
    handle.addEventListener("keydown", function (event) {
      var length = edit.end - edit.start;
      var current = side === "in" ? edit.fadeIn : edit.fadeOut;
      var other = side === "in" ? edit.fadeOut : edit.fadeIn;
      nudgeKeys(event, current, function (value) {
        setFade(side, value);
      }, 0, length - other);
    });
  }

  function decorateRegion() {
    var element = region.element;
    parts.startHandle = slider_(element.querySelector("[part~='region-handle-left']"), "Trim start");
    parts.endHandle = slider_(element.querySelector("[part~='region-handle-right']"), "Trim end");
    parts.in = makeFade("in");
    parts.out = makeFade("out");
    [parts.in.box, parts.out.box, parts.in.handle, parts.out.handle].forEach(function (node) {
      element.appendChild(node);
    });
    dragFade(parts.in.handle, "in");
    dragFade(parts.out.handle, "out");
    parts.startHandle.addEventListener("keydown", function (event) {
      nudgeKeys(event, edit.start, function (value) {
        setEdge("start", value);
      }, 0, edit.end - MIN_LENGTH);
    });
    parts.endHandle.addEventListener("keydown", function (event) {
      nudgeKeys(event, edit.end, function (value) {
        setEdge("end", value);
      }, edit.start + MIN_LENGTH, duration);
    });
  }

  function fromRegion(changedSide) {
    edit.start = region.start;
    edit.end = region.end;
    fitFades();
    writeForm(changedSide === "start" ? ["start", "fade_in", "fade_out"] : changedSide === "end" ? ["end", "fade_in", "fade_out"] : null);
    drawFades();
    describe();
  }

  /* ------------------------------------------------------------ the time ruler */
  var RULER_STEPS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60];
  var ruler = null;
  var rulerTimer = 0;

  /* The timeline plugin picks whole seconds by itself, too coarse for a sample: a label every ~80 px, in steps
     of 1, 2 or 5, and a new plugin for each zoom (its intervals are fixed when it is created). */
  function drawRuler() {
    var label = RULER_STEPS[RULER_STEPS.length - 1];
    for (var i = 0; i < RULER_STEPS.length; i += 1) {
      if (RULER_STEPS[i] * pxPerSec >= 80) {
        label = RULER_STEPS[i];
        break;
      }
    }
    var decimals = label < 0.01 ? 3 : label < 0.1 ? 2 : label < 1 ? 1 : 0;
    if (ruler) {
      ruler.destroy();
    }
    ruler = ws.registerPlugin(
      TimelinePlugin.create({
        height: 18,
        timeInterval: label / 5,
        primaryLabelInterval: label,
        secondaryLabelInterval: label,
        formatTimeCallback: function (time) {
          return time.toFixed(decimals);
        },
        style: { fontSize: "11px", color: cssVars(root)("--editor-ruler", "#9aa1b2") },
      })
    );
  }

  /* ------------------------------------------------------------ zoom */
  function maxPx() {
    return Math.max(fitPx * 8, Math.min(fitPx * 256, sampleRate));
  }

  function pxOf(step) {
    return fitPx * Math.pow(maxPx() / fitPx, step / ZOOM_STEPS);
  }

  function stepOf(px) {
    var ratio = Math.log(clamp(px, fitPx, maxPx()) / fitPx) / Math.log(maxPx() / fitPx);
    return Math.round(ratio * ZOOM_STEPS);
  }

  function measureFit() {
    fitPx = Math.max(1, waveBox.clientWidth) / Math.max(duration, 1e-3);
  }

  /* Zoom to `px` pixels per second, keeping the time under `anchorX` (px from the waveform's left) in place. */
  function zoomTo(px, anchorX) {
    if (!ws) {
      return;
    }
    px = clamp(px, fitPx, maxPx());
    var width = waveBox.clientWidth;
    var anchor = anchorX == null ? width / 2 : anchorX;
    var time = (ws.getScroll() + anchor) / Math.max(pxPerSec, fitPx);
    pxPerSec = px;
    ws.zoom(px);
    ws.setScroll(Math.max(0, time * px - anchor));
    slider.value = String(stepOf(px));
    var times = px / fitPx;
    var label = (times < 10 ? times.toFixed(1) : Math.round(times)) + "×";
    zoomLevel.textContent = label;
    slider.setAttribute("aria-valuetext", label + ", " + Math.round(px) + " pixels per second");
    root.setAttribute("data-px-per-sec", px.toFixed(2));
    window.clearTimeout(rulerTimer);
    rulerTimer = window.setTimeout(drawRuler, ruler ? 80 : 0);
  }

  slider.addEventListener("input", function () {
    zoomTo(pxOf(parseInt(slider.value, 10) || 0));
  });
  root.querySelector("[data-editor-zoom-in]").addEventListener("click", function () {
    zoomTo(pxPerSec * ZOOM_FACTOR);
  });
  root.querySelector("[data-editor-zoom-out]").addEventListener("click", function () {
    zoomTo(pxPerSec / ZOOM_FACTOR);
  });
  root.querySelector("[data-editor-zoom-fit]").addEventListener("click", function () {
    zoomTo(fitPx);
  });
  waveBox.addEventListener(
    "wheel",
    function (event) {
      if (!ws || !(event.ctrlKey || event.metaKey)) {
        return; // a plain wheel scrolls the page (or, zoomed in, Shift + wheel the waveform)
      }
      event.preventDefault();
      var box = waveBox.getBoundingClientRect();
      zoomTo(pxPerSec * Math.exp(-event.deltaY * 0.002), event.clientX - box.left);
    },
    { passive: false }
  );
  var resizeTimer = 0;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () {
      if (ws) {
        var times = pxPerSec / fitPx;
        measureFit();
        zoomTo(fitPx * times);
      }
    }, 120);
  });

  /* ------------------------------------------------------------ the preview */
  var context = null;
  var source = null;
  var startedAt = 0;
  var preview = null; // {buffer, rate, length (source seconds)}
  var frame = 0;
  var restartTimer = 0;

  /* The edit as audio/sample_edit.py renders it (lib/sample_edit.js), less the pitch: the playbackRate. */
  function render() {
    var params = readForm() || edit;
    var channels = [];
    for (var c = 0; c < buffer.numberOfChannels; c += 1) {
      channels.push(buffer.getChannelData(c));
    }
    var reverse = !!(fields.reverse && fields.reverse.checked);
    var rendered = renderEdit(channels, buffer.sampleRate, {
      start: params.start,
      end: params.end,
      fadeIn: params.fadeIn,
      fadeOut: params.fadeOut,
      curve: fields.fade_curve ? fields.fade_curve.value : "linear",
      reverse: reverse,
      gainDb: clamp(number(fields.gain_db, 0), -48, 24),
      normalise: !!(fields.normalise && fields.normalise.checked),
    });
    var frames = Math.max(1, rendered[0].length);
    var out = context.createBuffer(rendered.length, frames, buffer.sampleRate);
    rendered.forEach(function (data, index) {
      out.copyToChannel(data, index);
    });
    return { buffer: out, rate: outputRate(), start: params.start, length: frames / buffer.sampleRate, reverse: reverse };
  }

  function showHead(time) {
    if (!head) {
      return;
    }
    head.hidden = time == null;
    if (time != null) {
      head.style.left = (time / duration) * 100 + "%";
    }
  }

  function tick() {
    if (!source || !preview) {
      return;
    }
    var played = (context.currentTime - startedAt) * preview.rate; // in source seconds
    if (source.loop) {
      played = played % preview.length;
    } else {
      played = Math.min(played, preview.length);
    }
    clock.textContent = seconds(played / preview.rate) + " / " + seconds(preview.length / preview.rate);
    showHead(preview.start + (preview.reverse ? preview.length - played : played));
    frame = window.requestAnimationFrame(tick);
  }

  function markPlaying(on) {
    playButton.setAttribute("aria-pressed", on ? "true" : "false");
    playButton.classList.toggle("is-playing", on);
    playLabel.textContent = on ? "Stop" : "Preview";
    root.setAttribute("data-previewing", on ? "true" : "false");
  }

  function stop() {
    window.clearTimeout(restartTimer);
    window.cancelAnimationFrame(frame);
    if (source) {
      var playing = source;
      source = null;
      playing.onended = null;
      try {
        playing.stop();
      } catch (error) {
        /* it had ended */
      }
    }
    showHead(null);
    markPlaying(false);
  }

  function play() {
    if (!buffer) {
      return;
    }
    stop();
    Array.prototype.forEach.call(document.querySelectorAll("audio"), function (element) {
      element.pause(); // one thing at a time: the hero player and "More like this" go quiet
    });
    claimAudio("editor"); // and so does an audition through Web Audio (static/js/samples.js)
    if (!context) {
      var Context = window.AudioContext || window.webkitAudioContext;
      context = new Context();
    }
    if (context.state === "suspended") {
      context.resume();
    }
    preview = render();
    var node = context.createBufferSource();
    node.buffer = preview.buffer;
    node.playbackRate.value = preview.rate;
    node.loop = loopBox.checked;
    node.connect(context.destination);
    node.onended = function () {
      if (source === node) {
        source = null;
        window.cancelAnimationFrame(frame);
        showHead(null);
        markPlaying(false);
        clock.textContent = seconds(preview.length / preview.rate);
      }
    };
    source = node;
    startedAt = context.currentTime;
    node.start();
    markPlaying(true);
    tick();
  }

  function toggle() {
    if (source) {
      stop();
    } else {
      play();
    }
  }

  /* A change while the preview plays starts it again with the change, once the dragging or typing pauses. */
  function previewChanged() {
    if (!source) {
      return;
    }
    window.clearTimeout(restartTimer);
    restartTimer = window.setTimeout(play, 180);
  }

  playButton.addEventListener("click", toggle);
  loopBox.addEventListener("change", function () {
    if (source) {
      source.loop = loopBox.checked;
    }
  });
  onAudioClaimed("editor", function () {
    if (source) {
      stop(); // the page's audition started
    }
  });
  document.addEventListener(
    "play",
    function (event) {
      if (source && event.target && event.target.tagName === "AUDIO") {
        stop(); // the hero player (or another) started
      }
    },
    true
  );

  /* ------------------------------------------------------------ the form's fields */
  form.addEventListener("input", function (event) {
    var name = event.target.name;
    if (name === "start" || name === "end" || name === "fade_in" || name === "fade_out") {
      var next = readForm();
      if (next) {
        edit = next;
        moveRegion();
      }
    } else {
      drawFades();
      describe();
      previewChanged();
    }
  });
  form.addEventListener("change", function () {
    drawFades();
    describe();
  });
  form.addEventListener("submit", stop);

  /* ------------------------------------------------------------ keys */
  section.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.metaKey || event.altKey || event.ctrlKey) {
      return;
    }
    var target = event.composedPath ? event.composedPath()[0] : event.target;
    if (isTextControl(target, ["range"])) {
      return; // typing: "-" and Space belong to the field
    }
    var handled = true;
    if (target === scroller && /^(ArrowLeft|ArrowRight|Home|End)$/.test(event.key)) {
      var width = scroller.clientWidth;
      var steps = { ArrowLeft: -width / 5, ArrowRight: width / 5, Home: -Infinity, End: Infinity };
      scroller.scrollLeft = clamp(scroller.scrollLeft + steps[event.key], 0, scroller.scrollWidth - width);
      event.preventDefault(); // not samples.js's arrows either
      event.stopPropagation();
      return;
    }
    switch (event.key) {
      case " ":
        if (isActivatable(target, "a[href], label") || event.repeat) {
          handled = false; // Space presses buttons and ticks boxes already
        } else {
          toggle();
        }
        break;
      case "+":
      case "=":
        zoomTo(pxPerSec * ZOOM_FACTOR);
        break;
      case "-":
      case "_":
        zoomTo(pxPerSec / ZOOM_FACTOR);
        break;
      case "0":
        zoomTo(fitPx);
        break;
      case "Escape":
        handled = !!source;
        stop();
        break;
      default:
        handled = false;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  });

  /* ------------------------------------------------------------ loading */
  function ready() {
    measureFit();
    pxPerSec = fitPx;
    edit = readForm() || { start: 0, end: duration, fadeIn: 0, fadeOut: 0 };
    var pick = cssVars(root);
    region = regions.addRegion({
      id: "trim",
      start: edit.start,
      end: edit.end,
      color: pick("--editor-region", "rgba(124, 108, 246, 0.14)"),
      drag: true,
      resize: true,
      minLength: MIN_LENGTH,
    });
    decorateRegion();
    region.on("update", function (side) {
      fromRegion(side);
    });
    region.on("update-end", function (side) {
      fromRegion(side);
      previewChanged();
    });
    ["before", "after"].forEach(function (side) {
      var shade = document.createElement("div");
      shade.setAttribute("part", "outside outside-" + side);
      shade.setAttribute("aria-hidden", "true");
      ws.getWrapper().appendChild(shade);
      parts[side] = shade;
    });
    // The waveform's scroll box takes the focus, so that the arrows scroll it when zoomed in.
    scroller = ws.getWrapper().parentElement;
    scroller.setAttribute("tabindex", "0");
    scroller.setAttribute("role", "group");
    scroller.setAttribute("aria-label", "Waveform: ← → scroll it when zoomed in");
    head = document.createElement("div");
    head.setAttribute("part", "preview-head");
    head.setAttribute("aria-hidden", "true");
    head.hidden = true;
    ws.getWrapper().appendChild(head);
    drawFades();
    describe();
    zoomTo(fitPx);
    playButton.disabled = false;
    slider.disabled = false;
    zoomButtons.forEach(function (button) {
      button.disabled = false;
    });
    root.classList.add("is-ready");
  }

  function fail(error) {
    say("The waveform did not load (" + ((error && error.message) || error) + "). The form below still works.", true);
    root.classList.add("is-failed");
  }

  fetch(root.getAttribute("data-audio"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.arrayBuffer();
    })
    .then(function (bytes) {
      // An OfflineAudioContext at the sample's own rate decodes without resampling and needs no user gesture.
      var Offline = window.OfflineAudioContext || window.webkitOfflineAudioContext;
      return new Offline(1, 1, sampleRate).decodeAudioData(bytes);
    })
    .then(function (decoded) {
      buffer = decoded;
      duration = decoded.duration;
      var pick = cssVars(root);
      var peaks = [];
      for (var c = 0; c < Math.min(2, decoded.numberOfChannels); c += 1) {
        peaks.push(decoded.getChannelData(c));
      }
      ws = withAdoptedShadowStyles(function () {
        return WaveSurfer.create({
          container: waveBox,
          height: WAVE_HEIGHT,
          waveColor: pick("--editor-wave", "#7c6cf6"),
          progressColor: pick("--editor-wave", "#7c6cf6"),
          cursorWidth: 0,
          interact: false,
          autoScroll: false,
          autoCenter: false,
          normalize: false,
          plugins: [
            regions,
          ],
        });
      });
      return ws.load(root.getAttribute("data-audio"), peaks, duration);
    })
    .then(ready)
    .catch(fail);
}

var editor = document.querySelector("[data-sample-editor]");
if (editor) {
  setUp(editor);
}
