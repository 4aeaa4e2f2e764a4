"""Restart Redis while jobs are queued: no job is lost, because job state lives in the database.

Redis keeps nothing on disk here, so a restart drops every queued message. The worker's sweep notices the
broker's new run_id and sends the queued jobs again. This test runs a private redis-server of its own: the
shared one on 6379 is never restarted.
"""

import socket
import subprocess
import time

import pytest
import redis
from django.core.files.uploadedfile import SimpleUploadedFile

from jobs import registry
from jobs.models import Job
from jobs.services import requeue_lost_jobs
from tests import audio_factory as af
from tracks import services
from tracks.models import Track

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    def __init__(self, port, folder):
        self.port, self.folder, self.proc = port, folder, None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self):
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(cmd, cwd=self.folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:  # the port was taken meanwhile (another xdist worker's server)
                raise RuntimeError(f"redis-server on port {self.port} exited with {self.proc.returncode}")
            try:
                # Ours, not a server another test process started on the same port: the test flushes it.
                if client.info("server")["process_id"] == self.proc.pid:
                    return client
            except redis.ConnectionError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()  # like a crash: nothing is saved (and nothing would be: --save '')
            self.proc.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path, settings, monkeypatch):
    """A redis-server of this test's own, which the test process and its workers use as broker."""
    from dramatiq.brokers.redis import RedisBroker

    server = PrivateRedis(_free_port(), tmp_path)
    server.start()
    settings.REDIS_URL = server.url  # heartbeats and live_workers() in this process
    monkeypatch.setenv("REDIS_URL", server.url)  # the workers this test starts
    broker = RedisBroker(url=server.url, namespace=settings.DRAMATIQ_NAMESPACE)
    for actor in [
        kind.actor for kind in registry.kinds().values()
    ]:  # they send through the broker they were declared on
        monkeypatch.setattr(actor, "broker", broker)
        broker.declare_queue(actor.queue_name)
    yield server
    server.stop()
    broker.close()


def _queued_messages(client, namespace) -> int:
    return sum(client.hlen(f"{namespace}:{queue}.msgs") for queue in ("cpu", "gpu"))


def _upload(user, folder, name, freq=440):
    path = af.write(folder / f"{name}.wav", af.tone(freq, 2), fmt="wav")  # another tone: not a duplicate
    upload = SimpleUploadedFile(f"{name}.wav", path.read_bytes(), content_type="audio/wav")
    return services.do_upload_track(user, upload, title=name).track


@pytest.mark.worker
def test_it_runs_every_job_queued_before_a_redis_restart_exactly_once(
    private_redis, user, tmp_path, worker_factory, settings
):
    tracks = [_upload(user, tmp_path, f"song-{i}", 220 * (i + 1)) for i in range(3)]
    jobs = list(Job.objects.about(*tracks))
    assert len(jobs) == 3 and all(job.status == Job.Status.QUEUED for job in jobs)
    client = redis.Redis.from_url(private_redis.url)
    assert _queued_messages(client, settings.DRAMATIQ_NAMESPACE) == 3

    private_redis.stop()
    client = private_redis.start()
    assert _queued_messages(client, settings.DRAMATIQ_NAMESPACE) == 0  # the messages are gone

    worker_factory("cpu")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if not Job.objects.filter(pk__in=[j.pk for j in jobs], status__in=Job.ACTIVE).exists():
            break
        time.sleep(0.05)
    for job in jobs:
        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED, (job.status, job.error)
        assert job.attempts == 1  # claimed once: a duplicate message would have been a no-op
    assert all(t.status == Track.Status.READY for t in Track.objects.filter(pk__in=[t.pk for t in tracks]))


def test_requeue_skips_jobs_whose_message_is_still_in_the_broker(private_redis, user, tmp_path, settings):
    track = _upload(user, tmp_path, "song")
    client = redis.Redis.from_url(private_redis.url)
    assert _queued_messages(client, settings.DRAMATIQ_NAMESPACE) == 1
    assert requeue_lost_jobs(0, client=client) == 0  # its message is there: no duplicate
    assert requeue_lost_jobs(3600, client=client) == 0  # too young to be looked at

    client.flushdb()
    assert requeue_lost_jobs(3600, client=client) == 0
    assert requeue_lost_jobs(0, client=client) == 1
    assert _queued_messages(client, settings.DRAMATIQ_NAMESPACE) == 1
    assert Job.objects.about(track).get().status == Job.Status.QUEUED


def test_a_broker_restart_is_noticed_by_its_run_id(private_redis):
    from jobs.heartbeat import broker_restarted

    client = redis.Redis.from_url(private_redis.url)
    assert broker_restarted(client)  # first look at this broker
    assert not broker_restarted(client)
    private_redis.stop()
    client = private_redis.start()
    assert broker_restarted(client)
    assert not broker_restarted(client)
