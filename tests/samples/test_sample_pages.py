"""The sample browser and sample pages: filters and search, empty states, htmx partials, bulk actions, category
corrections, the detail page with "More like this", owner-only access, and a constant number of queries.

Most tests use rows made here (a sample needs no real audio to be listed or tagged); the ones marked `sliced`
slice the fake stems of tests/browser/conftest.py for real, so the page is also checked against what the slicer
and the tagger actually store.
"""

import io
import re
import uuid
import wave

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from jobs.services import perform as perform_job
from samples import similar
from samples.models import Sample
from samples.views import wave_path
from tests.factories import make_track
from tracks import services
from tracks.models import Collection, Tag

pytestmark = pytest.mark.django_db

SAMPLES = reverse("samples:samples")
BULK = reverse("samples:samples_bulk")
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}


def tiny_wav(seconds=0.05, rate=8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x10" * int(seconds * rate))
    return buffer.getvalue()


def unit_vector(seed: int) -> bytes:
    vector = np.random.default_rng(seed).normal(size=64).astype("<f4")
    return (vector / np.linalg.norm(vector)).astype("<f4").tobytes()


def make_sample(owner, track, *, category="kick", source="drums", index=0, note="", favourite=False,
                confidence=0.9, seed=None, duration=0.4, **fields) -> Sample:  # fmt: skip
    sample = Sample(
        owner=owner, track=track, source=source, index=index, start=index * 0.5, end=index * 0.5 + duration,
        onset=index * 0.5 + 0.01, duration=duration, sample_rate=44100, channels=2, peaks=[0.9, 0.5, 0.2] * 16,
        peak_db=-0.5, loudness=-14.0, note=note, pitch_confidence=0.8 if note else 0.0, category=category,
        predicted_category=category, confidence=confidence, favourite=favourite,
        embedding=unit_vector(seed if seed is not None else index), **fields,
    )  # fmt: skip
    sample.file.save("sample.wav", ContentFile(tiny_wav()), save=False)
    sample.save()
    return sample


@pytest.fixture
def kit(user):
    """Two tracks: drums from one, bass and keys from the other."""
    beat = make_track(user, title="Night Drive", bpm=124)
    song = make_track(user, title="Slow Song", bpm=80)
    samples = {
        "kick": make_sample(user, beat, category="kick", index=0),
        "snare": make_sample(user, beat, category="snare", index=1, favourite=True),
        "hat": make_sample(user, beat, category="hihat_closed", index=2),
        "bass": make_sample(user, song, category="bass", source="bass", index=0, note="A1"),
        "bass2": make_sample(user, song, category="bass", source="bass", index=1, note="C2"),
        "keys": make_sample(user, song, category="keys", source="other", index=0, note="A3"),
    }
    return beat, song, samples


def names(response) -> set[str]:
    """The ids of the samples a response lists."""
    return set(re.findall(r'id="sample-([0-9a-f-]{36})"', response.content.decode()))


def ids(*samples) -> set[str]:
    return {str(s.pk) for s in samples}


# --- the browser ---------------------------------------------------------------------------------------------


def test_it_lists_my_samples_as_cards(user_client, kit, other_user):
    _beat, _song, s = kit
    theirs = make_sample(other_user, make_track(other_user, title="Their Song"), index=7)
    response = user_client.get(SAMPLES)
    assert response.status_code == 200
    page = response.content.decode()
    assert names(response) == ids(*s.values())
    assert str(theirs.pk) not in page and "Their Song" not in page
    assert "Kick 01" in page and "Night Drive" in page and "124 BPM" in page
    assert "A1" in page and "90%" in page  # the note, the confidence
    assert reverse("samples:sample_audio", args=[s["kick"].pk]) in page
    assert '<svg class="wave"' in page and "<script>" not in page and ' style="' not in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"category": "drums"}, {"kick", "snare", "hat"}),
        ({"category": "pitched"}, {"bass", "bass2", "keys"}),
        ({"category": ["kick", "snare"]}, {"kick", "snare"}),
        ({"note": "A"}, {"bass", "keys"}),
        ({"note": "A1"}, {"bass"}),
        ({"favourite": "1"}, {"snare"}),
        ({"source": "bass"}, {"bass", "bass2"}),
        ({"bpm_min": "100"}, {"kick", "snare", "hat"}),
        ({"bpm_max": "100"}, {"bass", "bass2", "keys"}),
        ({"q": "snare"}, {"snare"}),
        ({"q": "slow"}, {"bass", "bass2", "keys"}),
    ],
)
def test_filters_and_search_pick_the_samples(user_client, kit, query, expected):
    _beat, _song, s = kit
    response = user_client.get(SAMPLES, query)
    assert names(response) == ids(*(s[k] for k in expected))


