from django import template

register = template.Library()


@register.filter
def duration(seconds):
    """183.4 -> "3:03"; 3725 -> "1:02:05"; None -> "—"."""
    if seconds is None or seconds == "":
        return "—"
    total = int(float(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def decimal1(value):
    """120.0 -> "120", 127.46 -> "127.5", -8.04 -> "-8.0" for LUFS. Cheaper than floatformat on list pages."""
    if value is None or value == "":
        return ""
    text = f"{float(value):.1f}"
    return text


@register.filter
def bpm(value):
    """BPM as producers write it: 128, 127.5."""
    if value is None or value == "":
        return ""
    text = f"{float(value):.1f}"
    return text[:-2] if text.endswith(".0") else text
