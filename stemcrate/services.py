"""Local infrastructure helpers shared by `make run` and `make test`: finding or starting Redis."""

import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import redis


def redis_reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def ensure_redis(url: str, data_dir: Path, timeout: float = 10.0) -> str:
    """Make sure a Redis answers at `url`, starting a local redis-server daemon if none does.

    Returns "running" or "started". Raises RuntimeError with what to do when it cannot.
    """
    if redis_reachable(url):
        return "running"
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise RuntimeError(f"Redis at {url} is not reachable, and it is not local, so it cannot be started here.")
    server = shutil.which("redis-server")
    if not server:
        raise RuntimeError("Redis is not running and redis-server is not installed: apt-get install redis-server.")
    data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            server, "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
            "--appendonly", "no", "--dir", str(data_dir), "--logfile", str(data_dir / "redis.log"),
            "--pidfile", str(data_dir / "redis.pid"),
        ],
        check=True,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if redis_reachable(url):
            return "started"
        time.sleep(0.1)
    raise RuntimeError(
        f"redis-server was started but {url} did not answer within {timeout:.0f} s; see {data_dir}/redis.log"
    )
