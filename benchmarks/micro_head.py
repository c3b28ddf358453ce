"""The micro export's softmax head in int8 and in 16x8, side by side in TFLM, on every held-out example.

    python benchmarks/micro_head.py RUN [RUN ...] [--calibration-samples 1000]

For each run folder: two `--target micro` models built in one process from the same calibration examples, one
with the converter's int8 head and one with export/micro/head.py's 16x8 head, then every held-out example the task
has (`held_out(cfg, 100000)`) through the TFLM interpreter. Prints per head the accuracy next to Keras' and the
flips: examples whose TFLM answer differs from Keras', with how many of them became right and wrong.
"""
import argparse
import sys

import numpy as np

from export import checks, convert, defaults
from export.micro import convert as micro
from export.micro.runtime import MicroInterpreter
from rnnkit.runs.run_folder import open_run


def compare(run, calibration_samples):
    """One line for `run`: both heads against Keras."""
    cfg, task, model = open_run(run)
    x, y = task.held_out(cfg, 100_000)
    keras_answer = task.decode(cfg, model.predict(x, verbose=0, batch_size=256)).reshape(y.shape)
    calibration = checks.fit_calibration(task, cfg, x, calibration_samples)
    steps = x.shape[1] if convert.is_recurrent(model) else None
    parts = []
    for name, int16_head in (("int8 head", False), ("16x8 head", True)):
        data = micro.to_micro(micro.micro_twin(model, steps), calibration, int16_head=int16_head)
        runner = MicroInterpreter(data)
        out = np.concatenate([runner.run(x[i: i + 1]) for i in range(len(x))])
        answer = task.decode(cfg, out).reshape(y.shape)
        right, keras_right = (answer == y).reshape(len(y), -1).all(1), (keras_answer == y).reshape(len(y), -1).all(1)
        flips = (answer != keras_answer).reshape(len(y), -1).any(1)
        parts.append(f"{name}: {100 * right.mean():.2f}% vs Keras {100 * keras_right.mean():.2f}% "
                     f"({100 * abs(right.mean() - keras_right.mean()):.2f} apart), {int(flips.sum())} flips "
                     f"({int((right & ~keras_right).sum())} to right, {int((~right & keras_right).sum())} to wrong)")
    return f"{run} ({len(y)} examples) | " + " | ".join(parts)


def main(argv=None):
    """Print one line per run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="RUN")
    parser.add_argument("--calibration-samples", type=int, default=defaults.MICRO_CALIBRATION_SAMPLES)
    args = parser.parse_args(argv)
    for run in args.runs:
        print(compare(run, args.calibration_samples), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
