"""The track page is put together from panels that the apps above tracks provide: stems, processing, outputs,
export. Each registers a function giving its part of the page's context, so the track views import none of them
(the template names their partials; the Python does not).

Register with `@track_panel("stems")` on `fn(request, track, **extra) -> dict`. Panels are found by importing
every installed app's `views` module, once, the first time a page asks for them.
"""

from collections.abc import Callable

from django.utils.module_loading import autodiscover_modules

_PANELS: dict[str, Callable[..., dict]] = {}
_discovered = False


def track_panel(name: str):
    def register(fn):
        _PANELS[name] = fn
        return fn

    return register


def _panels() -> dict[str, Callable[..., dict]]:
    global _discovered
    if not _discovered:
        autodiscover_modules("views")
        _discovered = True
    return _PANELS


def panel_context(name: str, request, track, **extra) -> dict:
    """One panel's context, for a view that renders only that panel (an htmx swap)."""
    return _panels()[name](request, track, **extra)


def page_context(request, track) -> dict:
    """Every panel's context, merged in registration order, for the whole track page."""
    context = {}
    for fn in _panels().values():
        context.update(fn(request, track))
    return context
