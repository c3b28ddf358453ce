"""Evaluation helpers shared by the task families."""
import math


def finite_or_none(value):
    """A float, or None where it is NaN/infinite (JSON has no NaN; a diverged model records null)."""
    value = float(value)
    return value if math.isfinite(value) else None


def evaluate(model, dataset):
    """{loss, accuracy, exact_match} of a compiled Keras model on `dataset`."""
    result = model.evaluate(dataset, verbose=0, return_dict=True)
    return {name: finite_or_none(result[name]) for name in ("loss", "accuracy", "exact_match")}


def predict_labels(model, task, cfg, x, batch_size):
    """The task's decoded predictions for the inputs `x`."""
    return task.decode(cfg, model.predict(x, verbose=0, batch_size=batch_size))
