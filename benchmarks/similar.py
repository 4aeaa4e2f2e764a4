""" "More like this" at 100,000 samples: how long GET /api/samples/{id}/similar/ takes, cold and warm.

    .venv/bin/python benchmarks/similar.py [--samples 100000] [--queries 200] [--database-url URL]

Builds a throwaway installation under a temporary folder (SQLite unless --database-url names an empty
PostgreSQL database), gives one user --samples samples (rows only; the search never reads audio) whose
embeddings are unit vectors around 300 random "sounds", plus a second user with 1,000 samples that must never
appear in the results. Then, measured side by side in one run:

  cold       the first search of the process: reads every embedding of the library into one matrix
  warm       later searches: the cache check (one aggregate query), the matrix-vector product, top-k,
             and loading the 24 result rows
  api        the same through the real API view (Django test client, token auth, serializer)
  brute      a baseline: every embedding read from the database and scored for each query, no cache

and checks that the results equal an exact numpy search over all vectors.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(folder: Path, database_url: str | None):
    os.environ.update(
        DJANGO_SETTINGS_MODULE="stemcrate.settings",
        SECRET_KEY="bench-" + os.urandom(8).hex(),
        DEBUG="0",
        ALLOWED_HOSTS="testserver,127.0.0.1",
        MEDIA_ROOT=str(folder / "media"),
        DATABASE_URL=database_url or f"sqlite:///{folder / 'bench.sqlite3'}",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def embeddings(n: int, rng, centres: np.ndarray) -> np.ndarray:
    picks = centres[rng.integers(0, len(centres), n)]
    vectors = picks + rng.normal(0, 0.35, (n, 64)).astype(np.float32)
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype("<f4")


def populate(username: str, n: int, rng, centres):
    from django.contrib.auth import get_user_model

    from samples.models import Sample
    from tracks.models import Track

    user = get_user_model().objects.create_user(username, f"{username}@example.com", "bench-pass-123")
    track = Track.objects.create(
        owner=user, title="Bench", original=f"users/{user.pk}/x.wav", format="wav", size=1, sha256="0" * 64
    )
    vectors = embeddings(n, rng, centres)
    batch = []
    for i in range(n):
        batch.append(
            Sample(
                owner=user, track=track, source="drums", index=i, start=i, end=i + 0.2, onset=i, duration=0.2,
                file=f"users/{user.pk}/s/{i}.wav", sample_rate=44100, peak_db=-3, loudness=-20,
                category="kick", predicted_category="kick", confidence=0.9, embedding=vectors[i].tobytes(),
            )
        )  # fmt: skip
        if len(batch) == 5000:
            Sample.objects.bulk_create(batch)
            batch = []
    Sample.objects.bulk_create(batch)
    return user, vectors


def ms(values):
    values = sorted(values)
    return (
        f"p50 {statistics.median(values) * 1000:7.2f} ms   p95 {values[int(0.95 * (len(values) - 1))] * 1000:7.2f} ms"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="stemcrate-bench-") as folder:
        setup_django(Path(folder), args.database_url)
        from django.test import Client

        from accounts.services import do_create_api_token
        from samples import similar
        from samples.models import Sample

        rng = np.random.default_rng(0)
        centres = rng.normal(0, 1, (300, 64)).astype(np.float32)
        started = time.perf_counter()
        user, _ = populate("bench", args.samples, rng, centres)
        populate("neighbour", 1000, rng, centres)
        database = "PostgreSQL" if args.database_url else "SQLite"
        built = time.perf_counter() - started
        print(f"library: {args.samples} samples for one user (+1,000 for another), built in {built:.1f} s; {database}")

        ids = list(Sample.objects.filter(owner=user).values_list("pk", flat=True))
        queries = [Sample.objects.get(pk=ids[i]) for i in rng.integers(0, len(ids), args.queries)]

        similar.clear_cache()
        t = time.perf_counter()
        similar.similar_samples(queries[0], 24)
        cold = time.perf_counter() - t

        warm, exact_ok = [], 0
        all_ids, matrix = similar.library_index(user.pk)
        for sample in queries:
            t = time.perf_counter()
            results = similar.similar_samples(sample, 24)
            warm.append(time.perf_counter() - t)
            scores = matrix @ np.frombuffer(bytes(sample.embedding), dtype="<f4")
            scores[list(all_ids).index(sample.pk)] = -np.inf
            expected = np.sort(scores)[::-1][:24]
            exact_ok += np.allclose([r.similarity for r in results], expected, atol=1e-5)
            assert all(r.owner_id == user.pk for r in results)

        _, key = do_create_api_token(user, "bench")
        client = Client(HTTP_AUTHORIZATION=f"Token {key}")
        api = []
        for sample in queries[:50]:
            t = time.perf_counter()
            response = client.get(f"/api/samples/{sample.pk}/similar/", secure=True)
            api.append(time.perf_counter() - t)
            assert response.status_code == 200 and len(response.json()) == 24, response.content[:300]

        brute = []
        for sample in queries[:5]:
            t = time.perf_counter()
            similar.clear_cache()
            similar.similar_samples(sample, 24)
            brute.append(time.perf_counter() - t)

        print(f"cold (first search, builds the matrix): {cold * 1000:8.1f} ms; matrix {matrix.nbytes / 1e6:.1f} MB")
        print(f"warm similar_samples, {len(warm)} queries:  {ms(warm)}")
        print(f"api GET /similar/, {len(api)} requests:     {ms(api)}")
        print(f"brute (no cache), {len(brute)} queries:      {ms(brute)}")
        print(f"speed-up of the cache: {statistics.median(brute) / statistics.median(warm):.0f}x (median)")
        print(f"results equal an exact search: {exact_ok}/{len(warm)}")


if __name__ == "__main__":
    main()
