"""Concurrent uploads and page views against a real server and real CPU workers, then the queue must drain.

    .venv/bin/python benchmarks/load.py [--seconds 60] [--users 20] [--upload-every 5] [--drain-timeout 300]
                                        [--database-url URL] [--redis-url redis://127.0.0.1:6379/14]

A benchmark, not a timed test. Builds a throwaway installation under a temporary folder (production settings:
DEBUG=0, WhiteNoise manifest; SQLite unless --database-url is given, which must then be a scratch database),
creates --users users, each with an API token and a logged-in session, and serves it with gunicorn
(-w 4 --threads 2) on 127.0.0.1 alongside a real CPU worker (`manage.py rundramatiq --queues cpu`, as
`make run` starts it). Redis is shared but the run has its own Dramatiq namespace (bench-<pid>), whose keys,
and only those, are deleted at the end.

For --seconds, every simulated user (a thread, no think time) repeats a cycle: every --upload-every cycles it
uploads a short WAV of its own (a random tone, so no upload is a duplicate) through POST /api/tracks/, then
views the library page, the page of one of its tracks, the API track list, and polls the status panel of its
newest track. Prints per action: requests, errors, throughput, p50 and p95 latency. Then it stops sending and
waits for every analysis job to reach "succeeded" (at most --drain-timeout seconds), and prints how long that
took and the jobs by status. Exits non-zero on any error, any failed job, or a queue that does not drain.
"""

import argparse
import contextlib
import io
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.library_load import free_port, percentile, setup_django  # noqa: E402

ACTIONS = ("upload", "library page", "track page", "api list", "status poll")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a 3xx as it is (a redirect to the login page must not pass as the page itself)."""

    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" (1, 5, 15 min; {os.cpu_count()} CPUs)"


def make_wav(seconds: float, rng: random.Random) -> bytes:
    """A mono 16-bit 44.1 kHz WAV: a random tone with a little noise and a random envelope, unique per call."""
    sr = 44100
    t = np.arange(round(seconds * sr)) / sr
    freq = rng.uniform(110, 880)
    signal_ = 0.4 * np.sin(2 * np.pi * freq * t) * (0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.5, 4) * t))
    noise = np.random.default_rng(rng.getrandbits(64)).standard_normal(t.size) * 0.02
    buffer = io.BytesIO()
    sf.write(buffer, (signal_ + noise).astype(np.float32), sr, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def multipart(filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def create_users(n: int, prefix: str):
    """n users, each with an API token and a logged-in session: [(user, session key, token)]."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.services import do_create_api_token

    users = []
    for i in range(n):
        user = get_user_model().objects.create_user(f"{prefix}{i}", f"{prefix}{i}@example.com", "bench-pass-123")
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.create()
        _, token = do_create_api_token(user, "load-benchmark")
        users.append((user, session.session_key, token))
    return users


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = defaultdict(list)
        self.errors = defaultdict(list)

    def request(self, action, url, headers, data=None, expect=None):
        """One request; returns (status, body) or (None, None) after an exception. Records it either way."""
        request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
        started = time.perf_counter()
        status, body, error = None, None, None
        try:
            with OPENER.open(request, timeout=60) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
        except OSError as exc:
            error = f"{type(exc).__name__}: {exc}"
        elapsed = time.perf_counter() - started
        if error is None and (status >= 400 or (expect is not None and status != expect)):
            error = f"HTTP {status}: {body[:200]!r}"
        with self.lock:
            if error is None:
                self.latencies[action].append(elapsed)
            else:
                self.errors[action].append(error)
        return (status, body) if error is None else (None, None)


def simulate_user(base, session_key, token, recorder, stop_at, upload_every, audio_seconds, seed, uploads):
    import json

    rng = random.Random(seed)
    page = {"Cookie": f"sessionid={session_key}"}
    api = {"Authorization": f"Token {token}"}
    tracks = []
    cycle = 0
    while time.monotonic() < stop_at:
        if cycle % upload_every == 0:
            body, content_type = multipart(f"load-{seed}-{cycle}.wav", make_wav(audio_seconds, rng))
            status, response = recorder.request(
                "upload", base + "/api/tracks/", {**api, "Content-Type": content_type}, body, expect=201
            )
            if status == 201:
                tracks.append(json.loads(response)["id"])
                with recorder.lock:
                    uploads.append(tracks[-1])
        cycle += 1
        for action, path, headers in (
            ("library page", "/", page),
            ("track page", f"/tracks/{rng.choice(tracks)}/" if tracks else None, page),
            ("api list", "/api/tracks/", api),
            ("status poll", f"/tracks/{tracks[-1]}/status" if tracks else None, page),
        ):
            if path is None or time.monotonic() >= stop_at:
                continue
            recorder.request(action, base + path, headers)


