"""Loaded with `-p tests.testenv`, before pytest-django imports the settings.

Tests use their own Redis database and Dramatiq namespace, so a `make run` on the same machine keeps its
queues and workers, and tests never consume a developer's jobs (or the other way round).

Everything here is per test process, and under pytest-xdist every worker (gw0, gw1, ...) is a test process of its
own: it loads this plugin itself, so it gets its own namespace and temporary folder, and the `rundramatiq`
processes it starts inherit them. The test databases are per process as well (pytest-django adds the xdist
worker's name to them). Nothing in the suite may touch a Redis key outside its process's namespace: a `flushdb`
on the shared Redis would drop the other workers' queues and heartbeats mid-test.
"""

import os
import shutil
import tempfile

os.environ["REDIS_URL"] = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Per test process: two test runs on one machine (a developer's and CI's), or two xdist workers of one run,
# neither consume each other's queued messages nor see each other's worker heartbeats, and each has its own
# temporary folder, which workers inherit. Assigned, not defaulted: an xdist worker inherits its controller's
# environment and must not keep the controller's values.
os.environ["DRAMATIQ_NAMESPACE"] = f"stemcrate-test-{os.getpid()}"
os.environ.setdefault("STEMCRATE_VAR_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test"))
_tmp = os.path.join(os.environ["STEMCRATE_VAR_DIR"], f"tmp-{os.getpid()}")
os.makedirs(_tmp, exist_ok=True)
os.environ["TMPDIR"] = _tmp
tempfile.tempdir = None  # tempfile caches the folder it found first; from now on it is this one
os.environ.setdefault("WORKER_HEARTBEAT_INTERVAL", "1")
os.environ.setdefault("WORKER_HEARTBEAT_TTL", "4")
# Short leases and frequent sweeps, so the worker-death tests see a dead worker's job re-queued in seconds.
os.environ.setdefault("JOB_LEASE_SECONDS", "3")
os.environ.setdefault("JOB_SWEEP_INTERVAL", "1")
# Dramatiq's idle poll (read once, by dramatiq.worker, in every process that imports it: the workers inherit it).
# At its default of 1 s an idle worker takes up to a second to see a new message, and stopping a worker waits
# for every thread's poll to time out (~3.5 s per worker). 100 ms polls cost an idle worker ten cheap Redis
# calls a second. It changes no timeout the tests rely on: leases, heartbeats and sweeps are set above.
os.environ.setdefault("dramatiq_worker_timeout", "100")
os.environ.pop("DEBUG", None)
os.environ.pop("SECRET_KEY", None)


def pytest_unconfigure(config):
    """This process's temporary folder, removed when it is done: in each xdist worker after its last test, and in
    the controller (or a serial run), whose folder holds pytest's basetemp with every test's tmp_path. Also after
    `--collect-only`, which runs no session fixture."""
    shutil.rmtree(_tmp, ignore_errors=True)
