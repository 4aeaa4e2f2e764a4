import json
import time

import pytest
from django.conf import settings
from django.test import override_settings

pytestmark = pytest.mark.django_db


def beat(redis_client, pid, queues, device="cpu"):
    record = {"host": "test", "pid": pid, "queues": queues, "threads": 1, "device": device, "beat_at": time.time()}
    redis_client.set(f"stemcrate:worker:{settings.DRAMATIQ_NAMESPACE}:test:{pid}", json.dumps(record), ex=30)


def test_it_is_healthy_with_database_broker_and_a_worker_per_queue(client, clean_redis):
    beat(clean_redis, 1, ["cpu"])
    beat(clean_redis, 2, ["gpu"], device="cuda")
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert body["queues"]["cpu"] == {"ok": True, "workers": 1, "devices": ["cpu"]}
    assert body["queues"]["gpu"] == {"ok": True, "workers": 1, "devices": ["cuda"]}


def test_it_needs_no_login(client, clean_redis):
    response = client.get("/healthz")
    assert response.status_code in (200, 503)
    assert response["Content-Type"] == "application/json"


def test_it_is_unhealthy_when_a_queue_has_no_worker(client, clean_redis):
    beat(clean_redis, 1, ["cpu"])
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["queues"]["gpu"]["ok"] is False
    assert body["queues"]["cpu"]["ok"] is True


def test_an_expired_heartbeat_does_not_count(client, clean_redis):
    beat(clean_redis, 1, ["cpu", "gpu"])
    clean_redis.pexpire(f"stemcrate:worker:{settings.DRAMATIQ_NAMESPACE}:test:1", 1)
    time.sleep(0.05)
    assert client.get("/healthz").json()["queues"]["cpu"]["workers"] == 0


def test_it_reports_a_broker_that_is_down(client):
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["broker"]["ok"] is False
    assert "ConnectionError" in body["broker"]["error"]
    assert body["database"]["ok"] is True


def test_it_reports_a_database_that_is_down(client, clean_redis, monkeypatch):
    from django.db import connection

    def broken_cursor(*args, **kwargs):
        raise connection.Database.OperationalError("database is unreachable")

    beat(clean_redis, 1, ["cpu", "gpu"])
    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "error": "OperationalError: database is unreachable"}
