"""Waveform thumbnails as SVG paths, from the peaks stored with tracks, stems and samples."""

WAVE_WIDTH, WAVE_HEIGHT, WAVE_BARS = 96, 32, 48


def wave_path(peaks, bars: int = WAVE_BARS) -> str:
    """The SVG path of a waveform thumbnail from peaks (0..1), as at most `bars` bars in a 96 x 32 box."""
    values = []
    for value in peaks or []:
        try:
            values.append(min(1.0, max(0.0, float(value))))
        except (TypeError, ValueError):
            values.append(0.0)
    if len(values) > bars:  # fold longer lists into `bars` buckets, keeping each bucket's peak
        step = len(values) / bars
        values = [max(values[int(i * step) : max(int(i * step) + 1, int((i + 1) * step))]) for i in range(bars)]
    if not values:
        return f"M0 {WAVE_HEIGHT / 2 - 0.5:g}h{WAVE_WIDTH}v1H0z"
    step = WAVE_WIDTH / len(values)
    bar = step * 0.6
    parts = []
    for i, value in enumerate(values):
        height = max(0.8, value * (WAVE_HEIGHT - 2))
        parts.append(f"M{i * step:.2f} {(WAVE_HEIGHT - height) / 2:.2f}h{bar:.2f}v{height:.2f}h-{bar:.2f}z")
    return "".join(parts).replace(".00", "")
