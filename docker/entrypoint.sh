#!/bin/sh
# Entrypoint of the Stemcrate images (web, CPU worker, GPU worker).
#
#  1. Waits until the database accepts connections (DB_WAIT_TIMEOUT seconds, default 60; 0 skips the wait).
#  2. Runs "manage.py migrate --noinput" when RUN_MIGRATIONS=1. Only the web service sets it, so
#     migrations run once per deployment and never race between containers.
#  3. Replaces itself with the command (exec), so gunicorn/dramatiq get the container's signals directly.
set -eu

DB_WAIT_TIMEOUT="${DB_WAIT_TIMEOUT:-60}"

if [ "$DB_WAIT_TIMEOUT" != "0" ]; then
    python - "$DB_WAIT_TIMEOUT" <<'PY'
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stemcrate.settings")
django.setup()

from django.db import connection
from django.db.utils import OperationalError

timeout = float(sys.argv[1])
deadline = time.monotonic() + timeout
while True:
    try:
        connection.ensure_connection()
        break
    except OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if time.monotonic() >= deadline:
            sys.exit(f"entrypoint: the database did not answer within {timeout:.0f} s: {reason}")
        print(f"entrypoint: waiting for the database ({reason})", file=sys.stderr, flush=True)
        time.sleep(2)
connection.close()
PY
fi

if [ "${RUN_MIGRATIONS:-0}" = "1" ]; then
    echo "entrypoint: applying database migrations" >&2
    python manage.py migrate --noinput
fi

exec "$@"
