/*
 * Row auditions in the library: play a track from its row without opening it (tracks/templates/tracks/index.html,
 * the "audition" partial).
 *
 *   [data-audition]          one per playable (ready) row: data-audio (tracks:track_audio, the browser preview
 *                            when the original needs one, else the original; owner-only, with Range so it can
 *                            seek), data-duration (s), data-title, data-track (its id, to find it again after a swap)
 *   [data-audition-toggle]   the row's <button>: "Play <title>" / "Pause". Space and Enter press it (a real
 *                            button); Left/Right on it seek 5 s; Escape anywhere stops what plays. Hidden in the
 *                            markup, shown by this script (without it there is nothing to press).
 *   [data-audition-wave]     the mini waveform: a click plays from where it was clicked (seeks). The "played"
 *                            copy is clipped to the playhead ([data-audition-clip] rect) and a head line
 *                            ([data-audition-head]) moves with it, every frame while playing.
 *   [data-audition-audio]    the page's one <audio>, outside #results: one track plays at a time, and a new
 *                            track stops the one before (back to its start). Other <audio> on the page pauses
 *                            when an audition starts, and an audition pauses when other audio starts.
 *   [data-audition-status]   a live region that says why a track did not play.
 *
 * Every listener is delegated from the document, so rows that htmx swaps in (#results after a filter or an
 * upload, a row that polled while it was analysed) work as they arrive; a row that comes back while its track
 * plays is found again by data-track and shows the playing state.
 */
import { playOrReport } from "./lib/audio.js";
import { isTextControl, matching } from "./lib/dom.js";
import { clamp } from "./lib/format.js";

var WAVE_WIDTH = 96; // the waveform's viewBox width (core/waveform.py)
var SEEK_STEP = 5;

var currentId = null; // data-track of the row playing (or paused mid-way)
var frame = 0;

function audio() {
  return document.querySelector("[data-audition-audio]");
}

function rowOf(id) {
  return id ? document.querySelector("[data-audition][data-track='" + id + "']") : null;
}

function say(text) {
  var status = document.querySelector("[data-audition-status]");
  if (status) {
    status.textContent = text;
    status.hidden = !text;
  }
}

function durationOf(item) {
  var element = audio();
  if (element && item.getAttribute("data-track") === currentId && isFinite(element.duration) && element.duration > 0) {
    return element.duration;
  }
  return parseFloat(item.getAttribute("data-duration")) || 0;
}

function markPlaying(item, playing) {
  if (!item) {
    return;
  }
  item.classList.toggle("is-playing", playing);
  var toggle = item.querySelector("[data-audition-toggle]");
  if (toggle) {
    toggle.setAttribute("aria-label", playing ? "Pause" : "Play " + (item.getAttribute("data-title") || "track"));
  }
}

function drawProgress(item, seconds) {
  if (!item) {
    return;
  }
  var duration = durationOf(item);
  var fraction = duration ? clamp(seconds / duration, 0, 1) : 0;
  item.querySelectorAll("[data-audition-clip]").forEach(function (rect) {
    rect.setAttribute("width", (fraction * WAVE_WIDTH).toFixed(2));
  });
  var head = item.querySelector("[data-audition-head]");
  if (head) {
    head.style.left = fraction * 100 + "%"; // CSSOM from a script: the CSP allows it
    head.classList.toggle("is-visible", seconds > 0 && fraction < 1);
  }
}

function loop() {
  window.cancelAnimationFrame(frame);
  function tick() {
    var element = audio();
    var item = rowOf(currentId);
    if (!element || !item) {
      return;
    }
    drawProgress(item, element.currentTime || 0);
    if (!element.paused && !element.ended) {
      frame = window.requestAnimationFrame(tick);
    }
  }
  frame = window.requestAnimationFrame(tick);
}

/* Stop what plays and put its row back to the start. */
function stop() {
  window.cancelAnimationFrame(frame);
  var element = audio();
  var item = rowOf(currentId);
  currentId = null;
  if (element && !element.paused) {
    element.pause();
  }
  if (item) {
    item.classList.remove("is-loading");
    markPlaying(item, false);
    drawProgress(item, 0);
  }
}

function play(item, from) {
  var element = audio();
  var url = item.getAttribute("data-audio");
  if (!element || !url) {
    return;
  }
  var id = item.getAttribute("data-track");
  if (currentId && currentId !== id) {
    stop();
  }
  currentId = id;
  say("");
  if (element.getAttribute("src") !== url) {
    element.src = url;
  }
  if (typeof from === "number") {
    if (element.readyState >= 1) {
      element.currentTime = from;
    } else {
      element.addEventListener(
        "loadedmetadata",
        function () {
          if (currentId === id) {
            element.currentTime = from;
          }
        },
        { once: true }
      );
    }
    drawProgress(item, from);
  }
  item.classList.add("is-loading");
  markPlaying(item, true);
  playOrReport(element, function (text) {
    if (currentId === id) {
      stop();
    }
    say(text);
  });
}

