"""The track page is put together from the panels other apps register; tracks' own code imports none of them."""

import pytest

from tests.factories import make_track
from tracks import panels

pytestmark = pytest.mark.django_db


def test_it_finds_the_panels_of_the_apps_above_tracks(rf, user):
    found = panels._panels()
    assert {name: fn.__module__ for name, fn in found.items()} == {
        "stems": "stems.views", "export": "exports.views", "pipeline": "pipelines.views", "outputs": "pipelines.views",
    }  # fmt: skip
    request = rf.get("/")
    request.user = user
    context = panels.page_context(request, make_track(user))
    # One key of each panel's part of the page.
    assert {"stem_sets", "export_formats", "pipeline", "midi_clips"} <= set(context)


def test_one_panel_alone_takes_the_views_extra_values(rf, user):
    request = rf.get("/")
    request.user = user
    context = panels.panel_context("outputs", request, make_track(user), output_error="Nope")
    assert context["output_error"] == "Nope" and context["midi_clips"] == []
