"""`restore` reads backups of the two-app layout (format 1) by converting their dump (stemcrate.backup_formats).

tests/fixtures/backup-format1.tar is a real backup written by commit 4bcfb66 (made by make_backup_format1.py
in that folder); what is expected of it is read from its own db.xml, so a regenerated fixture needs no edit here.
"""

import hashlib
import io
import json
import tarfile
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError

from exports.models import Export
from jobs.models import Job, QueuePing
from lyrics.models import Lyrics
from midi.models import MidiClip
from pipelines.models import Pipeline, PipelineStep
from samples.models import Sample
from stemcrate.backup_formats import MODELS_FORMAT1, FormatError, convert_format1
from stemcrate.management.commands.backup import EXCLUDE, walk_storage
from stems.models import Stem, StemSet
from tracks.models import Collection, Tag, Track

FIXTURE = Path(__file__).parent / "fixtures" / "backup-format1.tar"


def fixture_member(name: str) -> bytes:
    with tarfile.open(FIXTURE) as tar:
        return tar.extractfile(name).read()


def old_objects(label: str) -> list[dict]:
    """The fixture's rows of one old model, as {"pk": ..., field name: text, None, or [related pks]}."""
    rows = []
    for obj in ET.fromstring(fixture_member("db.xml")):  # noqa: S314 (our own fixture)
        if obj.get("model") != label:
            continue
        row = {"pk": obj.get("pk")}
        for field in obj.findall("field"):
            if field.get("rel") == "ManyToManyRel":
                row[field.get("name")] = [link.get("pk") for link in field.findall("object")]
            else:
                row[field.get("name")] = None if field.find("None") is not None else field.text or ""
        rows.append(row)
    return rows


def canonical(xml: bytes) -> dict:
    """Every object of a dump, keyed by (model, pk), each field as comparable text (links sorted)."""
    out = {}
    for obj in ET.fromstring(xml):  # noqa: S314 (our own dumps)
        fields = {}
        for field in obj.findall("field"):
            links = field.findall("object")
            if links:
                keys = [link.get("pk") or tuple(n.text for n in link.findall("natural")) for link in links]
                fields[field.get("name")] = sorted(keys, key=str)
            elif field.find("None") is not None:
                fields[field.get("name")] = None
            elif field.get("type") == "JSONField":
                # PostgreSQL's jsonb keeps its own key order: compare the values, not their text.
                fields[field.get("name")] = json.loads(field.text or "null")
            else:
                naturals = [n.text for n in field.findall("natural")]
                fields[field.get("name")] = naturals or field.text or ""
        out[obj.get("model"), obj.get("pk")] = fields
    return out


