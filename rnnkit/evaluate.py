"""Held-out evaluation at the trained length and at other lengths, and printed verification samples."""
import math

import numpy as np

from rnnkit.tasks.base import SPLIT_OFFSETS, eval_batch_size


def evaluate(model, task, cfg, length, n):
    """{loss, accuracy, exact_match} on `n` fresh test examples of `length`."""
    ds = task.build_inputs(cfg, "test", length=length, n=n)
    result = model.evaluate(ds, verbose=0, return_dict=True)
    # A diverged model has a NaN loss: JSON has no NaN, so it is recorded as null.
    return {name: float(result[name]) if math.isfinite(result[name]) else None
            for name in ("loss", "accuracy", "exact_match")}


def evaluate_lengths(model, task, cfg):
    """The `test` results at the main length and `by_length` results at every reported length."""
    main = task.main_length(cfg)
    test = evaluate(model, task, cfg, main, cfg.test_samples)
    by_length = {}
    for length in task.eval_lengths(cfg):
        result = test if length == main else evaluate(model, task, cfg, length, cfg.eval_samples)
        by_length[task.length_label(cfg, length)] = {"accuracy": result["accuracy"],
                                                     "exact_match": result["exact_match"],
                                                     "samples": cfg.test_samples if length == main
                                                     else cfg.eval_samples}
    return test, by_length


def verification_samples(model, task, cfg):
    """A few random held-out examples rendered with the model's answers, e.g. `31415 + 27182 = 58597 ✓`."""
    if cfg.show_samples <= 0:
        return []
    rng = np.random.default_rng(cfg.seed + SPLIT_OFFSETS["test"] + 1)
    length = task.main_length(cfg)
    x, y = task.make_arrays(cfg, rng, cfg.show_samples, length)
    predicted = task.decode(cfg, model.predict(x, verbose=0, batch_size=eval_batch_size(cfg, length)))
    return [task.render(cfg, x[i], y[i], predicted[i]) for i in range(len(x))]


def format_table(test, by_length):
    """A short fixed-width table of the results."""
    lines = [f"{'split':<14}{'accuracy':>10}{'exact match':>13}", f"{'test':<14}{test['accuracy']:>10.4f}"
             f"{test['exact_match']:>13.4f}"]
    for label, result in by_length.items():
        lines.append(f"{'len ' + label:<14}{result['accuracy']:>10.4f}{result['exact_match']:>13.4f}")
    return "\n".join(lines)
