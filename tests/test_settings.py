"""Settings are read from the environment; each case runs in a fresh interpreter with its own variables."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x7Jq!p2Lz9@mR4vW8#tY6uN1cB3eH5kF0gD2sA9oP7iU4yT1rE",
    "ALLOWED_HOSTS": "stemcrate.example.com",
}


def run(code: str, **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DATABASE_URL")}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "stemcrate.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def read_settings(*names, **env) -> dict:
    code = (
        "import json; from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}, default=str))"
    )
    result = run(code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_defaults_to_sqlite_and_local_media_under_var(tmp_path):
    values = read_settings("DATABASES", "STORAGES", "MEDIA_ROOT", "DEBUG", STEMCRATE_VAR_DIR=str(tmp_path))
    assert values["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert values["DATABASES"]["default"]["NAME"] == str(tmp_path / "db.sqlite3")
    assert values["STORAGES"]["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert values["MEDIA_ROOT"] == str(tmp_path / "media")
    assert values["DEBUG"] is True


def test_database_url_switches_to_postgresql():
    values = read_settings("DATABASES", DATABASE_URL="postgres://sc:pw@db.internal:5433/stemcrate")
    db = values["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"]) == ("db.internal", 5433, "stemcrate", "sc")


def test_redis_url_sets_the_broker():
    values = read_settings("DRAMATIQ_BROKER", REDIS_URL="redis://queue.internal:6380/3")
    assert values["DRAMATIQ_BROKER"]["OPTIONS"]["url"] == "redis://queue.internal:6380/3"
    assert "jobs.heartbeat.WorkerHeartbeat" in values["DRAMATIQ_BROKER"]["MIDDLEWARE"]
    assert "django_dramatiq.middleware.DbConnectionsMiddleware" in values["DRAMATIQ_BROKER"]["MIDDLEWARE"]


def test_s3_storage_is_used_when_a_bucket_is_configured():
    values = read_settings(
        "STORAGES",
        AWS_STORAGE_BUCKET_NAME="stemcrate",
        AWS_S3_ENDPOINT_URL="http://minio:9000",
        AWS_ACCESS_KEY_ID="minio",
        AWS_SECRET_ACCESS_KEY="minio-secret",
    )
    storage = values["STORAGES"]["default"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "stemcrate"
    assert storage["OPTIONS"]["endpoint_url"] == "http://minio:9000"
    assert storage["OPTIONS"]["querystring_auth"] is True


def test_secret_key_is_required_when_debug_is_off():
    result = run("from django.conf import settings; settings.SECRET_KEY", DEBUG="0", ALLOWED_HOSTS="x.example")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_secret_key_can_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(PRODUCTION["SECRET_KEY"] + "\n")
    env = {**PRODUCTION, "SECRET_KEY": ""}
    values = read_settings("SECRET_KEY", "DEBUG", **env, SECRET_KEY_FILE=str(secret))
    assert values == {"SECRET_KEY": PRODUCTION["SECRET_KEY"], "DEBUG": False}


def test_email_goes_to_the_console_unless_smtp_is_configured():
    assert read_settings("EMAIL_BACKEND")["EMAIL_BACKEND"].endswith("console.EmailBackend")
    values = read_settings("EMAIL_BACKEND", "EMAIL_HOST", EMAIL_HOST="smtp.example.com")
    assert values["EMAIL_BACKEND"].endswith("smtp.EmailBackend")


def test_check_deploy_is_clean_with_production_variables():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**os.environ, **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_production_answers_carry_hsts_csp_and_secure_cookies():
    """A page served with production settings over HTTPS (as behind the proxy), and the cookie flags."""
    code = (
        "import django, json; django.setup(); from django.test import Client; "
        "from django.test.utils import setup_test_environment; setup_test_environment(); "
        "r = Client().get('/healthz', secure=True, HTTP_HOST='stemcrate.example.com'); "
        "print(json.dumps({'hsts': r.get('Strict-Transport-Security', ''), "
        "'csp': r.get('Content-Security-Policy', ''), 'frame': r.get('X-Frame-Options', ''), "
        "'plain': Client().get('/api/me/', HTTP_HOST='stemcrate.example.com').status_code}))"
    )
    result = run(code, **PRODUCTION, DATABASE_URL="sqlite:///:memory:")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert "max-age=31536000" in answer["hsts"] and "includeSubDomains" in answer["hsts"]
    assert "default-src 'self'" in answer["csp"] and "script-src 'self' 'wasm-unsafe-eval';" in answer["csp"]
    assert "'unsafe-eval'" not in answer["csp"] and "'unsafe-inline'" not in answer["csp"]  # the stretch's WASM only
    assert answer["frame"] == "DENY"
    assert answer["plain"] == 301  # plain HTTP is redirected to HTTPS (/healthz is exempt, for load balancers)
    flags = read_settings("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", **PRODUCTION)
    assert flags == {"SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True, "SESSION_COOKIE_HTTPONLY": True}
