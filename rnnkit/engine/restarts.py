"""--restarts N: train up to N models from different seeds and keep the one that does best on validation.

A tiny recurrent net (binary_add with 3 units) finds the carry from some initialisations and settles in a local
minimum from others; no learning-rate or data lever fixed that for every seed, a second draw does. Attempts stop
at the first one that is exact on validation, so a seed that works costs nothing extra.
"""
import dataclasses
from typing import Optional

SEED_STRIDE = 7919  # attempt i trains with seed + i * SEED_STRIDE (the test data always come from --seed)


@dataclasses.dataclass
class Attempt:
    """One training run: its model (None when it diverged before any finite epoch), history and callbacks."""

    seed: int
    model: Optional[object]
    history: dict
    diverged: bool
    callbacks: list
    keeper: object
    score: Optional[float] = None
    worst: str = ""


def attempt_seed(seed, index):
    """The training seed of attempt `index` (0 is --seed itself)."""
    return (seed + index * SEED_STRIDE) % 2**31


def best_of(cfg, task, train_once, report=print):
    """Run `train_once(cfg_for_attempt, index)` up to cfg.restarts times; (kept attempt, all attempts).

    Each finished model is scored by `task.selection_score(model, cfg)` (validation data drawn from --seed,
    never the test streams); the loop stops at a score of 1.0 and otherwise keeps the highest.
    """
    attempts = []
    for index in range(cfg.restarts):
        attempt = train_once(cfg.replace(seed=attempt_seed(cfg.seed, index)), index)
        if attempt.model is not None:
            attempt.score, attempt.worst = task.selection_score(attempt.model, cfg)
        attempts.append(attempt)
        report(f"rnnkit: attempt {index + 1}/{cfg.restarts} (seed {attempt.seed}): validation "
               + ("diverged" if attempt.score is None else f"{attempt.score:.4f} (worst: {attempt.worst})"),
               flush=True)
        if attempt.score is not None and attempt.score >= 1.0:
            break
    finished = [a for a in attempts if a.score is not None]
    kept = max(finished, key=lambda a: a.score) if finished else attempts[-1]
    return kept, attempts


def summary(kept, attempts):
    """metrics.json's `restarts` entry: every attempt's seed and validation score, and which was kept."""
    return {"kept": attempts.index(kept) + 1, "attempts": [
        {"seed": a.seed, "validation": a.score, "worst": a.worst, "epochs_run": len(a.history.get("loss", []))}
        for a in attempts]}
