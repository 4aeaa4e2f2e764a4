"""`make run`: Redis (if none answers), a CPU worker, a GPU-queue worker and the web server, stopped on Ctrl-C."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from stemcrate.services import ensure_redis

STOP_TIMEOUT = 15.0


def _gpu_present() -> bool:
    # nvidia-smi is cheap to ask; importing torch in the supervisor would cost seconds and memory.
    try:
        return subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class Command(BaseCommand):
    help = "Run Stemcrate locally: web server, a CPU worker and a GPU-queue worker, until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="Address for the web server.")
        parser.add_argument("--cpu-threads", type=int, default=2)
        parser.add_argument("--no-reload", action="store_true", help="Do not restart the web server on changes.")

    def handle(self, *args, addr, cpu_threads, no_reload, **options):
        try:
            state = ensure_redis(settings.REDIS_URL, settings.VAR_DIR / "redis")
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Redis {state} at {settings.REDIS_URL}")

        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        gpu = _gpu_present()
        gpu_env = {} if gpu else {"CUDA_VISIBLE_DEVICES": "", "STEMCRATE_DEVICE": "cpu"}
        web = [*manage, "runserver", addr] + (["--noreload"] if no_reload else [])
        specs = [
            ("cpu-worker", [*manage, "rundramatiq", "--queues", "cpu", "--processes", "1",
                            "--threads", str(cpu_threads)], {}),
            ("gpu-worker", [*manage, "rundramatiq", "--queues", "gpu", "--processes", "1", "--threads", "1"],
             gpu_env),
            ("web", web, {}),
        ]  # fmt: skip
        if not gpu:
            self.stdout.write("No GPU found: the gpu-queue worker runs on the CPU.")

        children = []
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            for name, cmd, extra_env in specs:
                # Each child leads its own process group, so stopping it also stops what it forked
                # (dramatiq's worker processes, runserver's autoreloader child).
                proc = subprocess.Popen(cmd, env={**os.environ, **extra_env}, start_new_session=True)
                children.append((name, proc))
                self.stdout.write(f"started {name} (pid {proc.pid})")
            self._announce_when_healthy(addr, children, lambda: stopping)
            while not stopping:
                for name, proc in children:
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with code {proc.returncode}; stopping everything.")
                        stopping = True
                        break
                time.sleep(0.5)
        finally:
            self._stop_all(children)

    def _announce_when_healthy(self, addr, children, is_stopping):
        url = f"http://{addr}/healthz"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not is_stopping():
            if any(proc.poll() is not None for _, proc in children):
                return
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    body = json.load(response)
            except OSError as exc:  # 503 (HTTPError) and connection refused both land here while starting
                body = getattr(exc, "read", None) and _safe_json(exc)
            if body and body.get("status") == "ok":
                self.stdout.write(self.style.SUCCESS(f"\nStemcrate is running at http://{addr}  (Ctrl-C stops it)"))
                self.stdout.write(f"health: {url}\n")
                return
            time.sleep(1)
        if not is_stopping():
            self.stderr.write(f"{url} did not report healthy within 2 minutes; the processes keep running.")

    def _stop_all(self, children):
        for _, proc in reversed(children):
            if proc.poll() is None:
                # The leader only: dramatiq and runserver forward it to their children, and a second
                # SIGTERM would make dramatiq kill its workers hard instead of letting them finish.
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, proc in reversed(children):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                _signal_group(proc, signal.SIGKILL)  # anything the leader left behind
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop within {STOP_TIMEOUT:.0f} s; killing it.")
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
        self.stdout.write("Stopped.")


def _signal_group(proc, sig):
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def _safe_json(exc):
    try:
        return json.loads(exc.read())
    except (ValueError, OSError):
        return None
