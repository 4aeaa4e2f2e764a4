""" "More like this": the nearest samples in a user's library by the tagger's embedding (cosine similarity).

Embeddings are unit-norm float32 vectors of 64 values, so similarity is one matrix-vector product. Each process
keeps every recently used library's embeddings as one (n, 64) matrix: building it reads n x 256 bytes once
(under a second for 100,000 samples), and a query is then a few milliseconds (see benchmarks/similar.py).

The cache entry is keyed by the library's newest created_at (one index lookup), so new samples rebuild it.
Deleted samples need no check on every query: results are loaded by id, so a deleted one simply is not found;
when that happens the entry is dropped and the next query rebuilds it. Embeddings never change once stored.
"""

import threading
from collections import OrderedDict

import numpy as np
from django.db.models import Max

from samples.models import Sample

EMBEDDING_DIM = 64
CACHE_USERS = 8  # libraries kept in memory per process (100,000 samples take 26 MB)

_cache: OrderedDict = OrderedDict()
_lock = threading.Lock()


def _stamp(owner_id):
    return Sample.objects.filter(owner_id=owner_id).aggregate(newest=Max("created_at"))["newest"]


def _load(owner_id) -> tuple[np.ndarray, np.ndarray]:
    ids, vectors = [], []
    rows = Sample.objects.filter(owner_id=owner_id).values_list("id", "embedding").order_by().iterator(chunk_size=5000)
    for pk, blob in rows:
        if blob is not None and len(blob) == EMBEDDING_DIM * 4:
            ids.append(pk)
            vectors.append(bytes(blob))
    matrix = np.frombuffer(b"".join(vectors), dtype="<f4").reshape(-1, EMBEDDING_DIM) if vectors else None
    if matrix is None:
        matrix = np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    return np.array(ids, dtype=object), matrix


def library_index(owner_id) -> tuple[np.ndarray, np.ndarray]:
    """(ids, matrix) of a user's samples, from this process's cache when nothing changed."""
    stamp = _stamp(owner_id)
    with _lock:
        entry = _cache.get(owner_id)
        if entry is not None and entry[0] == stamp:
            _cache.move_to_end(owner_id)
            return entry[1], entry[2]
    ids, matrix = _load(owner_id)
    with _lock:
        _cache[owner_id] = (stamp, ids, matrix)
        _cache.move_to_end(owner_id)
        while len(_cache) > CACHE_USERS:
            _cache.popitem(last=False)
    return ids, matrix


def clear_cache(owner_id=None) -> None:
    with _lock:
        if owner_id is None:
            _cache.clear()
        else:
            _cache.pop(owner_id, None)


def vector_of(sample: Sample) -> np.ndarray | None:
    blob = bytes(sample.embedding or b"")
    return np.frombuffer(blob, dtype="<f4") if len(blob) == EMBEDDING_DIM * 4 else None


def similar_ids(sample: Sample, limit: int = 24) -> list[tuple[object, float]]:
    """[(sample id, cosine similarity)] of the `limit` nearest other samples in the owner's library."""
    query = vector_of(sample)
    if query is None:
        return []
    ids, matrix = library_index(sample.owner_id)
    if not len(ids):
        return []
    scores = matrix @ query
    k = min(limit + 1, len(ids))
    top = np.argpartition(-scores, k - 1)[:k] if k < len(ids) else np.arange(len(ids))
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(ids[i], float(scores[i])) for i in top if ids[i] != sample.pk][:limit]


def similar_samples(sample: Sample, limit: int = 24) -> list[Sample]:
    """The nearest samples as model instances (with `similarity` set), nearest first."""
    pairs = similar_ids(sample, limit + 8)  # a few spare, in case some were deleted since the cache was built
    # By primary key alone (the ids come from the owner's own index; the owner is checked below): with an owner
    # filter too, SQLite's planner walks the owner index over the whole library.
    rows = Sample.objects.filter(pk__in=[pk for pk, _ in pairs]).select_related("track").defer("embedding")
    by_id = {s.pk: s for s in rows if s.owner_id == sample.owner_id}
    if len(by_id) < len(pairs):
        clear_cache(sample.owner_id)
    result = []
    for pk, score in pairs:
        if pk in by_id:
            by_id[pk].similarity = score
            result.append(by_id[pk])
    return result[:limit]