@pytest.mark.django_db(transaction=True)
def test_it_restores_a_backup_made_by_the_two_app_layout(tmp_path, capsys):
    manifest = json.loads(fixture_member("manifest.json"))
    assert manifest["format"] == 1
    call_command("restore", str(FIXTURE))
    assert "every checksum matched" in capsys.readouterr().out

    counts = {
        get_user_model(): 2, Tag: 2, Track: 2, Collection: 2, StemSet: 1, Stem: 2, Sample: 3, MidiClip: 1,
        Lyrics: 1, Export: 1, QueuePing: 1, Job: 9, Pipeline: 1, PipelineStep: 2,
    }  # fmt: skip
    assert {model: model.objects.count() for model in counts} == counts
    old_counts = Counter(obj.get("model") for obj in ET.fromstring(fixture_member("db.xml")))  # noqa: S314
    assert {MODELS_FORMAT1.get(label, label): n for label, n in old_counts.items()} == {
        model._meta.label_lower: n for model, n in counts.items() if model is not PipelineStep
    } | {"sites.site": 1}

    # The job's subject is its old stem, else its old export, else its old track; ids are kept.
    old_jobs = old_objects("processing.job")
    with_stem = [job for job in old_jobs if job["stem"]]
    assert len(with_stem) == 4  # slice, midi and the pipeline's two steps (the lyrics were of the mix)
    for old in old_jobs:
        job = Job.objects.get(pk=old["pk"])
        if old["stem"]:
            assert job.subject == Stem.objects.get(pk=old["stem"])
        elif old["export"]:
            assert job.subject == Export.objects.get(pk=old["export"]) and job.kind == "export"
        else:
            assert job.subject == Track.objects.get(pk=old["track"])
        assert job.counted == (not old["pipeline"] and old["kind"] != "analyse"), old
    assert Job.objects.about(Stem.objects.get(name="drums")).count() == 2  # a slice, and the pipeline's
    assert sorted(Job.objects.filter(counted=False).values_list("kind", flat=True)) == [
        "analyse", "analyse", "midi", "slice"
    ]  # fmt: skip

    pipeline = Pipeline.objects.get()
    steps = {old["pk"]: old["step"] for old in old_jobs if old["pipeline"]}
    assert dict(pipeline.step_links.values_list("job_id", "step")) == {uuid.UUID(pk): s for pk, s in steps.items()}
    assert sorted(steps.values()) == ["midi:bass", "slice:drums"]
    assert sorted(job.step for job in pipeline.jobs) == ["midi:bass", "slice:drums"]

    # Collection.samples is now Sample.collections: the same pairs.
    old_pairs = {(s, c["pk"]) for c in old_objects("library.collection") for s in c["samples"]}
    assert len(old_pairs) == 1
    pairs = Sample.collections.through.objects.values_list("sample_id", "collection_id")
    assert {(str(s), str(c)) for s, c in pairs} == old_pairs
    sample = Sample.objects.get(collections__name="Crate")
    assert (str(sample.pk), str(sample.collections.get().pk)) in old_pairs and sample.stem.name == "drums"
    favourite = Sample.objects.get(favourite=True)
    assert [t.name for t in favourite.tags.all()] == ["punchy"]
    assert get_user_model().objects.get(username="alice").has_perm("tracks.view_track")

    # Every stored file is back, byte for byte, and every row's file is among them.
    stored = {name: hashlib.sha256(default_storage.open(name).read()).hexdigest() for name in walk_storage()}
    assert stored == {name: entry["sha256"] for name, entry in manifest["files"].items()}
    row_files = [track.original.name for track in Track.objects.all()]
    row_files += [stem.file.name for stem in Stem.objects.all()] + [s.file.name for s in Sample.objects.all()]
    row_files += [MidiClip.objects.get().file.name, Export.objects.get().file.name]
    assert set(row_files) == set(stored)

    # Every other field of every row is as the backup had it: a dump of the restored database is the converted one.
    dump = tmp_path / "after.xml"
    call_command("dumpdata", format="xml", natural_foreign=True, exclude=EXCLUDE, output=str(dump), verbosity=0)
    restored, converted = canonical(dump.read_bytes()), canonical(convert_format1(fixture_member("db.xml")))
    assert restored.keys() == converted.keys()
    for key, fields in restored.items():
        # Fields added since the backup was made (a sample's `edit`, say) come back empty.
        added = {name: value for name, value in fields.items() if name not in converted[key]}
        assert all(value is None for value in added.values()), (key, added)
        assert {name: value for name, value in fields.items() if name not in added} == converted[key], key


@pytest.mark.django_db
def test_it_makes_new_backups_in_format_2(tmp_path):
    call_command("backup", str(tmp_path / "new.tar"))
    with tarfile.open(tmp_path / "new.tar") as tar:
        assert json.load(tar.extractfile("manifest.json"))["format"] == 2


