"""A real round trip: an actor is enqueued on the real Redis broker, a real worker consumes it."""

import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from jobs.actors import do_send_ping
from jobs.heartbeat import live_workers
from jobs.models import QueuePing

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_handled(ping, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ping.refresh_from_db()
        if ping.handled_at:
            return ping
        time.sleep(0.05)
    raise AssertionError(f"{ping} was not handled within {timeout} s")


def test_it_runs_an_actor_in_a_real_worker_and_the_effect_is_in_the_database(worker_factory):
    worker = worker_factory("cpu", "gpu")

    cpu_ping = _wait_handled(do_send_ping("cpu"))
    gpu_ping = _wait_handled(do_send_ping("gpu"))

    assert cpu_ping.handled_by.endswith(tuple(f":{pid}" for pid in _worker_pids()))
    assert gpu_ping.handled_at >= gpu_ping.created_at
    assert worker.proc.poll() is None


def _worker_pids():
    return [w["pid"] for w in live_workers()]


def test_it_enqueues_only_after_the_transaction_commits(worker_factory, clean_redis):
    worker_factory("cpu")
    with transaction.atomic():
        ping = do_send_ping("cpu")
        # Nothing is on the broker while the row is not committed, so no worker can look for a missing row.
        assert clean_redis.llen(f"{settings.DRAMATIQ_NAMESPACE}:cpu") == 0
    _wait_handled(ping)


def test_it_sends_nothing_when_the_transaction_rolls_back(worker_factory, clean_redis):
    worker_factory("cpu")
    with pytest.raises(RuntimeError), transaction.atomic():
        do_send_ping("cpu")
        raise RuntimeError("rolled back")
    assert QueuePing.objects.count() == 0
    assert clean_redis.llen(f"{settings.DRAMATIQ_NAMESPACE}:cpu") == 0


def test_the_gpu_worker_consumes_only_the_gpu_queue(worker_factory):
    worker_factory("gpu")
    gpu_ping = do_send_ping("gpu")
    cpu_ping = do_send_ping("cpu")
    _wait_handled(gpu_ping)
    time.sleep(1.5)
    cpu_ping.refresh_from_db()
    assert cpu_ping.handled_at is None


def test_queue_ping_command_reports_each_queue(worker_factory, capsys):
    worker_factory("cpu", "gpu")
    call_command("queue_ping", "cpu", "gpu", "--timeout", "30")
    out = capsys.readouterr().out
    assert "cpu: ok, handled by" in out
    assert "gpu: ok, handled by" in out


def test_heartbeat_disappears_when_a_worker_stops(worker_factory):
    worker = worker_factory("cpu")
    assert any(w["pid"] for w in live_workers())
    worker.stop()
    assert live_workers() == []
