/* Numbers for the page modules: bounds, and the clock and counts as the pages show them. */

export function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

/* 3.24 -> "0:03.2" (tenths), or "0:03" without them. */
export function formatTime(seconds, tenths) {
  if (!isFinite(seconds) || seconds < 0) {
    seconds = 0;
  }
  const total = Math.floor(seconds * 10 + 1e-6);
  const minutes = Math.floor(total / 600);
  const rest = total - minutes * 600;
  const text = minutes + ":" + (Math.floor(rest / 10) < 10 ? "0" : "") + Math.floor(rest / 10);
  return tenths ? text + "." + (rest % 10) : text;
}

/* plural(1, "file", "files") -> "1 file"; plural(3, "file", "files") -> "3 files". */
export function plural(count, one, many) {
  return count + " " + (count === 1 ? one : many);
}
