/* What the track player, the karaoke view, the piano roll and the slicer do alike with an <audio> and peaks. */

/*
 * Start `audio`; if the browser refuses, `report` gets a sentence to show. An AbortError only means another
 * play() or a pause() came first, so it is not reported.
 */
export function playOrReport(audio, report) {
  const started = audio.play();
  if (started && started.catch) {
    started.catch(function (error) {
      if (error && error.name !== "AbortError") {
        report("Playback did not start: " + (error.message || error.name) + ".");
      }
    });
  }
}

/*
 * The waveform as one Path2D: a bar per few pixels of `width` from the loudest of its peaks (0..1), mirrored
 * around `mid` up to `reach`, or a flat line while there are no peaks.
 */
export function peakBars(peaks, width, mid, reach) {
  const path = new Path2D();
  if (!peaks.length) {
    path.rect(0, mid - 1, width, 2);
    return path;
  }
  const bar = width < 600 ? 2 : 3;
  const step = bar + 1;
  const count = Math.max(1, Math.floor(width / step));
  for (let i = 0; i < count; i++) {
    const from = Math.floor((i * peaks.length) / count);
    const to = Math.max(from + 1, Math.floor(((i + 1) * peaks.length) / count));
    let peak = 0;
    for (let j = from; j < to && j < peaks.length; j++) {
      if (peaks[j] > peak) {
        peak = peaks[j];
      }
    }
    const half = Math.max(0.75, peak * reach);
    path.rect(i * step, mid - half, bar, half * 2);
  }
  return path;
}

/*
 * One sound at a time across a page's players (the sample audition, the sample editor's preview, ...), which
 * may play through Web Audio, where no <audio> "play" event tells the others: a player claims the output as it
 * starts, and every other player that registered with onAudioClaimed hears it and stops.
 */
var CLAIM = "stemcrate:audio-claim";

export function claimAudio(owner) {
  document.dispatchEvent(new CustomEvent(CLAIM, { detail: { owner: owner } }));
}

export function onAudioClaimed(owner, stop) {
  document.addEventListener(CLAIM, function (event) {
    if (!event.detail || event.detail.owner !== owner) {
      stop();
    }
  });
}
