"""Loaded with `-p tests.testenv`, before pytest-django imports the settings.

Tests use their own Redis database and Dramatiq namespace, so a `make run` on the same machine keeps its
queues and workers, and tests never consume a developer's jobs (or the other way round).
"""

import os

os.environ["REDIS_URL"] = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Per test process: two test runs on one machine (a developer's and CI's) neither consume each other's queued
# messages nor see each other's worker heartbeats, and each has its own temporary folder, which workers inherit.
os.environ["DRAMATIQ_NAMESPACE"] = f"stemcrate-test-{os.getpid()}"
os.environ.setdefault("STEMCRATE_VAR_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test"))
_tmp = os.path.join(os.environ["STEMCRATE_VAR_DIR"], f"tmp-{os.getpid()}")
os.makedirs(_tmp, exist_ok=True)
os.environ["TMPDIR"] = _tmp
os.environ.setdefault("WORKER_HEARTBEAT_INTERVAL", "1")
os.environ.setdefault("WORKER_HEARTBEAT_TTL", "4")
# Short leases and frequent sweeps, so the worker-death tests see a dead worker's job re-queued in seconds.
os.environ.setdefault("JOB_LEASE_SECONDS", "3")
os.environ.setdefault("JOB_SWEEP_INTERVAL", "1")
os.environ.pop("DEBUG", None)
os.environ.pop("SECRET_KEY", None)
