"""How an export is checked against its Keras model: the examples it is checked and calibrated on, and the
agreement of the two on them (and on an algorithmic task's stress families)."""
import numpy as np

from export import defaults
from rnnkit.engine import evaluate as evaluation
from rnnkit.tasks.sequence import STRESS_SEED


def agreement(task, cfg, y, keras_out, exported_out):
    """Max |difference| and the task metric (accuracy, exact match) of both models on the same examples."""
    result = {"max_abs_diff": float(np.max(np.abs(keras_out - exported_out))), "samples": int(len(y))}
    for name, out in (("keras", keras_out), ("export", exported_out)):
        right = np.asarray(task.decode(cfg, out)).reshape(y.shape) == y
        per_example = right.reshape(len(y), -1)
        result[name] = {"accuracy": float(per_example.mean()), "exact_match": float(per_example.all(1).mean())}
    return result


def calibration_inputs(task, cfg, count=defaults.CALIBRATION_SAMPLES):
    """Representative inputs for int8 calibration: the task's validation examples, or its training examples
    where a run held none out for validation (the training pipeline repeats them to `count`)."""
    pipeline = task.build_inputs(cfg, "val")
    pipeline = task.build_inputs(cfg, "train") if pipeline is None else pipeline
    x, *_ = next(iter(pipeline.unbatch().batch(count)))
    return x.numpy()


def arrays_at(task, cfg, split, length, n=None):
    """A sequence task's `split` examples at `length` as NumPy (x, y)."""
    batches = list(task.build_inputs(cfg, split, length=length, n=n).as_numpy_iterator())
    return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])


def micro_examples(task, cfg, options):
    """Held-out (x, y) for a micro export: at `options.length` for a sequence task, else the task's held-out set."""
    if options.length is None:
        return task.held_out(cfg, options.check_samples)
    return arrays_at(task, cfg, "test", options.length, options.check_samples)


def fit_calibration(task, cfg, x, count, length=None):
    """`count` calibration inputs with the same fixed time axis as `x` (drawn at --len where one is given)."""
    if length is not None:
        return arrays_at(task, cfg, "val", length)[0][:count]
    calibration = calibration_inputs(task, cfg, count)
    return calibration if calibration.shape[1:] == x.shape[1:] else fit_width(calibration, x.shape[1])


def stress_agreement(task, cfg, model, runner, width, options):
    """{family: {samples, keras, export}} exact match of Keras and the export (`runner`) on the task's stress
    families at the micro length or the main one (an algorithmic task's hard cases: long carry chains, repeated
    digits); {} for other tasks. `width` fixes the time axis (None: a stream takes any)."""
    if not options.stress_samples or not hasattr(task, "stress_arrays"):
        return {}
    length = options.length if options.length is not None else task.main_length(cfg)
    families = task.stress_arrays(cfg, np.random.default_rng([STRESS_SEED, length]), options.stress_samples, length)
    result = {}
    for family, (x, y) in families.items():
        x = x if width is None or x.shape[1] == width else fit_width(x, width)
        keras_out = evaluation.predict(model, x, 256)
        micro_out = np.concatenate([runner.run(x[i: i + 1]) for i in range(len(x))])
        check = agreement(task, cfg, y, keras_out, micro_out)
        result[family] = {"samples": check["samples"], "keras": check["keras"]["exact_match"],
                          "export": check["export"]["exact_match"]}
    return result


def fit_width(tokens, width):
    """Pad (with 0) or cut rows to `width` time steps (for exports unrolled at a fixed length)."""
    out = np.zeros((len(tokens), width, *tokens.shape[2:]), dtype=tokens.dtype)
    out[:, : min(width, tokens.shape[1])] = tokens[:, :width]
    return out
