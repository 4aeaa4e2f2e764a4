/*
 * Stemcrate's page behaviour. No framework and nothing inline: the Content-Security-Policy allows scripts from
 * this origin only, so every behaviour hangs off data- attributes and delegated listeners here.
 *
 *   data-copy-target="#id"   on a button: copies the text of #id (a child [data-copy-label] says "Copied")
 *   data-confirm="Question?" on a form (or its submit button): asks window.confirm before it submits (htmx too)
 *   data-autodismiss         on a message: fades out after a few seconds
 *   data-dismiss             on a button inside a .message: removes the message
 *   data-since="<epoch s>"   fills the element with "5 min" style relative time (data-since-prefix prepended)
 */
import { matching } from "./lib/dom.js";

var AUTODISMISS_MS = 6000;

/* ------------------------------------------------------------ clipboard */
function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    return navigator.clipboard.writeText(text);
  }
  // Plain http on a LAN address has no async clipboard API: fall back to a selected textarea.
  return new Promise(function (resolve, reject) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "sr-only";
    document.body.appendChild(area);
    area.select();
    try {
      if (document.execCommand("copy")) {
        resolve();
      } else {
        reject(new Error("copy refused"));
      }
    } catch (error) {
      reject(error);
    } finally {
      area.remove();
    }
  });
}

function selectContents(element) {
  var range = document.createRange();
  range.selectNodeContents(element);
  var selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

function onCopyClick(button) {
  var target = document.querySelector(button.getAttribute("data-copy-target"));
  if (!target) {
    return;
  }
  var label = button.querySelector("[data-copy-label]") || button;
  if (!button.hasAttribute("data-copy-original")) {
    button.setAttribute("data-copy-original", label.textContent);
  }
  var original = button.getAttribute("data-copy-original");
  copyText(target.textContent.trim()).then(
    function () {
      button.classList.add("is-copied");
      label.textContent = "Copied";
    },
    function () {
      selectContents(target);
      label.textContent = "Press Ctrl+C";
    }
  ).then(function () {
    window.clearTimeout(button._copyTimer);
    button._copyTimer = window.setTimeout(function () {
      button.classList.remove("is-copied");
      label.textContent = original;
    }, 2000);
  });
}

/* ------------------------------------------------------------- messages */
function dismiss(message) {
  if (!message || message.classList.contains("is-leaving")) {
    return;
  }
  message.classList.add("is-leaving");
  window.setTimeout(function () {
    var list = message.parentElement;
    message.remove();
    if (list && list.classList.contains("messages") && !list.querySelector(".message")) {
      list.remove();
    }
  }, 400);
}

function armAutodismiss(message) {
  if (message.hasAttribute("data-autodismiss-armed")) {
    return;
  }
  message.setAttribute("data-autodismiss-armed", "");
  var timer = null;
  function start() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      dismiss(message);
    }, AUTODISMISS_MS);
  }
  function pause() {
    window.clearTimeout(timer);
  }
  // Someone reading or tabbing through a message keeps it on screen.
  message.addEventListener("mouseenter", pause);
  message.addEventListener("mouseleave", start);
  message.addEventListener("focusin", pause);
  message.addEventListener("focusout", start);
  start();
}

/* -------------------------------------------------------- relative time */
function since(seconds) {
  if (seconds < 60) {
    return Math.max(0, Math.round(seconds)) + " s";
  }
  if (seconds < 3600) {
    return Math.round(seconds / 60) + " min";
  }
  if (seconds < 86400) {
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.round((seconds % 3600) / 60);
    return hours + " h" + (minutes ? " " + minutes + " min" : "");
  }
  var days = Math.floor(seconds / 86400);
  return days + (days === 1 ? " day" : " days");
}

function fillRelativeTimes(root) {
  var now = Date.now() / 1000;
  root.querySelectorAll("[data-since]").forEach(function (element) {
    var epoch = parseFloat(element.getAttribute("data-since"));
    if (!isNaN(epoch)) {
      element.textContent = (element.getAttribute("data-since-prefix") || "") + since(now - epoch);
      element.title = new Date(epoch * 1000).toLocaleString();
    }
  });
}

/* ----------------------------------------------------------------- init */
function init(root) {
  if (!root || !root.querySelectorAll) {
    return;
  }
  matching(root, "[data-autodismiss]").forEach(armAutodismiss);
  fillRelativeTimes(root);
}

document.addEventListener("click", function (event) {
  var copyButton = event.target.closest("[data-copy-target]");
  if (copyButton) {
    event.preventDefault();
    onCopyClick(copyButton);
    return;
  }
  var dismissButton = event.target.closest("[data-dismiss]");
  if (dismissButton) {
    dismiss(dismissButton.closest(".message"));
    return;
  }
  // A click outside an open user menu closes it.
  document.querySelectorAll("details[data-user-menu][open]").forEach(function (menu) {
    if (!menu.contains(event.target)) {
      menu.removeAttribute("open");
    }
  });
});

document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") {
    return;
  }
  document.querySelectorAll("details[data-user-menu][open]").forEach(function (menu) {
    menu.removeAttribute("open");
    var summary = menu.querySelector("summary");
    if (summary) {
      summary.focus();
    }
  });
});

// Confirm before submit. Capturing on document runs before htmx's own submit listener on the form, so a
// cancelled confirm stops both a normal submit and an hx-post.
document.addEventListener(
  "submit",
  function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var question =
      (submitter && submitter.getAttribute("data-confirm")) || (form.getAttribute && form.getAttribute("data-confirm"));
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  },
  true
);

/* ----------------------------------------------------------------- htmx */
// Partials re-rendered with form errors come back as 400: swap them in so the errors show.
document.addEventListener("htmx:beforeSwap", function (event) {
  var xhr = event.detail.xhr;
  if (xhr.status === 400 || xhr.status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
  // A whole page where a fragment was expected means a redirect, typically to sign-in after the session
  // ended: follow it as a real navigation instead of nesting a page inside a panel.
  if (event.detail.shouldSwap && /^\s*<!DOCTYPE html/i.test(xhr.responseText || "") && xhr.responseURL) {
    event.detail.shouldSwap = false;
    window.location.assign(xhr.responseURL);
  }
});

// Polling panels (hx-trigger="every …") skip their request while the tab is hidden.
document.addEventListener("htmx:confirm", function (event) {
  var trigger = event.detail.elt && event.detail.elt.getAttribute("hx-trigger");
  if (document.hidden && trigger && trigger.indexOf("every ") === 0) {
    event.preventDefault();
  }
});

// New content from htmx: arm its behaviours; a freshly revealed API key gets keyboard focus on its copy button.
document.addEventListener("htmx:load", function (event) {
  init(event.detail.elt);
});
document.addEventListener("htmx:afterSettle", function (event) {
  var root = event.target;
  var reveal = root && root.querySelector && root.querySelector(".key-reveal [data-copy-target]");
  if (reveal) {
    reveal.focus();
  }
});

init(document);
