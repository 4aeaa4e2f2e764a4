"""Train the sample classifier and export the weights the engine loads (audio.tagging).

    python -m audio.training.train [--quick] [--out PATH] [--seed N] [--workers N] [--cache-dir DIR]
                                        [--folds K] [--eval-soundfont PATH|none]

1. Base shots: every mapped FluidR3_GM preset and drum sound rendered with fluidsynth (render.py) and numpy-made
   sounds (synth.py), cached under var/training/.
2. Folds BY SOURCE: a source is a set of soundfont presets or drum keys of one category sharing a recorded sample,
   or one synth patch; each source goes to one of K folds (stratified per category and per kind, soundfont or
   synth), so no recording or patch is ever on both sides of a train/test boundary.
3. Examples: each shot clean plus augmented copies (augment.py; more copies for rarer categories), layered only
   with material from the same fold. Features come from the engine's own `features`, so training and use see the
   same numbers.
4. Cross-validation: for each fold k, an MLP (features -> 128 -> 64 -> 17; AdamW, label smoothing, class-balanced
   loss) trains on the other folds but one, which is used for early stopping on macro-F1, and predicts fold k
   with the exported numpy model. Every source is thus held out once: accuracy, macro-F1, per-group figures, a
   per-class table, the main confusions and the worst soundfont sources are reported over all held-out predictions.
5. The shipped model trains on every fold for the median best epoch count, and is optionally evaluated on a
   different soundfont (never used for training or tuning), reported separately.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio import tagging
from audio.tagging import ANALYSIS_SR, CATEGORIES, GROUPS, LABELS, MODEL_PATH, TaggingModel
from audio.training import augment as aug
from audio.training import render, synth
from audio.training.render import FLUIDR3, PlanOptions, Shot, load_shots, render_soundfont, save_shots

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = ROOT / "var" / "training"
HIDDEN = (128, 64)
DRUMS = set(GROUPS["drums"])


@dataclass(frozen=True)
class Config:
    quick: bool
    notes_per_preset: int
    drum_velocities: int
    kits_per_sound: int
    max_presets_per_category: int | None
    synth_scale: float
    synth_variants: int
    target_per_class: int  # clean + augmented examples aimed at per category (over all folds)
    max_copies: int
    folds: int
    max_epochs: int
    patience: int
    eval_notes_per_preset: int

    @classmethod
    def make(cls, quick: bool, folds: int | None = None) -> Config:
        if quick:
            return cls(True, 2, 1, 1, 1, 0.03, 2, 40, 2, folds or 3, 6, 3, 1)
        return cls(False, 20, 4, 2, None, 1.0, 4, 2000, 8, folds or 5, 60, 10, 6)

    def plan(self) -> PlanOptions:
        return PlanOptions(
            notes_per_preset=self.notes_per_preset,
            drum_velocities=self.drum_velocities,
            kits_per_sound=self.kits_per_sound,
            max_presets_per_category=self.max_presets_per_category,
        )


def _source_hash(*modules) -> str:
    h = hashlib.sha256()
    for m in modules:
        h.update(Path(m.__file__).read_bytes())
    return h.hexdigest()[:10]


def log(*args) -> None:
    print(*args, flush=True)


# -------------------------------------------------------------------------------------------------- base shots


def _synth_job(job: tuple[str, int, int]) -> list[Shot]:
    return synth.synth_shots(*job)


def synth_dataset(cache_dir: Path, cfg: Config, seed: int, workers: int) -> list[Shot]:
    key = f"{_source_hash(synth, render)}-{cfg.synth_scale}-{cfg.synth_variants}-{seed}"
    path = cache_dir / f"synth-{hashlib.sha256(key.encode()).hexdigest()[:12]}.npz"
    if path.is_file():
        shots = load_shots(path)
        log(f"  {len(shots)} synthesised shots (cached: {path})")
        return shots
    jobs = synth.synth_jobs(cfg.synth_scale, cfg.synth_variants, seed)
    log(f"  synthesising {len(jobs)} patches x {cfg.synth_variants}...")
    shots = [s for batch in _map(_synth_job, jobs, workers, chunksize=8) for s in batch]
    save_shots(path, shots)
    return load_shots(path)  # as stored (16-bit), so a first run and a cached one train on the same numbers


def _map(fn, items, workers: int, chunksize: int = 1):
    if workers <= 1 or len(items) < 4:
        return [fn(i) for i in items]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(fn, items, chunksize=chunksize))


# ------------------------------------------------------------------------------------------------------- split


def assign_folds(shots: list[Shot], folds: int, seed: int) -> dict[str, int]:
    """source -> fold (0..folds-1), dealt round-robin per (category, soundfont or synth) after a shuffle."""
    by_stratum: dict[tuple[str, str], set[str]] = defaultdict(set)
    for s in shots:
        by_stratum[(s.category, s.source.split(":", 1)[0])].add(s.source)
    rng = np.random.default_rng(seed)
    assignment: dict[str, int] = {}
    for stratum in sorted(by_stratum):
        sources = sorted(by_stratum[stratum] - assignment.keys())
        rng.shuffle(sources)
        offset = int(rng.integers(folds))
        for i, src in enumerate(sources):
            assignment[src] = (offset + i) % folds
    return assignment


# ---------------------------------------------------------------------------------------------------- features

_WORK: dict = {}  # set before forking: shots and layering pools, read by the feature workers


def _example_features(item: tuple[int, int | None]) -> np.ndarray:
    index, aug_seed = item
    shot: Shot = _WORK["shots"][index]
    x = shot.audio
    if aug_seed is not None:
        rng = np.random.default_rng(aug_seed)
        fold = _WORK["folds"][shot.source]
        same = _WORK["pools"].get((fold, shot.category), np.zeros(0, int))
        other = _WORK["pools"].get((fold, "*"), np.zeros(0, int))
        pitched = shot.category not in DRUMS and shot.category != "fx_other"
        x = aug.augment(
            x,
            ANALYSIS_SR,
            rng,
            pitched=pitched,
            same=[shots_audio(i) for i in rng.choice(same, size=min(2, len(same)), replace=False)] if len(same) else (),
            other=[shots_audio(i) for i in rng.choice(other, size=min(2, len(other)), replace=False)]
            if len(other)
            else (),
        )
    return tagging.features(x, ANALYSIS_SR)


def shots_audio(i: int) -> np.ndarray:
    return _WORK["shots"][int(i)].audio


def _feature_chunk(items: list[tuple[int, int | None]]) -> np.ndarray:
    return np.stack([_example_features(i) for i in items])


def build_examples(shots: list[Shot], folds: dict[str, int], cfg: Config, seed: int):
    """(items, labels, fold per example, augmented flags): each item is (shot index, augmentation seed or None)."""
    per_class = Counter(s.category for s in shots)
    rng = np.random.default_rng(seed + 1)
    items, labels, fold, augmented = [], [], [], []
    for i, s in enumerate(shots):
        copies = int(np.clip(round(cfg.target_per_class / max(per_class[s.category], 1)) - 1, 1, cfg.max_copies))
        for c in range(copies + 1):
            items.append((i, None if c == 0 else int(rng.integers(2**62))))
            labels.append(CATEGORIES.index(s.category))
            fold.append(folds[s.source])
            augmented.append(c > 0)
    return items, np.array(labels), np.array(fold), np.array(augmented)


def compute_features(
    shots: list[Shot], folds: dict[str, int], items: list[tuple[int, int | None]], workers: int
) -> np.ndarray:
    pools: dict[tuple[int, str], list[int]] = defaultdict(list)
    for i, s in enumerate(shots):
        pools[(folds[s.source], s.category)].append(i)
        pools[(folds[s.source], "*")].append(i)
    _WORK.update(shots=shots, folds=folds, pools={k: np.array(v) for k, v in pools.items()})
    chunks = [items[i : i + 256] for i in range(0, len(items), 256)]
    try:
        return np.concatenate(_map(_feature_chunk, chunks, workers))
    finally:
        _WORK.clear()


# ------------------------------------------------------------------------------------------------------- model


def train_mlp(
    x: np.ndarray,
    y: np.ndarray,
    x_val: np.ndarray | None,
    y_val: np.ndarray | None,
    *,
    seed: int,
    max_epochs: int,
    patience: int,
    fixed_epochs: int | None = None,
    dropout: tuple[float, float] = (0.25, 0.1),
    weight_decay: float = 1e-3,
    input_noise: float = 0.05,
    lr: float = 2e-3,
    hidden: tuple[int, int] = HIDDEN,
    sample_weight: np.ndarray | None = None,
) -> tuple[dict[str, np.ndarray], int, list[float]]:
    """Train; return (numpy arrays for the engine, the best epoch, validation macro-F1 per epoch).

    Every category weighs the same in the loss (by the summed `sample_weight` of its examples, 1 each by default);
    within a category, examples weigh their `sample_weight`."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    torch.set_num_threads(1)  # a small MLP: more threads mostly wait on each other (and on a busy machine)
    mean = x.mean(axis=0)
    std = x.std(axis=0) + 1e-4
    xt = torch.from_numpy(((x - mean) / std).astype(np.float32))
    yt = torch.from_numpy(y.astype(np.int64))
    model = nn.Sequential(
        nn.Linear(x.shape[1], hidden[0]),
        nn.ReLU(),
        nn.Dropout(dropout[0]),
        nn.Linear(hidden[0], hidden[1]),
        nn.ReLU(),
        nn.Dropout(dropout[1]),
        nn.Linear(hidden[1], len(CATEGORIES)),
    )
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    counts = np.bincount(y, weights=w, minlength=len(CATEGORIES))
    class_w = np.where(counts > 0, w.sum() / (len(CATEGORIES) * np.maximum(counts, 1e-9)), 0.0)
    wt = torch.from_numpy((w * class_w[y]).astype(np.float32))
    loss_fn = nn.CrossEntropyLoss(reduction="none", label_smoothing=0.1)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    epochs = fixed_epochs or max_epochs
    gen = torch.Generator().manual_seed(seed)

    def export() -> dict[str, np.ndarray]:
        layers = [m for m in model if isinstance(m, nn.Linear)]
        out = {"mean": mean.astype(np.float32), "std": std.astype(np.float32)}
        for k, lin in enumerate(layers, 1):
            out[f"w{k}"] = lin.weight.detach().numpy().T.astype(np.float32).copy()
            out[f"b{k}"] = lin.bias.detach().numpy().astype(np.float32).copy()
        return out

    best, best_epoch, best_state, history, stale = -1.0, 0, None, [], 0
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(len(yt), generator=gen)
        for start in range(0, len(perm), 256):
            idx = perm[start : start + 256]
            xb = xt[idx] + input_noise * torch.randn(len(idx), xt.shape[1], generator=gen)
            loss = (loss_fn(model(xb), yt[idx]) * wt[idx]).sum() / wt[idx].sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        if x_val is None:
            continue
        arrays = export()
        probs, _ = _numpy_model(arrays).forward(x_val)
        score = macro_f1(y_val, probs.argmax(axis=1))
        history.append(score)
        if score > best:
            best, best_epoch, best_state, stale = score, epoch, arrays, 0
        else:
            stale += 1
            if stale >= patience:
                break
    if x_val is None:
        return export(), epochs, history
    return best_state, best_epoch, history


