"""Older backup formats, converted to the current one before `restore` loads them.

A backup's manifest.json says which layout wrote its db.xml (`"format"`):

1. Two apps: `library` (tags, tracks, collections, stems, samples, MIDI, lyrics, exports) and `processing`
   (queue pings, jobs, pipelines). Written up to commit 4bcfb66.
2. One app per domain (tracks, stems, samples, midi, lyrics, exports, jobs, pipelines), with a generic job
   subject and pipeline steps in a table of their own. The current format.

`convert_format1` turns a format-1 dump into a format-2 one; it works on the XML alone (no database, no
models), so it can be tested without a restore and cannot be affected by what the database holds. Stored files
need no conversion: their paths ("users/<user>/tracks/<track>/...") did not change.

The whole dump is held in memory while it is converted (an ElementTree takes several times the file's size):
a one-off cost per old backup, paid for a conversion that stays a plain function of the text.
"""

import xml.etree.ElementTree as ET

# Old model label -> new model label. Model names are unchanged; only the app moved.
MODELS_FORMAT1 = {
    "library.tag": "tracks.tag",
    "library.track": "tracks.track",
    "library.collection": "tracks.collection",
    "library.stemset": "stems.stemset",
    "library.stem": "stems.stem",
    "library.sample": "samples.sample",
    "library.midiclip": "midi.midiclip",
    "library.lyrics": "lyrics.lyrics",
    "library.export": "exports.export",
    "processing.queueping": "jobs.queueping",
    "processing.job": "jobs.job",
    "processing.pipeline": "pipelines.pipeline",
}
OLD_APPS = {label.split(".")[0] for label in MODELS_FORMAT1}

# Fields whose values name a content type by natural key: the last two <natural> values are (app, model).
NATURAL_KEY_MODELS = {"contenttypes.contenttype", "auth.permission"}

# The old Job's links, replaced by the generic subject (the first one set, in this order) and PipelineStep.
JOB_SUBJECTS = (("stem", "stems.stem"), ("export", "exports.export"), ("track", "tracks.track"))
JOB_OLD_FIELDS = ("track", "stem", "export", "pipeline", "step")


class FormatError(ValueError):
    """A dump that is not what its manifest's format says."""


def convert_format1(xml: bytes) -> bytes:
    """A format-1 db.xml (Django XML dumpdata, natural foreign keys) as format 2. Every row keeps its primary
    key and every field its value, except where the schema changed:

    - model labels (and the `to` of relation fields) move to the new apps;
    - content types and permissions named by natural key (["library", "track"]) get the new app label;
    - a Job's `track`, `stem` and `export` become its subject: the stem when it had one, else the export, else
      the track (none when it had none); `counted` (toward the hourly job limit) is what the old quota counted:
      jobs outside a pipeline that are not analyses;
    - a Job's `pipeline` and `step` become a pipelines.PipelineStep row, numbered 1, 2, ... in dump order;
    - Collection.samples becomes Sample.collections (the same pairs, declared on the other side).
    """
    # As Django's own XML deserializer does: no DTD, hence no entities to expand or fetch. "<!DOCTYPE" in a
    # value would have been escaped, so the literal text can only be markup.
    if b"<!DOCTYPE" in xml:
        raise FormatError("db.xml has a DTD, which a Django dump never has; refusing to parse it.")
    root = ET.fromstring(xml)  # noqa: S314 (no DTD, checked above)
    if root.tag != "django-objects":
        raise FormatError(f"db.xml is not a Django XML dump (its root is <{root.tag}>).")
    objects = list(root)
    tail = objects[0].tail if objects else "\n"
    collections_of: dict[str, list[str]] = {}
    steps = []
    samples = []
    for obj in objects:
        old_label = obj.get("model", "")
        if old_label.split(".")[0] in OLD_APPS and old_label not in MODELS_FORMAT1:
            raise FormatError(f"db.xml has rows of {old_label}, which format 1 did not have.")
        obj.set("model", MODELS_FORMAT1.get(old_label, old_label))
        for field in obj.findall("field"):
            _relabel_field(field)
        if old_label == "library.collection":
            field = _field(obj, "samples")
            if field is not None:
                for link in field.findall("object"):
                    collections_of.setdefault(link.get("pk"), []).append(obj.get("pk"))
                obj.remove(field)
        elif old_label == "library.sample":
            samples.append(obj)
        elif old_label == "processing.job":
            step = _convert_job(obj)
            if step is not None:
                steps.append(step)
    for sample in samples:
        field = _sub(sample, "collections", rel="ManyToManyRel", to="tracks.collection")
        for pk in collections_of.pop(sample.get("pk"), []):
            ET.SubElement(field, "object", pk=pk)
    if collections_of:
        # loaddata would fail on the missing rows anyway; this says which ones.
        raise FormatError(f"collections list samples that are not in the dump: {', '.join(sorted(collections_of))}")
    for number, (pipeline, job, step) in enumerate(steps, start=1):
        row = ET.SubElement(root, "object", model="pipelines.pipelinestep", pk=str(number))
        row.tail = tail
        _sub(row, "pipeline", rel="ManyToOneRel", to="pipelines.pipeline").text = pipeline
        _sub(row, "job", rel="OneToOneRel", to="jobs.job").text = job
        _sub(row, "step", type="CharField").text = step
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _field(obj: ET.Element, name: str) -> ET.Element | None:
    return next((f for f in obj.findall("field") if f.get("name") == name), None)


