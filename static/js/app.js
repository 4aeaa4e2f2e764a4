/*
 * Stemcrate's page behaviour. No framework and nothing inline: the Content-Security-Policy allows scripts from
 * this origin only, so every behaviour hangs off data- attributes and delegated listeners here.
 *
 *   data-copy-target="#id"   on a button: copies the text of #id (a child [data-copy-label] says "Copied")
 *   data-confirm="Question?" on a form (or its submit button): asks in the app's dialog before it submits (htmx
 *                            too); hx-confirm on an htmx element asks in the same dialog. data-confirm-yes,
 *                            data-confirm-no and data-confirm-danger set its buttons (templates/includes/confirm_dialog.html)
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

/* --------------------------------------------------------- confirmation */
function firstAttribute(elements, name) {
  for (var i = 0; i < elements.length; i++) {
    if (elements[i] && elements[i].hasAttribute && elements[i].hasAttribute(name)) {
      return elements[i].getAttribute(name);
    }
  }
  return null;
}

/* Ask `question` in the app's modal dialog; `answer(true)` once the user says yes, `answer(false)` for no, Esc or
 * a click outside. `sources` (the submit button, the form, the htmx element) may name the buttons. */
function ask(question, sources, answer) {
  var dialog = document.querySelector("dialog[data-confirm-dialog]");
  if (!dialog || typeof dialog.showModal !== "function") {
    answer(window.confirm(question)); // a page without the dialog
    return;
  }
  if (dialog.open) {
    return; // one question at a time
  }
  var yes = dialog.querySelector("[data-confirm-yes]");
  var no = dialog.querySelector("[data-confirm-no]");
  var danger = firstAttribute(sources, "data-confirm-danger") !== null;
  dialog.querySelector("[data-confirm-question]").textContent = question;
  yes.textContent = firstAttribute(sources, "data-confirm-yes") || "Yes";
  no.textContent = firstAttribute(sources, "data-confirm-no") || "No";
  yes.className = "btn " + (danger ? "btn-danger-solid" : "btn-primary");
  dialog.classList.toggle("is-danger", danger);
  var back = document.activeElement;
  dialog.returnValue = "";
  dialog.addEventListener("close", function closed() {
    dialog.removeEventListener("close", closed);
    if (back && back.isConnected && typeof back.focus === "function") {
      back.focus();
    }
    answer(dialog.returnValue === "yes");
  });
  dialog.showModal();
  (danger ? no : yes).focus(); // for what cannot be undone, Enter says no
}

// A click on the backdrop (the dialog element itself, outside its body) says no.
document.addEventListener("click", function (event) {
  if (event.target.matches && event.target.matches("dialog[data-confirm-dialog][open]")) {
    event.target.close("");
  }
});

// Confirm before submit. Capturing on document runs before htmx's own submit listener on the form, so a "no"
// stops both a normal submit and an hx-post. A "yes" clicks the same button again, so the form sends its value
// (htmx reads the button clicked last) and this time goes through.
document.addEventListener(
  "submit",
  function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var question =
      (submitter && submitter.getAttribute("data-confirm")) || (form.getAttribute && form.getAttribute("data-confirm"));
    if (!question) {
      return;
    }
    if (form._confirmed) {
      form._confirmed = false;
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    ask(question, [submitter, form], function (yes) {
      if (!yes || !form.isConnected) {
        return;
      }
      form._confirmed = true;
      window.setTimeout(function () {
        form._confirmed = false; // in case nothing was submitted after all (a field the browser found invalid)
      }, 0);
      if (submitter && submitter.isConnected) {
        submitter.click();
      } else {
        form.requestSubmit();
      }
    });
  },
  true
);

// hx-confirm asks in the same dialog; htmx sends the request once it is told yes.
document.addEventListener("htmx:confirm", function (event) {
  var question = event.detail.question;
  if (!question) {
    return;
  }
  event.preventDefault();
  ask(question, [event.detail.elt], function (yes) {
    if (yes) {
      event.detail.issueRequest(true);
    }
  });
});

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
