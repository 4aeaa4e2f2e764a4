import os
import re
from functools import cache, lru_cache
from pathlib import Path

from django import template
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.template.base import FilterExpression
from django.template.defaulttags import token_kwargs
from django.templatetags.static import static
from django.utils.html import escape, format_html

from core.waveform import wave_path

register = template.Library()


@register.filter(name="wave_path")
def wave_path_filter(peaks, bars=None):
    """`{{ stem.peaks|wave_path:240 }}`: the SVG path of a waveform (at most `bars` bars in a 96 x 32 box)."""
    return wave_path(peaks, int(bars)) if bars else wave_path(peaks)


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


# ---------------------------------------------------------------------------------------------------- icons
ICON_SPRITE = "img/icons.svg"
ICON_SIZE = 20  # the width and height attributes, for a page without CSS; .icon in app.css sizes them
_SYMBOL = re.compile(r"<symbol\b[^>]*>")
_ATTRIBUTE = re.compile(r'\s(id|viewBox)="([^"]*)"')
# The shared presentation lives here, not on the symbols, so that it is inherited into the <use> and CSS on
# .icon (fill on a ticked favourite, a wider stroke on .cat-check) can still override it.
_ICON = (
    '<svg class="{}" viewBox="{}" width="{}" height="{}" fill="none" stroke="currentColor" stroke-width="1.8" '
    'stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">'
    '<use href="{}#i-{}"></use></svg>'
)


@cache
def _sprite_path() -> str:
    path = finders.find(ICON_SPRITE)
    if not path:
        raise ImproperlyConfigured(f"The icon sprite static/{ICON_SPRITE} is missing.")
    return path


@lru_cache(maxsize=1)
def _parse_sprite(path: str, mtime_ns: int) -> dict[str, str]:
    symbols = {}
    for tag in _SYMBOL.findall(Path(path).read_text(encoding="utf-8")):
        attributes = dict(_ATTRIBUTE.findall(tag))
        if attributes.get("id", "").startswith("i-") and attributes.get("viewBox"):
            symbols[attributes["id"][2:]] = attributes["viewBox"]
    return symbols


def icon_names() -> dict[str, str]:
    """{name: viewBox} for every <symbol id="i-NAME"> of the sprite; parsed again only when the file changes."""
    path = _sprite_path()
    return _parse_sprite(path, os.stat(path).st_mtime_ns)


def _check_icon(name) -> str:
    viewbox = icon_names().get(name) if isinstance(name, str) else None
    if viewbox is None:
        raise template.TemplateSyntaxError(
            f'Unknown icon {name!r}: static/{ICON_SPRITE} has no <symbol id="i-{name}">.'
        )
    return viewbox


def render_icon(name: str, css_class: str = "") -> str:
    """<svg class="icon CLASS" …><use href="…/icons.svg#i-NAME"></use></svg>; an unknown name raises."""
    viewbox = _check_icon(name)
    classes = f"icon {css_class}" if css_class else "icon"
    return format_html(_ICON, escape(classes), viewbox, ICON_SIZE, ICON_SIZE, static(ICON_SPRITE), name)


class IconNode(template.Node):
    def __init__(self, name: FilterExpression, css_class: FilterExpression | None):
        self.name = name
        self.css_class = css_class

    def render(self, context):
        css_class = self.css_class.resolve(context) if self.css_class is not None else ""
        return render_icon(self.name.resolve(context), str(css_class or ""))


@register.tag
def icon(parser, token):
    """{% icon "download" %}, {% icon "play" class="icon-play" %} or {% icon name %}: one symbol of
    static/img/icons.svg. A quoted name is checked when the template is compiled, a variable when it renders:
    either way an unknown icon is an error, not an empty square."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError('{% icon %} needs a name: {% icon "download" class="…" %}')
    name = parser.compile_filter(bits[1])
    rest = bits[2:]
    options = token_kwargs(rest, parser, support_legacy=False)
    if rest or set(options) - {"class"}:
        raise template.TemplateSyntaxError(f'{{% icon %}} takes a name and class="…" only, not {bits[2:]}')
    if isinstance(name.var, str) and not name.filters:
        _check_icon(str(name.var))
    return IconNode(name, options.get("class"))