def test_the_track_tag_and_collection_filters(user_client, user, kit):
    beat, _song, s = kit
    assert names(user_client.get(SAMPLES, {"track": beat.pk})) == ids(s["kick"], s["snare"], s["hat"])
    tag = Tag.objects.create(owner=user, name="Dusty")
    s["keys"].tags.add(tag)
    assert names(user_client.get(SAMPLES, {"tag": "dusty"})) == ids(s["keys"])
    crate = services.do_create_collection(user, "Crate")
    crate.samples.add(s["bass"])
    page = user_client.get(SAMPLES, {"collection": crate.pk})
    assert names(page) == ids(s["bass"])
    assert f'<option value="{crate.pk}" selected>Crate</option>' in page.content.decode()


def test_bad_filters_are_explained_and_the_rest_still_apply(user_client, kit):
    _beat, _song, s = kit
    response = user_client.get(SAMPLES, {"category": ["kick", "wobble"], "note": "H#", "bpm_min": "fast"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Unknown category “wobble”" in page and "Unknown note “H#”" in page and "BPM MIN must be a number" in page
    assert names(response) == ids(s["kick"])


def test_filters_answer_htmx_with_the_results_partial(user_client, kit):
    _beat, _song, s = kit
    response = user_client.get(SAMPLES, {"category": "bass"}, **HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page and page.lstrip().startswith('<section id="results"')
    assert names(response) == ids(s["bass"], s["bass2"])
    assert 'id="bulk-form"' in page  # the action bar comes with the results
    # A history restore (htmx without a target) gets the whole page.
    full = user_client.get(
        SAMPLES, {"category": "bass"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in full.content.decode()


def test_it_pages_by_sixty(user_client, user):
    track = make_track(user)
    for i in range(61):
        make_sample(user, track, index=i)
    first = user_client.get(SAMPLES)
    assert len(names(first)) == 60 and "Page 1 of 2" in first.content.decode()
    assert len(names(user_client.get(SAMPLES, {"page": 2}))) == 1
    assert len(names(user_client.get(SAMPLES, {"page": "nonsense"}))) == 60


def test_the_list_view_is_the_same_samples_in_rows(user_client, kit):
    page = user_client.get(SAMPLES, {"view": "list"}).content.decode()
    assert 'class="sample-grid is-list"' in page
    assert 'data-view="list" aria-pressed="true"' in page
    assert 'class="sample-grid"' in user_client.get(SAMPLES).content.decode()


def test_an_empty_library_explains_how_to_get_samples(user_client):
    page = user_client.get(SAMPLES).content.decode()
    assert "No samples yet" in page
    assert "Open a track" in page and "Separate it" in page and "Slice a stem" in page
    assert f'href="{reverse("tracks:index")}"' in page
    assert "No samples match" not in page
    # With a filter in the address, an empty library still says how to get samples.
    assert "No samples yet" in user_client.get(SAMPLES, {"favourite": "1"}).content.decode()


def test_no_match_offers_to_clear_the_filters(user_client, kit):
    page = user_client.get(SAMPLES, {"q": "nothing-like-this"}).content.decode()
    assert "No samples match these filters" in page and "Clear filters" in page
    assert "No samples yet" not in page


def test_the_browser_runs_a_constant_number_of_queries(user_client, user, django_assert_max_num_queries):
    def add(count, start):
        track = make_track(user, title=f"t{start}", bpm=120)
        tag = Tag.objects.create(owner=user, name=f"tag{start}")
        for i in range(count):
            sample = make_sample(user, track, index=start + i, note="A2" if i % 2 else "")
            sample.tags.add(tag)
        services.do_create_collection(user, f"crate {start}").samples.add(sample)

    add(10, 0)
    with django_assert_max_num_queries(15) as few:
        assert len(names(user_client.get(SAMPLES))) == 10
    add(30, 100)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(names(user_client.get(SAMPLES))) == 40


def test_wave_path_draws_one_bar_per_peak_and_copes_with_odd_peaks():
    assert wave_path([1.0] * 48).count("M") == 48
    assert wave_path([0.5] * 200).count("M") == 48  # folded
    assert wave_path([]).startswith("M0 15.5h96")  # a flat line
    assert wave_path(["x", None, 2, -1]).count("M") == 4


# --- bulk actions ----------------------------------------------------------------------------------------------


def bulk(client, samples, action, htmx=True, query="", **fields):
    data = {"ids": [str(s.pk) for s in samples], "action": action, "query": query, **fields}
    return client.post(BULK, data, **(HTMX if htmx else {}))


def test_bulk_favourite_and_unfavourite(user_client, kit):
    _beat, _song, s = kit
    response = bulk(user_client, [s["kick"], s["hat"]], "favourite", query="sort=source")
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert "Added 2 samples to your favourites." in page
    assert set(Sample.objects.filter(favourite=True).values_list("pk", flat=True)) == {
        s["kick"].pk, s["hat"].pk, s["snare"].pk
    }  # fmt: skip
    # The results come back with the same filters, the two still selected.
    assert page.count("checked") >= 2 and f'value="{s["kick"].pk}" form="bulk-form"' in page
    assert re.search(rf'value="{s["kick"].pk}" form="bulk-form" id="[^"]+" data-sample-check checked', page)
    assert 'name="query" value="sort=source"' in page

    response = bulk(user_client, [s["kick"], s["snare"]], "unfavourite")
    assert "Removed 2 samples from your favourites." in response.content.decode()
    assert list(Sample.objects.filter(favourite=True)) == [s["hat"]]


def test_bulk_tags_keep_the_tags_a_sample_had(user_client, user, kit):
    _beat, _song, s = kit
    s["kick"].tags.add(Tag.objects.create(owner=user, name="old"))
    response = bulk(user_client, [s["kick"], s["snare"]], "tag", tags="punchy, 808")
    assert response.status_code == 200
    assert "Tagged 2 samples with “punchy”, “808”." in response.content.decode()
    assert sorted(s["kick"].tags.values_list("name", flat=True)) == ["808", "old", "punchy"]
    assert sorted(s["snare"].tags.values_list("name", flat=True)) == ["808", "punchy"]


def test_bulk_category_is_a_correction(user_client, kit):
    _beat, _song, s = kit
    response = bulk(user_client, [s["kick"], s["hat"]], "category", category="tom")
    assert "Set 2 samples to Tom." in response.content.decode()
    for sample in (s["kick"], s["hat"]):
        sample.refresh_from_db()
        assert sample.category == "tom" and sample.category_corrected
    assert (s["kick"].predicted_category, s["hat"].predicted_category) == ("kick", "hihat_closed")
    assert "was Kick" in response.content.decode()  # the model's guess stays visible


def test_bulk_add_to_an_existing_or_a_new_collection(user_client, user, kit):
    _beat, _song, s = kit
    drums = services.do_create_collection(user, "Drums")
    response = bulk(user_client, [s["kick"], s["snare"], s["hat"]], "collection", collection=str(drums.pk))
    assert "3 samples added to “Drums”." in response.content.decode()
    assert set(drums.samples.all()) == {s["kick"], s["snare"], s["hat"]}

    response = bulk(user_client, [s["bass"]], "collection", new_collection="  Low   end ")
    assert "1 sample added to “Low end”." in response.content.decode()
    assert list(Collection.objects.get(name="Low end").samples.all()) == [s["bass"]]


def test_bulk_delete_asks_first_then_deletes_rows_and_files(user_client, kit, django_capture_on_commit_callbacks):
    _beat, _song, s = kit
    doomed = [s["kick"], s["snare"]]
    files = [sample.file.name for sample in doomed]
    # Without JavaScript: a confirmation page; with htmx: the action bar in its confirm state. Nothing is deleted.
    page = bulk(user_client, doomed, "delete", htmx=False, query="category=drums").content.decode()
    assert "Delete 2 samples?" in page and 'value="delete-confirmed"' in page and 'value="category=drums"' in page
    page = bulk(user_client, doomed, "delete").content.decode()
    assert re.search(r'class="bulk-confirm"\s+data-bulk-confirm', page)  # not hidden
    assert Sample.objects.filter(pk__in=[x.pk for x in doomed]).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = bulk(user_client, doomed, "delete-confirmed")
    assert "Deleted 2 samples and their files." in response.content.decode()
    assert not Sample.objects.filter(pk__in=[x.pk for x in doomed]).exists()
    assert not any(default_storage.exists(name) for name in files)
    assert names(response) == ids(s["hat"], s["bass"], s["bass2"], s["keys"])


def test_bulk_without_javascript_redirects_back_with_a_message(user_client, kit):
    _beat, _song, s = kit
    response = bulk(user_client, [s["kick"]], "favourite", htmx=False, query="category=drums&page=1")
    assert response.status_code == 302
    assert response["Location"] == f"{SAMPLES}?category=drums&page=1"
    page = user_client.get(response["Location"]).content.decode()
    assert "Added 1 sample to your favourites." in page
    # Enter in the tags or the new collection field sends the form's first button, "typed": it does what was typed.
    assert bulk(user_client, [s["kick"]], "typed", htmx=False, tags="boom").status_code == 302
    assert list(s["kick"].tags.values_list("name", flat=True)) == ["boom"]
    assert bulk(user_client, [s["kick"]], "typed", htmx=False, new_collection="Typed").status_code == 302
    assert s["kick"] in Collection.objects.get(name="Typed").samples.all()
    assert bulk(user_client, [s["kick"]], "typed", htmx=False).status_code == 400


@pytest.mark.parametrize(
    ("ids_value", "action", "fields", "reason"),
    [
        ([], "favourite", {}, "Select at least one sample first."),
        (["not-an-id"], "favourite", {}, "“not-an-id” is not a sample id."),
        (None, "explode", {}, "Choose what to do with the selected samples"),
        (None, "tag", {"tags": " , "}, "Give at least one tag name."),
        (None, "category", {"category": "wobble"}, "Unknown category “wobble”"),
        (None, "collection", {}, "Choose a collection or name a new one."),
        (None, "collection", {"collection": "nope"}, "Choose one of your collections."),
        (None, "collection", {"new_collection": "drums"}, "You already have a collection called “drums”."),
    ],
)
def test_bad_bulk_input_is_a_400_with_the_reason_and_changes_nothing(
    user_client, user, kit, ids_value, action, fields, reason
):
    _beat, _song, s = kit
    services.do_create_collection(user, "Drums")
    before = list(Sample.objects.order_by("pk").values_list("pk", "favourite", "category"))
    data = {"ids": ids_value if ids_value is not None else [str(s["kick"].pk)], "action": action, **fields}
    for extra in ({}, HTMX):
        response = user_client.post(BULK, data, **extra)
        assert response.status_code == 400
        assert reason in response.content.decode()
    assert list(Sample.objects.order_by("pk").values_list("pk", "favourite", "category")) == before
    assert not Tag.objects.exists() and Collection.objects.count() == 1


def test_bulk_with_someone_elses_or_a_missing_sample_is_a_404_and_changes_nothing(user_client, other_user, kit):
    _beat, _song, s = kit
    theirs = make_sample(other_user, make_track(other_user), index=3)
    crate = services.do_create_collection(other_user, "Theirs")
    for action in ("favourite", "tag", "category", "delete-confirmed", "collection", "delete"):
        fields = {"tags": "x", "category": "tom", "new_collection": "new"}
        assert bulk(user_client, [s["kick"], theirs], action, **fields).status_code == 404, action
    # My sample, their collection.
    assert bulk(user_client, [s["kick"]], "collection", collection=str(crate.pk)).status_code == 404
    missing = Sample(pk=uuid.uuid4())
    assert bulk(user_client, [s["kick"], missing], "favourite").status_code == 404
    s["kick"].refresh_from_db()
    theirs.refresh_from_db()
    assert not s["kick"].favourite and s["kick"].category == "kick" and not s["kick"].tags.exists()
    assert not theirs.favourite and theirs.category == "kick" and Sample.objects.count() == 7
    assert not crate.samples.exists() and not Collection.objects.filter(name="new").exists()


def test_bulk_only_takes_posts(user_client):
    assert user_client.get(BULK).status_code == 405


# --- one sample ------------------------------------------------------------------------------------------------


def test_the_star_favourites_one_sample(user_client, kit):
    _beat, _song, s = kit
    url = reverse("samples:sample_favourite", args=[s["kick"].pk])
    response = user_client.post(url, {"favourite": "1", "next": SAMPLES + "?q=k"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and page.lstrip().startswith('<form class="star-form"')
    assert 'aria-pressed="true"' in page and 'name="favourite" value="0"' in page
    s["kick"].refresh_from_db()
    assert s["kick"].favourite
    # Without JavaScript: back where it came from (never to another site).
    response = user_client.post(url, {"favourite": "0", "next": SAMPLES + "?q=k"})
    assert response.status_code == 302 and response["Location"] == SAMPLES + "?q=k"
    response = user_client.post(url, {"next": "https://evil.example/"})  # no value: a toggle
    assert response["Location"] == s["kick"].get_absolute_url()
    s["kick"].refresh_from_db()
    assert s["kick"].favourite
    assert user_client.post(url, {"favourite": "maybe"}).status_code == 400


def test_correcting_a_category_from_a_card_keeps_the_models_guess(user_client, kit):
    _beat, _song, s = kit
    kick = s["kick"]
    url = reverse("samples:sample_category", args=[kick.pk])
    response = user_client.post(
        url, {"category": "snare", "ids": str(kick.pk)}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=f"sample-{kick.pk}"
    )
    page = response.content.decode()
    assert response.status_code == 200 and page.lstrip().startswith('<li class="sample is-selected"')
    assert "Snare 01" in page and "was Kick" in page and "Corrected by you. The model guessed Kick (90%)." in page
    kick.refresh_from_db()
    assert (kick.category, kick.predicted_category, kick.category_corrected) == ("snare", "kick", True)
    # The browser shows the correction, and the "snare" filter now finds it.
    assert str(kick.pk) in names(user_client.get(SAMPLES, {"category": "snare"}))


def test_correcting_on_the_sample_page_and_going_back_to_the_guess(user_client, kit):
    _beat, _song, s = kit
    kick = s["kick"]
    url = reverse("samples:sample_category", args=[kick.pk])
    page = user_client.post(url, {"category": "clap"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="sample-category"' in page and "Corrected by you." in page and "Back to the model’s guess (Kick)" in page
    assert 'id="sample-heading" hx-swap-oob="true"' in page and "Clap 01" in page  # the title follows
    kick.refresh_from_db()
    assert kick.category_corrected and kick.predicted_category == "kick"

    user_client.post(url, {"category": "kick"}, HTTP_HX_REQUEST="true")
    kick.refresh_from_db()
    assert (kick.category, kick.category_corrected) == ("kick", False)

    response = user_client.post(url, {"category": "wobble"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "Unknown category “wobble”" in response.content.decode()
    assert user_client.post(url, {"category": "wobble"}).status_code == 400
    kick.refresh_from_db()
    assert kick.category == "kick"
    response = user_client.post(url, {"category": "tom"})
    assert response.status_code == 302 and response["Location"] == kick.get_absolute_url()


def test_the_sample_page_shows_its_facts_and_loads_similar_samples(user_client, kit):
    beat, _song, s = kit
    snare = s["snare"]
    page = user_client.get(snare.get_absolute_url()).content.decode()
    assert "Snare 02" in page and "Night Drive" in page and beat.get_absolute_url() in page
    assert "Drums" in page and "0.500 – 0.900 s" in page and "-0.5" in page and "-14.0" in page
    assert "90%" in page and "Add to favourites" not in page  # it is a favourite already
    assert f"{reverse('samples:sample_audio', args=[snare.pk])}?download=1" in page
    similar_url = reverse("samples:sample_similar", args=[snare.pk])
    assert f'hx-get="{similar_url}" hx-trigger="load"' in page

    similar.clear_cache()
    response = user_client.get(similar_url, HTTP_HX_REQUEST="true")
    fragment = response.content.decode()
    assert response.status_code == 200 and "<html" not in fragment
    listed = names(response)
    assert listed == ids(*(x for x in s.values() if x != snare))
    assert re.search(r'data-similarity="\d+"><strong>\d+%</strong>', fragment)
    # Without JavaScript the same address is the page with the list in it.
    full = user_client.get(similar_url).content.decode()
    assert "<html" in full and 'class="similar-grid"' in full


def test_similar_samples_ranks_the_nearest_first_and_only_mine(user_client, user, other_user):
    track = make_track(user)
    base = make_sample(user, track, index=0, seed=1)
    near = make_sample(user, track, index=1, seed=1)  # the same embedding: 100%
    far = make_sample(user, track, index=2, seed=2)
    make_sample(other_user, make_track(other_user), index=0, seed=1)
    similar.clear_cache()
    fragment = user_client.get(reverse("samples:sample_similar", args=[base.pk]), HTTP_HX_REQUEST="true")
    order = re.findall(r'id="sample-([0-9a-f-]{36})"', fragment.content.decode())
    assert order == [str(near.pk), str(far.pk)]
    assert 'data-similarity="100"' in fragment.content.decode()


def test_tags_and_collections_on_the_sample_page(user_client, user, kit):
    _beat, _song, s = kit
    kick = s["kick"]
    response = user_client.post(
        reverse("samples:sample_tags", args=[kick.pk]), {"tags": "808, Dark"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "Saved" in response.content.decode()
    assert sorted(kick.tags.values_list("name", flat=True)) == ["808", "Dark"]

    url = reverse("samples:sample_collections", args=[kick.pk])
    response = user_client.post(url, {"new_collection": "Kit"}, HTTP_HX_REQUEST="true")
    kit_collection = Collection.objects.get(name="Kit")
    assert kick in kit_collection.samples.all() and "Kit" in response.content.decode()
    response = user_client.post(url, {"new_collection": "kit"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "You already have a collection called “kit”." in response.content.decode()
    assert user_client.post(url, {}, HTTP_HX_REQUEST="true").status_code == 400

    remove = reverse("samples:sample_collection_remove", args=[kick.pk, kit_collection.pk])
    assert user_client.post(remove, HTTP_HX_REQUEST="true").status_code == 200
    assert not kit_collection.samples.exists()
    assert user_client.post(url, {"collection": str(kit_collection.pk)}).status_code == 302
    assert kick in kit_collection.samples.all()


SAMPLE_GETS = ["samples:sample", "samples:sample_similar", "samples:sample_audio"]
SAMPLE_POSTS = [
    "samples:sample_favourite",
    "samples:sample_category",
    "samples:sample_tags",
    "samples:sample_collections",
]


def test_another_users_sample_is_a_404_everywhere(client, user, other_user, kit):
    _beat, _song, s = kit
    kick = s["kick"]
    crate = services.do_create_collection(user, "Mine")
    crate.samples.add(kick)
    client.force_login(other_user)
    for name in SAMPLE_GETS:
        response = client.get(reverse(name, args=[kick.pk]))
        assert response.status_code == 404, name
        assert b"Night Drive" not in response.content
    for name in SAMPLE_POSTS:
        response = client.post(reverse(name, args=[kick.pk]), {"favourite": "1", "category": "tom", "tags": "x",
                                                                 "new_collection": "c"})  # fmt: skip
        assert response.status_code == 404, name
    remove = reverse("samples:sample_collection_remove", args=[kick.pk, crate.pk])
    assert client.post(remove).status_code == 404
    assert bulk(client, [kick], "favourite").status_code == 404
    kick.refresh_from_db()
    assert not kick.favourite and kick.category == "kick" and not kick.tags.exists()
    assert list(crate.samples.all()) == [kick] and not Collection.objects.filter(owner=other_user).exists()
    # Nor does their browser list it.
    assert not names(client.get(SAMPLES))


def test_signed_out_visitors_are_sent_to_sign_in(client, kit):
    _beat, _song, s = kit
    for url in (SAMPLES, s["kick"].get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


# --- with samples the slicer made ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_browses_samples_sliced_from_real_stems(user, client, tmp_path):
    from samples.services import do_request_slice
    from tests.browser.conftest import make_track_with_fake_stems

    client.force_login(user)
    track, stem_set = make_track_with_fake_stems(user, tmp_path / "song", seconds=4.0)
    drums = stem_set.stems.get(name="drums")
    perform_job("slice", str(do_request_slice(track, stem=drums, options={}).pk))
    sliced = list(Sample.objects.filter(owner=user))
    assert len(sliced) >= 4

    response = client.get(SAMPLES, {"track": track.pk, "source": "drums"})
    assert names(response) == ids(*sliced)
    page = response.content.decode()
    assert "Stem test song" in page and "Drums" in page and '<svg class="wave"' in page
    for sample in sliced[:3]:
        assert f"{sample.display_name}" in page
        assert wave_path(sample.peaks) in page

    sample = sliced[0]
    assert client.get(sample.get_absolute_url()).status_code == 200
    similar.clear_cache()
    fragment = client.get(reverse("samples:sample_similar", args=[sample.pk]), HTTP_HX_REQUEST="true")
    assert names(fragment) == ids(*sliced[1:])
    audio = client.get(reverse("samples:sample_audio", args=[sample.pk]))
    assert audio.status_code == 200 and audio["Content-Type"].startswith("audio/")
