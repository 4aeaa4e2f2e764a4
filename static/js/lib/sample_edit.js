/*
 * A sample edit rendered in the browser, for the editor's preview (static/js/sample_editor.js): the same steps,
 * in the same order, as audio/sample_edit.py apply_edit, less the pitch, which the preview plays by speed.
 * Trim, reverse, level (gain in dB, or normalise the peak to -1 dBFS), then the fades with their curve, then
 * clipping at full scale. Pure: arrays in, arrays out.
 */

export const NORMALISE_DB = -1; // audio/sample_edit.py NORMALISE_DB

/* Gains rising from 0 towards 1 for t in [0, 1): audio/sample_edit.py fade_shape. */
export const CURVES = {
  linear: (t) => t,
  exponential: (t) => t * t,
  logarithmic: (t) => Math.sqrt(t),
  "s-curve": (t) => 0.5 - 0.5 * Math.cos(Math.PI * t),
};

export function curveOf(name) {
  return CURVES[name] || CURVES.linear;
}

/*
 * `channels`: Float32Arrays of one length at `sampleRate`. `edit`: start, end (s; end null = to the end),
 * fadeIn, fadeOut (s), curve, reverse, gainDb, normalise. Returns Float32Arrays of the edited sound.
 */
export function renderEdit(channels, sampleRate, edit) {
  const length = channels[0].length;
  const first = Math.min(length, Math.round((edit.start || 0) * sampleRate));
  const last = edit.end == null ? length : Math.min(length, Math.round(edit.end * sampleRate));
  const frames = Math.max(0, last - first);
  const pieces = channels.map((channel) => channel.subarray(first, first + frames));
  let gainDb = edit.gainDb || 0;
  if (edit.normalise) {
    let peak = 0;
    for (const piece of pieces) {
      for (let i = 0; i < frames; i += 1) {
        const size = Math.abs(piece[i]);
        if (size > peak) {
          peak = size;
        }
      }
    }
    gainDb = peak > 0 ? NORMALISE_DB - 20 * Math.log10(peak) : 0;
  }
  const gain = Math.pow(10, gainDb / 20);
  const shape = curveOf(edit.curve);
  const fadeIn = Math.min(frames, Math.round((edit.fadeIn || 0) * sampleRate));
  const fadeOut = Math.min(frames - fadeIn, Math.round((edit.fadeOut || 0) * sampleRate));
  return pieces.map(function (piece) {
    const out = new Float32Array(frames);
    for (let i = 0; i < frames; i += 1) {
      let value = piece[edit.reverse ? frames - 1 - i : i] * gain;
      if (i < fadeIn) {
        value *= shape(i / fadeIn);
      }
      const fromEnd = frames - 1 - i;
      if (fromEnd < fadeOut) {
        value *= shape(fromEnd / fadeOut);
      }
      out[i] = value > 1 ? 1 : value < -1 ? -1 : value;
    }
    return out;
  });
}