@pytest.mark.django_db
def test_it_refuses_a_format_it_does_not_know(tmp_path):
    out = tmp_path / "future.tar"
    with tarfile.open(FIXTURE) as src, tarfile.open(out, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "manifest.json":
                data = json.dumps({**json.loads(data), "format": 3}).encode()
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    with pytest.raises(CommandError, match="format 3; this version reads 1, 2"):
        call_command("restore", str(out))


# --- the conversion alone ------------------------------------------------------------------------------------

TRACK, STEM, EXPORT = (str(uuid.UUID(digit * 32)) for digit in "123")
PIPELINE, COLLECTION = (str(uuid.UUID(digit * 32)) for digit in "45")
SAMPLES = ["66666666-6666-6666-6666-666666666661", "66666666-6666-6666-6666-666666666662"]
NONE = "<None></None>"


def old_job(pk, kind, *, track=TRACK, stem=None, export=None, pipeline=None, step=""):
    def fk(name, to, value):
        return f'<field name="{name}" rel="ManyToOneRel" to="{to}">{value or NONE}</field>'

    return (
        f'<object model="processing.job" pk="{pk}">'
        '<field name="owner" rel="ManyToOneRel" to="auth.user"><natural>alice</natural></field>'
        f'<field name="kind" type="CharField">{kind}</field>'
        f"{fk('track', 'library.track', track)}{fk('stem', 'library.stem', stem)}"
        '<field name="params" type="JSONField">{}</field><field name="queue" type="CharField">cpu</field>'
        f"{fk('pipeline', 'processing.pipeline', pipeline)}{fk('export', 'library.export', export)}"
        f'<field name="step" type="CharField">{step}</field>'
        '<field name="status" type="CharField">queued</field></object>'
    )


def dump(*objects: str) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>\n<django-objects version="1.0">' + "\n".join(objects)).encode() + (
        b"</django-objects>"
    )


def converted(*objects: str) -> dict:
    return canonical(convert_format1(dump(*objects)))


def test_it_gives_a_job_its_stem_else_its_export_else_its_track_as_subject():
    rows = converted(
        old_job("a" * 32, "slice", stem=STEM),
        old_job("b" * 32, "export", export=EXPORT),
        old_job("c" * 32, "lyrics"),
        old_job("d" * 32, "slice", track=None),
    )
    subjects = {pk: (row["subject_type"], row["subject_id"]) for (_, pk), row in rows.items()}
    assert subjects == {
        "a" * 32: (["stems", "stem"], STEM),
        "b" * 32: (["exports", "export"], EXPORT),
        "c" * 32: (["tracks", "track"], TRACK),
        "d" * 32: (None, None),
    }
    job = rows["jobs.job", "a" * 32]
    assert not {"track", "stem", "export", "pipeline", "step"} & set(job)
    assert list(job) == [
        "owner", "kind", "subject_type", "subject_id", "counted", "params", "queue", "status"
    ]  # fmt: skip
    assert {pk: row["counted"] for (_, pk), row in rows.items()} == {
        "a" * 32: "True", "b" * 32: "True", "c" * 32: "True", "d" * 32: "True"
    }  # fmt: skip


def test_it_does_not_count_analyses_and_pipeline_steps_toward_the_job_limit():
    rows = converted(
        old_job("a" * 32, "analyse"),
        old_job("b" * 32, "slice", stem=STEM, pipeline=PIPELINE, step="slice:drums"),
        old_job("c" * 32, "midi", stem=STEM, step="midi:bass"),  # its pipeline was deleted (SET_NULL)
        old_job("d" * 32, "midi", stem=STEM),
    )
    assert {pk: row["counted"] for (model, pk), row in rows.items() if model == "jobs.job"} == {
        "a" * 32: "False", "b" * 32: "False", "c" * 32: "False", "d" * 32: "True"
    }  # fmt: skip