def _numpy_model(arrays: dict[str, np.ndarray], meta: dict | None = None) -> TaggingModel:
    full = {
        **arrays,
        "categories": np.array(CATEGORIES),
        "feature_version": np.array(tagging.FEATURE_VERSION),
        "meta": np.array(json.dumps(meta or {})),
    }
    return TaggingModel(full)


def save_model(path: Path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(
        tmp,
        **arrays,
        categories=np.array(CATEGORIES),
        feature_version=np.array(tagging.FEATURE_VERSION),
        meta=np.array(json.dumps(meta)),
    )
    tmp.replace(path)
    tagging.clear_cache()
    tagging.load_model(path)  # refuses a broken file now rather than in a worker later


def cross_validate(
    x: np.ndarray, y: np.ndarray, fold: np.ndarray, cfg: Config, seed: int
) -> tuple[np.ndarray, list[int]]:
    """Held-out probabilities for every example (each fold predicted by a model that never saw it) and the best
    epoch of each fold's model. Fold k is tested, fold k+1 validates (early stopping), the rest train."""
    oof = np.zeros((len(y), len(CATEGORIES)))
    epochs = []
    for k in range(cfg.folds):
        test = fold == k
        val = fold == (k + 1) % cfg.folds
        train = ~test & ~val
        if not val.any() or cfg.folds < 3:
            val = train  # only tiny runs
        start = time.perf_counter()
        arrays, best_epoch, history = train_mlp(
            x[train], y[train], x[val], y[val], seed=seed + k, max_epochs=cfg.max_epochs, patience=cfg.patience
        )
        oof[test], _ = _numpy_model(arrays).forward(x[test])
        epochs.append(best_epoch)
        held = macro_f1(y[test], oof[test].argmax(axis=1))
        log(
            f"  fold {k + 1}/{cfg.folds}: {train.sum()} train / {val.sum()} validation / {test.sum()} test examples,"
            f" best epoch {best_epoch} (validation macro-F1 {max(history, default=0):.3f}),"
            f" test macro-F1 {held:.3f}, {time.perf_counter() - start:.0f} s"
        )
    return oof, epochs


def worst_sources(shots: list[Shot], items, y: np.ndarray, probs: np.ndarray, mask: np.ndarray, n: int = 12):
    """The soundfont sources held out worst: (accuracy, category, origin, what they were taken for)."""
    by_source: dict[str, list[int]] = defaultdict(list)
    for row in np.nonzero(mask)[0]:
        by_source[shots[items[row][0]].source].append(row)
    rows = []
    for idx in by_source.values():
        pred = probs[idx].argmax(axis=1)
        acc = float(np.mean(pred == y[idx]))
        shot = shots[items[idx[0]][0]]
        top = Counter(CATEGORIES[p] for p in pred if p != y[idx[0]]).most_common(1)
        origin = shot.origin.split(" ", 1)[-1]  # without the soundfont's file name
        rows.append((acc, shot.category, origin, top[0][0] if top else "", len(idx)))
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows[:n]


# ----------------------------------------------------------------------------------------------------- metrics


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    """Mean F1 over the categories present in `y` (0 for no examples)."""
    scores = [f for f, n in zip(*per_class_f1(y, pred), strict=True) if n > 0]
    return float(np.mean(scores)) if scores else 0.0


def per_class_f1(y: np.ndarray, pred: np.ndarray) -> tuple[list[float], list[int]]:
    f1s, support = [], []
    for c in range(len(CATEGORIES)):
        tp = np.sum((pred == c) & (y == c))
        fp = np.sum((pred == c) & (y != c))
        fn = np.sum((pred != c) & (y == c))
        f1s.append(float(2 * tp / max(2 * tp + fp + fn, 1)))
        support.append(int(np.sum(y == c)))
    return f1s, support


def report(title: str, y: np.ndarray, probs: np.ndarray, *, drums_prior: bool = True, table: bool = True) -> dict:
    """Print accuracy, macro-F1, per-group figures, a per-class table and the most common confusions."""
    pred = probs.argmax(axis=1)
    acc = float(np.mean(pred == y)) if len(y) else 0.0
    mf1 = macro_f1(y, pred) if len(y) else 0.0
    out = {"n": len(y), "accuracy": round(acc, 4), "macro_f1": round(mf1, 4), "groups": {}}
    log(f"\n== {title}: {len(y)} examples  accuracy {acc:.3f}  macro-F1 {mf1:.3f}")
    cat_group = np.array([tagging.group_of(c) for c in CATEGORIES])
    for group in GROUPS:
        mask = cat_group[y] == group
        if mask.any():
            g_acc = float(np.mean(pred[mask] == y[mask]))
            g_group = float(np.mean(cat_group[pred[mask]] == group))
            out["groups"][group] = {
                "n": int(mask.sum()),
                "accuracy": round(g_acc, 4),
                "group_correct": round(g_group, 4),
            }
            log(f"   {group:8s} n={mask.sum():5d}  accuracy {g_acc:.3f}  (right group {g_group:.3f})")
    if drums_prior:
        mask = np.isin(y, [CATEGORIES.index(c) for c in GROUPS["drums"]])
        if mask.any():
            prior = tagging.source_prior("drums")
            p = probs[mask] * prior
            d_acc = float(np.mean(p.argmax(axis=1) == y[mask]))
            out["drums_with_drums_prior"] = round(d_acc, 4)
            log(f"   drums given source='drums': accuracy {d_acc:.3f}")
    if table:
        f1s, support = per_class_f1(y, pred)
        log(f"   {'category':14s} {'n':>5s} {'recall':>7s} {'prec':>6s} {'F1':>6s}  most confused with")
        out["per_class"] = {}
        for c, name in enumerate(CATEGORIES):
            if support[c] == 0:
                continue
            rec = float(np.mean(pred[y == c] == c))
            npred = int(np.sum(pred == c))
            prec = float(np.sum((pred == c) & (y == c)) / npred) if npred else 0.0
            wrong = Counter(pred[(y == c) & (pred != c)].tolist()).most_common(2)
            confused = ", ".join(f"{CATEGORIES[k]} {v / support[c]:.0%}" for k, v in wrong)
            log(f"   {name:14s} {support[c]:5d} {rec:7.3f} {prec:6.3f} {f1s[c]:6.3f}  {confused}")
            out["per_class"][name] = {"n": support[c], "recall": round(rec, 3), "f1": round(f1s[c], 3)}
        pairs = Counter((int(a), int(b)) for a, b in zip(y, pred, strict=True) if a != b).most_common(6)
        log("   top confusions: " + "; ".join(f"{CATEGORIES[a]}->{CATEGORIES[b]} {n}" for (a, b), n in pairs))
    return out


# ---------------------------------------------------------------------------------------------------- evaluate


def find_eval_soundfont() -> Path | None:
    """A GM soundfont on this machine that is not FluidR3 (pretty_midi ships TimGM6mb.sf2), or None."""
    try:
        import pretty_midi

        candidate = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    except ImportError:  # pragma: no cover - pretty_midi is in the venv
        return None
    if candidate.is_file() and candidate.resolve() != FLUIDR3.resolve():
        return candidate
    return None


def evaluate_soundfont(path: Path, model: TaggingModel, cfg: Config, cache: Path, seed: int, workers: int) -> dict:
    """Clean renders of `path` (drums labelled by GM key), classified by the shipped model. Evaluation only."""
    opts = PlanOptions(
        notes_per_preset=cfg.eval_notes_per_preset,
        drum_velocities=2,
        kits_per_sound=1,
        max_presets_per_category=cfg.max_presets_per_category,
        label_drums_by="note",
    )
    shots = render_soundfont(path, cache, opts, seed + 7, workers=workers, log=log)
    shots = [s for s in shots if s.category in CATEGORIES]
    x = np.stack([tagging.features(s.audio, ANALYSIS_SR) for s in shots])
    y = np.array([CATEGORIES.index(s.category) for s in shots])
    probs, _ = model.forward(x)
    return report(f"independent soundfont {path.name} (clean renders, never trained or tuned on)", y, probs)


# -------------------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audio.training.train", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny dataset and a few epochs (a smoke test)")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help=f"weights file to write (default {MODEL_PATH})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--folds", type=int, default=None, help="cross-validation folds (default 5; 3 with --quick)")
    parser.add_argument("--eval-soundfont", default="auto", help="a non-FluidR3 soundfont to evaluate on, or none")
    args = parser.parse_args(argv)
    cfg = Config.make(args.quick, args.folds)
    if cfg.folds < 2:
        parser.error("--folds must be at least 2")
    t0 = time.perf_counter()
    cache = args.cache_dir
    cache.mkdir(parents=True, exist_ok=True)
    stage = time.perf_counter()

    log(f"[1/5] base shots ({'quick' if cfg.quick else 'full'} run, seed {args.seed})")
    gm = render_soundfont(FLUIDR3, cache, cfg.plan(), args.seed, workers=args.workers, log=log)
    made = synth_dataset(cache, cfg, args.seed, args.workers)
    shots = gm + made
    counts = Counter(s.category for s in shots)
    log(f"  {len(gm)} rendered + {len(made)} synthesised = {len(shots)} shots in {time.perf_counter() - stage:.0f} s")
    log("  " + ", ".join(f"{c} {counts[c]}" for c in CATEGORIES))
    missing = [c for c in CATEGORIES if counts[c] == 0]
    if missing:
        raise SystemExit(f"no shots for {missing}")

    folds = assign_folds(shots, cfg.folds, args.seed)
    n_sources = Counter(folds.values())
    log(f"[2/5] {len(folds)} sources in {cfg.folds} folds: " + " / ".join(str(n_sources[k]) for k in range(cfg.folds)))

    stage = time.perf_counter()
    items, y, fold, augmented = build_examples(shots, folds, cfg, args.seed)
    key = json.dumps(
        [_source_hash(tagging, aug, render, synth), len(gm), len(made), args.seed, cfg.__dict__],
        sort_keys=True,
        default=str,
    )
    feat_path = cache / f"features-{hashlib.sha256(key.encode()).hexdigest()[:12]}.npy"
    if feat_path.is_file():
        x = np.load(feat_path)
        log(f"[3/5] features of {len(items)} examples (cached: {feat_path})")
    else:
        log(f"[3/5] augmenting and extracting features of {len(items)} examples ({augmented.sum()} augmented)...")
        x = compute_features(shots, folds, items, args.workers)
        np.save(feat_path, x)
    log(f"  {x.shape[1]} features, {time.perf_counter() - stage:.0f} s")

    stage = time.perf_counter()
    log(f"[4/5] {cfg.folds}-fold cross-validation by source...")
    oof, epochs = cross_validate(x, y, fold, cfg, args.seed)
    log(f"  {time.perf_counter() - stage:.0f} s")
    kinds = np.array([shots[i].source.split(":", 1)[0] for i, _ in items])
    clean = ~augmented
    figures = {}
    for name, title, mask, table in (
        ("clean", "HELD-OUT (cross-validated by source), clean shots", clean, True),
        ("augmented", "held-out, augmented copies", augmented, False),
        ("soundfont", "held-out, FluidR3 renders only (clean)", clean & (kinds == "sf"), True),
        ("synth", "held-out, synthesised only (clean)", clean & (kinds == "synth"), False),
    ):
        if mask.any():
            figures[name] = report(title, y[mask], oof[mask], table=table)
    log("\n   soundfont sources held out worst (accuracy, category, source, mostly taken for):")
    for acc, category, origin, taken, n in worst_sources(shots, items, y, oof, clean & (kinds == "sf")):
        log(f"   {acc:4.0%} {category:12s} {origin[:60]:60s} {taken} ({n})")

    stage = time.perf_counter()
    final_epochs = int(np.median(epochs))
    log(f"[5/5] training the shipped model on every fold for {final_epochs} epochs...")
    final, _, _ = train_mlp(x, y, None, None, seed=args.seed, max_epochs=final_epochs, patience=0)
    log(f"  {time.perf_counter() - stage:.0f} s")
    meta = {
        "trained": time.strftime("%Y-%m-%d %H:%M:%S"),
        "seed": args.seed,
        "quick": cfg.quick,
        "shots": {"rendered": len(gm), "synthesised": len(made)},
        "examples": len(y),
        "sources": len(folds),
        "folds": cfg.folds,
        "epochs": final_epochs,
        "held_out": figures,
        "labels": LABELS,
    }
    save_model(args.out, final, meta)
    model = tagging.load_model(args.out)

    if args.eval_soundfont != "none":
        eval_path = find_eval_soundfont() if args.eval_soundfont == "auto" else Path(args.eval_soundfont)
        if eval_path is None or (args.eval_soundfont == "auto" and cfg.quick):
            log("\n(no independent soundfont evaluated)")
        elif eval_path.resolve() == FLUIDR3.resolve():
            log(f"\n{eval_path} is FluidR3 itself: not an independent evaluation, skipped")
        else:
            result = evaluate_soundfont(eval_path, model, cfg, cache, args.seed, args.workers)
            meta["independent"] = {eval_path.name: result}
            save_model(args.out, final, meta)

    size = args.out.stat().st_size
    log(f"\nwrote {args.out} ({size / 1024:.0f} KiB) in {time.perf_counter() - t0:.0f} s total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