function toggle(item) {
  var element = audio();
  if (element && item.getAttribute("data-track") === currentId && !element.paused) {
    element.pause();
  } else {
    play(item);
  }
}

function seekTo(item, seconds) {
  var duration = durationOf(item);
  var target = clamp(seconds, 0, duration ? Math.max(0, duration - 0.05) : seconds);
  var element = audio();
  if (element && item.getAttribute("data-track") === currentId && element.readyState >= 1) {
    element.currentTime = target;
    drawProgress(item, target);
    if (element.paused) {
      play(item);
    }
  } else {
    play(item, target);
  }
}

/* ----------------------------------------------------------- the <audio> */
function bindAudio(element) {
  if (!element || element.hasAttribute("data-bound")) {
    return;
  }
  element.setAttribute("data-bound", "");
  element.addEventListener("playing", function () {
    var item = rowOf(currentId);
    if (item) {
      item.classList.remove("is-loading");
      markPlaying(item, true);
    }
    loop();
  });
  element.addEventListener("pause", function () {
    var item = rowOf(currentId);
    if (item) {
      item.classList.remove("is-loading");
      markPlaying(item, false);
      drawProgress(item, element.currentTime || 0);
    }
  });
  element.addEventListener("ended", stop);
  element.addEventListener("error", function () {
    if (currentId && element.getAttribute("src")) {
      var item = rowOf(currentId);
      var title = item ? item.getAttribute("data-title") : "This track";
      stop();
      say("“" + title + "” could not be played: its file may be missing. Open the track to check it.");
    }
  });
}

/* ------------------------------------------------------- delegated input */
document.addEventListener("click", function (event) {
  var target = event.target;
  if (!target.closest) {
    return;
  }
  var button = target.closest("[data-audition-toggle]");
  if (button) {
    toggle(button.closest("[data-audition]"));
    return;
  }
  var wave = target.closest("[data-audition-wave]");
  if (wave) {
    var item = wave.closest("[data-audition]");
    var rect = wave.getBoundingClientRect();
    var duration = durationOf(item);
    if (rect.width > 0 && duration) {
      seekTo(item, ((event.clientX - rect.left) / rect.width) * duration);
    } else {
      toggle(item);
    }
  }
});

document.addEventListener("keydown", function (event) {
  if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) {
    return;
  }
  if (event.key === "Escape") {
    if (currentId && !isTextControl(event.target) && !document.querySelector("dialog[open]")) {
      stop(); // not preventDefault: Escape still clears the selection or closes a popover as well
    }
    return;
  }
  var button = event.target.closest && event.target.closest("[data-audition-toggle]");
  if (button && (event.key === "ArrowLeft" || event.key === "ArrowRight")) {
    var item = button.closest("[data-audition]");
    var element = audio();
    var now = item.getAttribute("data-track") === currentId && element ? element.currentTime || 0 : 0;
    seekTo(item, now + (event.key === "ArrowLeft" ? -SEEK_STEP : SEEK_STEP));
    event.preventDefault();
  }
});

// One thing plays at a time: other audio pauses when an audition starts, and the audition when other audio does.
document.addEventListener(
  "play",
  function (event) {
    var mine = audio();
    document.querySelectorAll("audio").forEach(function (other) {
      if (other !== event.target && !other.paused) {
        other.pause();
      }
    });
    if (mine && event.target !== mine && currentId) {
      stop();
    }
  },
  true
);

/* ------------------------------------------------------------------ init */
function init(root) {
  matching(root, "[data-audition-toggle][hidden]").forEach(function (button) {
    button.hidden = false;
  });
  matching(root, "[data-audition]").forEach(function (item) {
    item.classList.add("is-enhanced");
    if (item.getAttribute("data-track") === currentId) {
      // The row came back from a swap while its track plays (or is paused mid-way): show where it is.
      var element = audio();
      markPlaying(item, !!element && !element.paused);
      drawProgress(item, element ? element.currentTime || 0 : 0);
      loop();
    }
  });
}

// After a swap, a track whose row is gone (filtered out) stops: nothing on the page could pause it any more.
document.addEventListener("htmx:afterSettle", function () {
  if (currentId && !rowOf(currentId)) {
    stop();
  }
});

document.addEventListener("htmx:load", function (event) {
  init(event.detail.elt);
});

bindAudio(audio());
init(document);
