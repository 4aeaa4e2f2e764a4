/*
 * DOM helpers the page modules share: what a key press is aimed at, the JSON a template embeds, the colours a
 * stylesheet hands to a canvas, localStorage that may refuse, and what an htmx swap brought in.
 *
 * Page modules set themselves up as soon as they run, with no DOMContentLoaded: a module script runs once the
 * document is parsed (and only once, however many times a page includes it).
 */

const EDITABLE = "textarea, select, [contenteditable]:not([contenteditable='false'])";
const ACTIVATABLE =
  "button, summary, input[type='checkbox'], input[type='radio'], [role='button'], [role='checkbox'], [role='switch']";

/* Whether `target` (an event target: maybe not an element) is inside something matching `selector`. */
export function within(target, selector) {
  return !!(target && target.closest && target.closest(selector));
}

/*
 * A field that keeps typed keys for itself (Space, the arrows, letters): text inputs, textareas, selects and
 * contenteditable. Checkboxes and radios are not, nor the input types listed in `alsoNot` (say "range").
 */
export function isTextControl(target, alsoNot = []) {
  const exclusions = ["checkbox", "radio"]
    .concat(alsoNot)
    .map((type) => ":not([type='" + type + "'])")
    .join("");
  return within(target, "input" + exclusions + ", " + EDITABLE);
}

/* Any form field, checkboxes and radios included. */
export function isFormControl(target) {
  return within(target, "input, " + EDITABLE);
}

/* What Space (or Enter) already presses by itself: buttons, summaries, checkboxes, radios; plus `also`. */
export function isActivatable(target, also) {
  return within(target, also ? ACTIVATABLE + ", " + also : ACTIVATABLE);
}

/* The JSON in a node (a json_script <script>), or `fallback` when there is no node or it does not parse. */
export function jsonOf(node, fallback) {
  if (!node) {
    return fallback;
  }
  try {
    return JSON.parse(node.textContent);
  } catch (error) {
    return fallback;
  }
}

/* The JSON of the element with this id: {{ value|json_script:"id" }}. */
export function readJson(id, fallback) {
  return jsonOf(document.getElementById(id), fallback);
}

/* A reader of `element`'s custom properties: var pick = cssVars(el); pick("--wave-idle", "#888"). */
export function cssVars(element) {
  const style = getComputedStyle(element);
  return function (name, fallback) {
    return (style.getPropertyValue(name) || "").trim() || fallback;
  };
}

/* localStorage, which private modes refuse: then null, and a choice lasts for this page only. */
export function readStored(key) {
  try {
    return window.localStorage.getItem(key);
  } catch (error) {
    return null;
  }
}

export function writeStored(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch (error) {
    /* private mode: the choice lasts for this page only */
  }
}

/* `root` itself when it matches `selector`, then every match inside it: what an htmx:load element brings. */
export function matching(root, selector) {
  if (!root || !root.querySelectorAll) {
    return [];
  }
  const found = Array.from(root.querySelectorAll(selector));
  if (root.matches && root.matches(selector)) {
    found.unshift(root);
  }
  return found;
}
