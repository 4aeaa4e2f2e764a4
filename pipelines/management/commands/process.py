"""Run the whole pipeline on audio files from the command line, with progress bars, for batch work and servers
without a browser. Jobs run in this process (no worker or broker needed); a running worker never runs one twice.
"""

import threading
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from core.quotas import exempt
from exports.build import clean_export_options, write_export
from jobs import services as jobs
from jobs.models import Job
from jobs.services import perform as perform_job
from pipelines.models import STEP_JOBS, Pipeline
from pipelines.services import PipelineError, do_process_tracks
from pipelines.services import progress as pipeline_progress
from tracks.management.commands._local import LocalAudioFile, get_user
from tracks.services import UploadError, do_upload_track


class Command(BaseCommand):
    help = (
        "Upload FILEs to a library and process them: analyse, separate, slice, MIDI and lyrics (or --steps), "
        "then optionally --export them all to a ZIP. Example: manage.py process song.wav --export out.zip"
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+")
        parser.add_argument("--user", help="username or email (default: the only user)")
        parser.add_argument("--steps", help="comma-separated: analyse,separate,slice,midi,lyrics (default: all)")
        parser.add_argument("--separation-model", default=None, help="htdemucs (default), htdemucs_ft, htdemucs_6s")
        parser.add_argument("--lyrics-model", default=None, help="Whisper model: tiny ... large-v3, turbo")
        parser.add_argument("--language", default=None, help="lyrics language code (default: detect)")
        parser.add_argument("--quantise", action="store_true", help="snap MIDI notes to the beat grid")
        parser.add_argument("--export", metavar="OUT.zip", help="write everything made to this ZIP")
        parser.add_argument("--format", default="wav24", help="export audio: wav16, wav24, wav32f, aiff, flac, mp3")
        parser.add_argument("--rate", type=int, default=44100, help="export sample rate: 44100 or 48000")
        parser.add_argument("--no-progress", action="store_true", help="plain log lines instead of bars")

    def handle(self, *args, **options):
        owner = get_user(options["user"])
        if options["export"]:
            try:
                clean_export_options({"format": options["format"], "sample_rate": options["rate"]})
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        tracks = []
        with jobs.run_inline(), exempt():  # an admin at the shell: rate limits are for the web; quotas still apply
            for name in options["files"]:
                path = Path(name).expanduser()
                if not path.is_file():
                    raise CommandError(f"{path} is not a file.")
                try:
                    with LocalAudioFile(str(path)) as fh:
                        result = do_upload_track(owner, fh)
                except UploadError as exc:
                    raise CommandError(f"{path}: {exc.reason}") from exc
                note = "" if result.created else " (already in the library)"
                self.stdout.write(f"{path.name}: “{result.track.display_title}”{note}")
                tracks.append(result.track)
            lyrics = {"model": options["lyrics_model"], "language": options["language"]}
            step_options = {
                "separate": {"model": options["separation_model"]} if options["separation_model"] else {},
                "lyrics": {k: v for k, v in lyrics.items() if v},
                "midi": {"quantise": options["quantise"]},
            }
            try:
                pipelines = do_process_tracks(tracks, steps=options["steps"], options=step_options)
            except PipelineError as exc:
                raise CommandError(str(exc)) from exc
            self._run(pipelines, bars=not options["no_progress"])
        failed = self._report(pipelines)
        if options["export"]:
            self._export(owner, tracks, options)
        if failed == len(pipelines):
            raise CommandError("Every pipeline failed: see the reasons above.")

    def _run(self, pipelines, bars: bool):
        """Run queued jobs of these pipelines here, oldest first, until none is left; bars follow progress."""
        ids = [p.pk for p in pipelines]
        stop = threading.Event()
        monitor = threading.Thread(target=self._monitor, args=(ids, stop, bars), daemon=True)
        monitor.start()
        try:
            while True:
                job = (
                    Job.objects.filter(pipeline_step__pipeline_id__in=ids, status=Job.Status.QUEUED)
                    .order_by("queued_at")
                    .first()
                )
                if job is None:
                    break
                perform_job(job.kind, job.pk)
        finally:
            stop.set()
            monitor.join()

    def _monitor(self, ids, stop, bars: bool):
        from tqdm import tqdm

        try:
            titles = dict(Pipeline.objects.filter(pk__in=ids).values_list("pk", "track__title"))
            layout = "{desc:<30} {bar} {n:>3}%{postfix}"
            progress = {
                pk: tqdm(total=100, desc=(titles[pk] or "track")[:30], position=i, disable=not bars, bar_format=layout)
                for i, pk in enumerate(ids)
            }
            last = {}
            while True:
                finished = stop.wait(0.5)
                for pipeline in Pipeline.objects.filter(pk__in=ids).prefetch_related(STEP_JOBS):
                    state = pipeline_progress(pipeline)
                    running = [j for j in pipeline.step_jobs() if j.status == Job.Status.RUNNING]
                    stage = f"{running[0].step}: {running[0].stage}" if running else pipeline.get_status_display()
                    bar = progress[pipeline.pk]
                    bar.n = state["percent"]
                    bar.set_postfix_str(stage[:60], refresh=True)
                    if not bars and last.get(pipeline.pk) != stage:
                        self.stdout.write(f"{titles[pipeline.pk]}: {state['percent']}% {stage}")
                    last[pipeline.pk] = stage
                if finished:
                    break
            for bar in progress.values():
                bar.close()
        finally:
            close_old_connections()

    def _report(self, pipelines) -> int:
        failed = 0
        for pipeline in Pipeline.objects.filter(pk__in=[p.pk for p in pipelines]).prefetch_related(STEP_JOBS):
            style = self.style.SUCCESS if pipeline.status == "succeeded" else self.style.WARNING
            self.stdout.write(style(f"{pipeline.track}: {pipeline.get_status_display()}"))
            for job in sorted(pipeline.step_jobs(), key=lambda j: j.queued_at):
                line = f"  {job.step:<16} {job.get_status_display()}"
                self.stdout.write(line + (f": {job.error}" if job.error else ""))
            for step, reason in pipeline.skipped.items():
                self.stdout.write(f"  {step:<16} skipped: {reason}")
            failed += pipeline.status == "failed"
        return failed

    def _export(self, owner, tracks, options):

        out = Path(options["export"]).expanduser()
        started = time.monotonic()
        with open(out, "wb") as fh:
            summary = write_export(
                fh, owner, tracks=tracks, options={"format": options["format"], "sample_rate": options["rate"]}
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {summary['files']} files ({out.stat().st_size / 1e6:.1f} MB) to {out} "
                f"in {time.monotonic() - started:.1f} s"
            )
        )