def test_it_turns_pipeline_jobs_into_numbered_pipeline_steps():
    rows = converted(
        old_job("a" * 32, "analyse", pipeline=PIPELINE, step="analyse"),
        old_job("b" * 32, "slice", stem=STEM),
        old_job("c" * 32, "slice", stem=STEM, pipeline=PIPELINE, step="slice:drums"),
    )
    steps = {pk: row for (model, pk), row in rows.items() if model == "pipelines.pipelinestep"}
    assert steps == {
        "1": {"pipeline": PIPELINE, "job": "a" * 32, "step": "analyse"},
        "2": {"pipeline": PIPELINE, "job": "c" * 32, "step": "slice:drums"},
    }


def test_it_moves_collection_samples_to_the_samples():
    def sample(pk):
        return (
            f'<object model="library.sample" pk="{pk}"><field name="source" type="CharField">mix</field>'
            '<field name="tags" rel="ManyToManyRel" to="library.tag"></field></object>'
        )

    collection = (
        f'<object model="library.collection" pk="{COLLECTION}"><field name="name" type="CharField">Crate</field>'
        f'<field name="tracks" rel="ManyToManyRel" to="library.track"><object pk="{TRACK}"></object></field>'
        f'<field name="samples" rel="ManyToManyRel" to="library.sample"><object pk="{SAMPLES[1]}"></object></field>'
        "</object>"
    )
    rows = converted(collection, sample(SAMPLES[0]), sample(SAMPLES[1]))
    assert rows["tracks.collection", COLLECTION] == {"name": "Crate", "tracks": [TRACK]}
    assert rows["samples.sample", SAMPLES[0]] == {"source": "mix", "tags": "", "collections": ""}
    assert rows["samples.sample", SAMPLES[1]]["collections"] == [COLLECTION]


def test_it_renames_model_labels_and_content_type_natural_keys_and_keeps_the_rest():
    user = (
        '<object model="auth.user" pk="1"><field name="username" type="CharField">alice &amp; co</field>'
        '<field name="user_permissions" rel="ManyToManyRel" to="auth.permission">'
        "<object><natural>view_track</natural><natural>library</natural><natural>track</natural></object>"
        "<object><natural>add_job</natural><natural>processing</natural><natural>job</natural></object>"
        "<object><natural>add_user</natural><natural>auth</natural><natural>user</natural></object>"
        "</field></object>"
    )
    stem_set = (
        f'<object model="library.stemset" pk="{STEM}">'
        f'<field name="track" rel="ManyToOneRel" to="library.track">{TRACK}</field>'
        '<field name="job" rel="ManyToOneRel" to="processing.job"><None></None></field></object>'
    )
    out = convert_format1(dump(user, stem_set))
    assert b"library" not in out and b"processing" not in out
    rows = canonical(out)
    assert rows["auth.user", "1"]["username"] == "alice & co"
    assert rows["auth.user", "1"]["user_permissions"] == [
        ("add_job", "jobs", "job"), ("add_user", "auth", "user"), ("view_track", "tracks", "track")
    ]  # fmt: skip
    assert rows["stems.stemset", STEM] == {"track": TRACK, "job": None}
    assert b'to="jobs.job"' in out


def test_it_refuses_what_format_1_did_not_have():
    with pytest.raises(FormatError, match=r"library\.playlist"):
        convert_format1(dump('<object model="library.playlist" pk="1"></object>'))
    with pytest.raises(FormatError, match="DTD"):
        convert_format1(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><django-objects></django-objects>')


@pytest.mark.django_db
def test_its_output_is_what_django_loads(django_user_model):
    django_user_model.objects.create_user("alice")  # the job's owner, by natural key
    xml = convert_format1(dump(old_job("a" * 32, "slice", stem=STEM, pipeline=PIPELINE, step="slice:drums")))
    job, step = (d.object for d in serializers.deserialize("xml", xml.decode()))
    assert job.subject_type == ContentType.objects.get_for_model(Stem) and str(job.subject_id) == STEM
    assert job.counted is False
    assert isinstance(step, PipelineStep) and step.pk == 1 and step.step == "slice:drums"
    assert step.job_id == uuid.UUID("a" * 32) and str(step.pipeline_id) == PIPELINE