def _sub(parent: ET.Element, name: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, "field", name=name, **attrs)


def _value(field: ET.Element | None) -> str | None:
    """A field's serialized value: None for a missing field or <None/>, else its text ("" when empty)."""
    if field is None or field.find("None") is not None:
        return None
    return field.text or ""


def _relabel_field(field: ET.Element) -> None:
    target = field.get("to")
    if target is None:
        return
    field.set("to", MODELS_FORMAT1.get(target, target))
    if target not in NATURAL_KEY_MODELS:
        return
    # A foreign key holds its natural key itself; a many-to-many field holds one <object> per related row.
    for key in [field, *field.findall("object")]:
        naturals = key.findall("natural")
        if len(naturals) >= 2:
            app, model = naturals[-2], naturals[-1]
            new = MODELS_FORMAT1.get(f"{app.text}.{model.text}")
            if new:
                app.text = new.split(".")[0]


def _convert_job(job: ET.Element) -> tuple[str, str, str] | None:
    """Rewrite one old Job in place; return (pipeline pk, job pk, step) when it was a pipeline's step."""
    old = {name: _field(job, name) for name in JOB_OLD_FIELDS}
    subject_type, subject_id = None, None
    for name, label in JOB_SUBJECTS:
        pk = _value(old[name])
        if pk is not None:
            subject_type, subject_id = label, pk
            break
    pipeline, step = _value(old["pipeline"]), _value(old["step"]) or ""
    kind = _value(_field(job, "kind"))
    # The old quota (library.quotas._recent) counted exactly these: step == "" also covers a step whose
    # pipeline was deleted (the link was SET_NULL, the step name stayed).
    counted = pipeline is None and step == "" and kind != "analyse"

    fields = list(job)
    present = [f for f in old.values() if f is not None]
    at = min((fields.index(f) for f in present), default=len(fields))
    for field in present:
        job.remove(field)
    new_type = ET.Element("field", name="subject_type", rel="ManyToOneRel", to="contenttypes.contenttype")
    if subject_type is None:
        ET.SubElement(new_type, "None")
    else:
        for part in subject_type.split("."):
            ET.SubElement(new_type, "natural").text = part
    new_id = ET.Element("field", name="subject_id", type="UUIDField")
    if subject_id is None:
        ET.SubElement(new_id, "None")
    else:
        new_id.text = subject_id
    new_counted = ET.Element("field", name="counted", type="BooleanField")
    new_counted.text = str(counted)
    for offset, field in enumerate((new_type, new_id, new_counted)):
        job.insert(at + offset, field)
    return None if pipeline is None else (pipeline, job.get("pk"), step)