def wait_healthy(base: str, timeout: float, procs) -> bool:
    """Until the server answers and reports a live worker on the cpu queue."""
    import json

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            return False
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                body = json.load(response)
        except urllib.error.HTTPError as exc:  # 503: the gpu queue has no worker here, which is expected
            try:
                body = json.loads(exc.read())
            except ValueError:
                body = {}
        except OSError:
            body = {}
        if body.get("queues", {}).get("cpu", {}).get("ok"):
            return True
        time.sleep(0.5)
    return False


def drain(expected: int, timeout: float):
    """Wait until no analysis job is queued or running. Returns (drained, seconds, {status: count})."""
    from django.db import connection
    from django.db.models import Count

    from jobs.models import Job

    started = time.monotonic()
    while True:
        counts = dict(Job.objects.filter(kind="analyse").values_list("status").annotate(n=Count("id")).order_by())
        active = sum(counts.get(s, 0) for s in Job.ACTIVE)
        elapsed = time.monotonic() - started
        if active == 0 and sum(counts.values()) >= expected:
            return True, elapsed, counts
        if elapsed > timeout:
            return False, elapsed, counts
        connection.close()  # a fresh read each time (SQLite: no long-lived snapshot)
        time.sleep(1)


def stop(proc, name, timeout=20):
    """SIGTERM to the leader (it forwards to its children), then SIGKILL to whatever is left in its group."""
    if proc is None:
        return
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        print(f"{name} did not stop within {timeout} s; killing it")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--upload-every", type=int, default=5, help="each user uploads once per this many cycles")
    parser.add_argument("--audio-seconds", type=float, default=3.0, help="length of each uploaded WAV")
    parser.add_argument("--drain-timeout", type=float, default=300)
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    parser.add_argument("--worker-processes", type=int, default=1)
    parser.add_argument("--worker-threads", type=int, default=2)
    parser.add_argument("--database-url", default="", help="default: SQLite in the temporary folder")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()

    namespace = f"bench-{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="stemcrate-load-"))
    env = {
        "STEMCRATE_VAR_DIR": str(workdir),
        "DEBUG": "0",
        "SECRET_KEY": "benchmark-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "BEHIND_HTTPS_PROXY": "0",
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": args.redis_url,
        "DRAMATIQ_NAMESPACE": namespace,
        "CUDA_VISIBLE_DEVICES": "",
        "STEMCRATE_DEVICE": "cpu",
    }
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    full_env = {**os.environ, **env}
    manage = [sys.executable, str(ROOT / "manage.py")]
    server = worker = None
    failures = []
    user_prefix = f"load{os.getpid()}-"
    print(f"load average at start: {loadavg()}")
    print(f"installation in {workdir}; Redis {args.redis_url}, namespace {namespace}")
    try:
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=full_env, check=True, cwd=ROOT)
        subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=full_env, check=True, cwd=ROOT)
        setup_django(env)
        users = create_users(args.users, user_prefix)

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server_log = open(workdir / "gunicorn.log", "wb")  # noqa: SIM115 (closed with the folder)
        worker_log = open(workdir / "worker.log", "wb")  # noqa: SIM115
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "stemcrate.wsgi:application", "-b", f"127.0.0.1:{port}",
             "-w", str(args.gunicorn_workers), "--threads", "2", "--log-level", "warning"],
            env=full_env, cwd=ROOT, start_new_session=True, stdout=server_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        worker = subprocess.Popen(
            [*manage, "rundramatiq", "--queues", "cpu", "--processes", str(args.worker_processes),
             "--threads", str(args.worker_threads)],
            env=full_env, cwd=ROOT, start_new_session=True, stdout=worker_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        started = time.monotonic()
        if not wait_healthy(base, 180, [server, worker]):
            failures.append("the server or the cpu worker did not come up")
            print("gunicorn log:\n" + tail(workdir / "gunicorn.log"))
            print("worker log:\n" + tail(workdir / "worker.log"))
            return 1
        print(f"gunicorn -w {args.gunicorn_workers} --threads 2 and a cpu worker ({args.worker_processes} process, "
              f"{args.worker_threads} threads) up in {time.monotonic() - started:.1f} s")  # fmt: skip

        recorder = Recorder()
        uploads = []
        print(f"\n{args.users} users for {args.seconds:.0f} s, no think time, an upload ({args.audio_seconds:g} s WAV) "
              f"every {args.upload_every} cycles; the load generator shares the machine")  # fmt: skip
        stop_at = time.monotonic() + args.seconds
        threads = [
            threading.Thread(
                target=simulate_user,
                args=(base, session_key, token, recorder, stop_at, args.upload_every, args.audio_seconds, i, uploads),
            )
            for i, (_, session_key, token) in enumerate(users)
        ]
        load_started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        duration = time.monotonic() - load_started

        print(f"{'action':14} {'reqs':>6} {'errors':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8}")
        total_ok = total_errors = 0
        for action in ACTIONS:
            ok, errors = recorder.latencies[action], recorder.errors[action]
            total_ok, total_errors = total_ok + len(ok), total_errors + len(errors)
            p50 = f"{percentile(ok, 50) * 1000:8.1f}" if ok else f"{'-':>8}"
            p95 = f"{percentile(ok, 95) * 1000:8.1f}" if ok else f"{'-':>8}"
            print(f"{action:14} {len(ok) + len(errors):>6} {len(errors):>6} {len(ok) / duration:>7.1f} {p50} {p95}")
        everything = [x for action in ACTIONS for x in recorder.latencies[action]]
        print(f"{'all':14} {total_ok + total_errors:>6} {total_errors:>6} {total_ok / duration:>7.1f} "
              f"{percentile(everything, 50) * 1000 if everything else 0:8.1f} "
              f"{percentile(everything, 95) * 1000 if everything else 0:8.1f}")  # fmt: skip
        print(f"uploads accepted: {len(uploads)} ({len(uploads) / duration:.2f}/s) in {duration:.1f} s")
        for action in ACTIONS:
            if recorder.errors[action]:
                print(f"  first {action} error: {recorder.errors[action][0]}")
        if total_errors:
            failures.append(f"{total_errors} request errors")

        print(f"\nload stopped; waiting for the queue to drain (at most {args.drain_timeout:.0f} s)")
        drained, waited, counts = drain(len(uploads), args.drain_timeout)
        by_status = ", ".join(f"{status} {n}" for status, n in sorted(counts.items())) or "none"
        print(f"analysis jobs: {sum(counts.values())} ({by_status})")
        if drained:
            print(f"queue drained in {waited:.1f} s after the load stopped")
        else:
            failures.append(f"the queue did not drain within {args.drain_timeout:.0f} s")
        if counts.get("failed", 0) or counts.get("cancelled", 0):
            failures.append("failed or cancelled analysis jobs")
        if drained and counts.get("succeeded", 0) != len(uploads):
            failures.append(f"{counts.get('succeeded', 0)} analysis jobs succeeded for {len(uploads)} uploads")
        from django.db.models import Count

        from tracks.models import Track

        track_counts = dict(Track.objects.values_list("status").annotate(n=Count("id")).order_by())
        print("tracks by status: " + ", ".join(f"{s} {n}" for s, n in sorted(track_counts.items())))
        if failures:
            print("worker log (tail):\n" + tail(workdir / "worker.log"))
            print("gunicorn log (tail):\n" + tail(workdir / "gunicorn.log"))
        return 1 if failures else 0
    finally:
        stop(server, "gunicorn")
        stop(worker, "cpu worker")
        print(f"\nload average at end: {loadavg()}")
        with contextlib.suppress(Exception):
            import redis

            client = redis.Redis.from_url(args.redis_url)
            keys = [
                *client.scan_iter(match=f"{namespace}:*"),
                *client.scan_iter(match=f"stemcrate:worker:{namespace}:*"),
            ]
            if keys:
                client.delete(*keys)
        if args.database_url:
            with contextlib.suppress(Exception):
                from django.contrib.auth import get_user_model

                get_user_model().objects.filter(username__startswith=user_prefix).delete()
        shutil.rmtree(workdir, ignore_errors=True)
        print("result: " + ("FAIL: " + "; ".join(failures) if failures else "ok (no errors, the queue drained)"))


if __name__ == "__main__":
    sys.exit(main())
