"""Library page and /api/tracks/ under concurrent load, with 5,000 tracks for one user.

    .venv/bin/python benchmarks/library_load.py [--tracks 5000] [--users 20] [--seconds 20] [--database-url URL]

Builds a throwaway installation under a temporary folder (production settings: DEBUG=0, WhiteNoise manifest),
fills it, serves it with gunicorn on 127.0.0.1, and has --users threads request pages as fast as they are
answered. Prints, per endpoint: requests, errors, throughput, p50 and p95 latency, and the query count of one
request at 50 and at 5,000 tracks (which must be equal). Target: p95 under 150 ms for a page.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENDPOINTS = {
    "library page": "/",
    "library page, filtered": "/?bpm_min=100&bpm_max=140&sort=-bpm",
    "library page, search": "/?q=night",
    "api list": "/api/tracks/",
    "api list, filtered": "/api/tracks/?key=Am&sort=title",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup_django(env):
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stemcrate.settings")
    import django

    django.setup()


def populate(n_tracks: int):
    """One user with n_tracks tracks (rows only: the list never reads the audio) and a few tags."""
    import random

    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.services import do_create_api_token
    from tracks.models import Tag, Track

    random.seed(1)
    user = get_user_model().objects.create_user("bench", "bench@example.com", "bench-pass-123")
    words = ["Night", "Drive", "Sunset", "Deep", "Echo", "Velvet", "Neon", "Rain", "Orbit", "Pulse", "Glass", "Ember"]
    keys = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
    tracks = [
        Track(
            owner=user,
            title=f"{random.choice(words)} {random.choice(words)} {i}",
            artist=random.choice(["Kavi", "Mara Lune", "DJ Osk", "Teo", "Aria"]),
            album=random.choice(["", "Demos", "Late Tapes"]),
            original=f"users/{user.pk}/tracks/bench-{i}/original.wav",
            format="wav",
            codec="pcm_s16le",
            duration=random.uniform(60, 420),
            sample_rate=44100,
            channels=2,
            bit_depth=16,
            size=random.randint(5_000_000, 80_000_000),
            sha256=f"{i:064x}",
            bpm=round(random.uniform(70, 175), 1),
            key=random.choice(keys),
            scale=random.choice(["major", "minor"]),
            loudness_lufs=round(random.uniform(-16, -6), 1),
            peaks=[round(random.random(), 3) for _ in range(800)],
            status=Track.Status.READY,
        )
        for i in range(n_tracks)
    ]
    Track.objects.bulk_create(tracks, batch_size=500)
    tags = [Tag.objects.create(owner=user, name=name) for name in ("drums", "vocals", "house", "ambient")]
    through = Track.tags.through
    ids = list(Track.objects.filter(owner=user).values_list("pk", flat=True))
    through.objects.bulk_create([through(track_id=tid, tag_id=random.choice(tags).pk) for tid in ids], batch_size=1000)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    _, key = do_create_api_token(user, "bench")
    return user, session.session_key, key


def count_queries(user, path: str) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", **{"wsgi.url_scheme": "https"})
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, secure=True)
    assert response.status_code == 200, (path, response.status_code)
    return len(ctx.captured_queries)


def load(base: str, path: str, headers: dict, users: int, seconds: float):
    latencies, errors = [], []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def run():
        while time.monotonic() < stop_at:
            request = urllib.request.Request(base + path, headers=headers)
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
                    ok = response.status == 200
            except (urllib.error.URLError, OSError) as exc:
                ok, exc_text = False, str(exc)
            elapsed = time.perf_counter() - started
            with lock:
                (latencies if ok else errors).append(elapsed if ok else exc_text)

    threads = [threading.Thread(target=run) for _ in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, default=5000)
    parser.add_argument("--users", type=int, nargs="+", default=[4, 20], help="concurrency levels to measure")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary folder")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="stemcrate-bench-"))
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
    }
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    server = None
    try:
        manage = [sys.executable, str(ROOT / "manage.py")]
        full_env = {**os.environ, **env}
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=full_env, check=True, cwd=ROOT)
        subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=full_env, check=True, cwd=ROOT)
        setup_django(env)
        started = time.perf_counter()
        user, session_key, token = populate(50)
        queries_small = {name: count_queries(user, path) for name, path in ENDPOINTS.items()}
        from tracks.models import Track

        Track.objects.all().delete()
        user.delete()
        user, session_key, token = populate(args.tracks)
        queries_large = {name: count_queries(user, path) for name, path in ENDPOINTS.items()}
        print(f"populated {args.tracks} tracks in {time.perf_counter() - started:.1f} s ({workdir})")

        port = free_port()
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "stemcrate.wsgi:application", "-b", f"127.0.0.1:{port}",
             "-w", str(args.gunicorn_workers), "--threads", "2", "--log-level", "warning"],
            env=full_env, cwd=ROOT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except urllib.error.HTTPError:
                break  # 503 without workers is fine: the server answers
            except OSError:
                time.sleep(0.1)

        print(f"\n{args.seconds:.0f} s per endpoint and concurrency, gunicorn -w {args.gunicorn_workers} --threads 2; "
              "the load generator runs on the same 2 cores")  # fmt: skip
        print(f"{'endpoint':28} {'users':>5} {'queries@50':>10} {'@' + str(args.tracks):>8} {'reqs':>6} "
              f"{'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}")  # fmt: skip
        worst_page_p95 = {}
        for (name, path), users in ((e, u) for u in args.users for e in ENDPOINTS.items()):
            if path.startswith("/api/"):
                headers = {"Authorization": f"Token {token}"}
            else:
                headers = {"Cookie": f"sessionid={session_key}"}
            load(base, path, headers, 2, 1.0)  # warm up every gunicorn worker
            latencies, errors = load(base, path, headers, users, args.seconds)
            p50, p95 = percentile(latencies, 50) * 1000, percentile(latencies, 95) * 1000
            if not path.startswith("/api/"):
                worst_page_p95[users] = max(worst_page_p95.get(users, 0.0), p95)
            print(
                f"{name:28} {users:>5} {queries_small[name]:>10} {queries_large[name]:>8} {len(latencies):>6} "
                f"{len(errors):>6} {len(latencies) / args.seconds:>7.1f} {p50:>7.1f} {p95:>7.1f}"
            )
            if errors:
                print(f"    first error: {errors[0]}")
        for users, p95 in worst_page_p95.items():
            verdict = "meets" if p95 < 150 else "misses"
            print(f"\nworst page p95 with {users} users: {p95:.1f} ms ({verdict} the 150 ms target)")
        same = queries_small == queries_large
        print(f"query counts constant from 50 to {args.tracks} tracks: {'yes' if same else 'NO'}")
    finally:
        if server:
            server.terminate()
            server.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
