"""Memory used by the server while a large WAV is uploaded: it must stream to storage, never sit in memory.

    .venv/bin/python benchmarks/upload_memory.py [--mb 50]

The request body (multipart, built on disk) is fed to Django's WSGI handler from a file, as a real server
does, with tracemalloc recording every Python allocation. Prints the peak traced memory against the file size.
Decoding for validation runs in an ffmpeg subprocess, so it is not in the figure; its cost is streaming too.
"""

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def write_wav(path: Path, megabytes: float) -> Path:
    """A stereo 16-bit 44.1 kHz WAV of about `megabytes` MB, written block by block."""
    frames_total = int(megabytes * 1_000_000 / 4)
    t0 = 0
    with sf.SoundFile(path, "w", samplerate=44100, channels=2, subtype="PCM_16") as out:
        while t0 < frames_total:
            n = min(441_000, frames_total - t0)
            t = (np.arange(t0, t0 + n) / 44100).astype(np.float32)
            block = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.sin(2 * np.pi * 3 * t)
            out.write(np.stack([block, block], axis=1))
            t0 += n
    return path


def multipart_body(wav: Path, body: Path) -> str:
    boundary = uuid.uuid4().hex
    with open(body, "wb") as out, open(wav, "rb") as src:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{wav.name}"\r\n'.encode())
        out.write(b"Content-Type: audio/wav\r\n\r\n")
        while chunk := src.read(1024 * 1024):
            out.write(chunk)
        out.write(f"\r\n--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}"


def upload_through_wsgi(user, body: Path, content_type: str):
    """POST /api/tracks/ through Django's WSGI handler with the body streamed from disk.

    Returns (status code, peak traced bytes during the request, response body)."""
    from django.core.handlers.wsgi import WSGIHandler

    from accounts.services import do_create_api_token

    _, key = do_create_api_token(user, "memory-benchmark")
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/tracks/",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(body.stat().st_size),
        "HTTP_AUTHORIZATION": f"Token {key}",
        "wsgi.errors": sys.stderr,
    }
    status = []
    handler = WSGIHandler()
    with open(body, "rb") as stream:
        environ["wsgi.input"] = stream
        tracemalloc.start()
        tracemalloc.reset_peak()
        try:
            chunks = handler(environ, lambda s, h, exc_info=None: status.append(s))
            content = b"".join(chunks)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return int(status[0].split()[0]), peak, content


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stemcrate-upload-bench-") as tmp:
        tmp = Path(tmp)
        os.environ.update({"STEMCRATE_VAR_DIR": str(tmp), "LOG_LEVEL": "WARNING"})
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stemcrate.settings")
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        user = get_user_model().objects.create_user("bench", "b@example.com", "bench-pass-123")
        # The first request in a process imports and caches a lot (URL resolver, DRF, parsers): warm up with a
        # small upload so the figure is what an upload costs, not what starting up costs.
        small = write_wav(tmp / "small.wav", 0.5)
        code, _, _ = upload_through_wsgi(user, tmp / "small-body", multipart_body(small, tmp / "small-body"))
        assert code == 201, code
        wav = write_wav(tmp / "big.wav", args.mb)
        content_type = multipart_body(wav, tmp / "body")
        started = time.perf_counter()
        code, peak, content = upload_through_wsgi(user, tmp / "body", content_type)
        elapsed = time.perf_counter() - started
        size = wav.stat().st_size
        print(f"upload of a {size / 1e6:.1f} MB WAV: HTTP {code} in {elapsed:.2f} s")
        print(f"peak Python memory during the request: {peak / 1e6:.2f} MB ({peak / size:.1%} of the file)")
        if code != 201:
            print(content.decode()[:500])


if __name__ == "__main__":
    main()
