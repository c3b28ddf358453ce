"""`--task series` next to aeon's MiniRocket on UCR/UEA sets, in one invocation; prints a Markdown table.

    pip install aeon          # MiniRocket, and the .ts files inside its wheel
    ROOT="$(python -c 'import aeon, os; print(os.path.dirname(aeon.__file__))')/datasets/data"
    python benchmarks/series.py --data-root "$ROOT"

Each set is read from <root>/<Set>/<Set>_TRAIN.ts (its _TEST sibling is the test split) by rnnkit's own reader;
MiniRocket gets the same arrays (missing values filled, series padded to one length), all of the training split.
rnnkit trains the bare `--task series` default per seed; `--micro` also exports seed 0 with `--target micro` and
checks it in the TFLM interpreter on the whole test split (`--micro all`: every seed). `--filters 0 --micro all
--streaming` measures the model without convolutions and its 16x8 TFLM stream, every step checked against Keras.
"""
import argparse
import contextlib
import io
import os
import tempfile
import time

import numpy as np

from export.run import ExportOptions, export_run
import rnnkit
from rnnkit.tasks import TASKS

SETS = ("GunPoint", "ItalyPowerDemand", "BasicMotions", "JapaneseVowels", "ACSF1")


def minirocket(task, cfg, seed):
    """(test accuracy, seconds) of aeon's MiniRocketClassifier on the task's arrays (train and val together)."""
    from aeon.classification.convolution_based import MiniRocketClassifier

    data = task.splits(cfg)
    x = np.concatenate([data.train[0], data.val[0]]).transpose(0, 2, 1).astype(np.float64)
    y = np.concatenate([data.train[1], data.val[1]])
    start = time.perf_counter()
    model = MiniRocketClassifier(random_state=seed).fit(x, y)
    accuracy = float((model.predict(data.test[0].transpose(0, 2, 1).astype(np.float64)) == data.test[1]).mean())
    return accuracy, time.perf_counter() - start


def rnnkit_run(path, seed, folder, filters=None, **options):
    """(metrics.json dict, run folder) of the bare series default at `seed` (or with --filters and the task options
    given, e.g. time_shift; None: the task's default)."""
    extra = {name: value for name, value in options.items() if value is not None}
    cfg = rnnkit.configure("series", data=path, seed=seed, show_samples=0, out=os.path.join(folder, f"seed{seed}"),
                           filters=filters, **extra)
    with contextlib.redirect_stdout(io.StringIO()):
        metrics = rnnkit.train_and_evaluate(cfg)
    return metrics, cfg


def main():
    """Run every set and seed; print one row per set and seed, then the means."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", required=True, help="folder holding <Set>/<Set>_TRAIN.ts and _TEST.ts")
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated set names")
    parser.add_argument("--seeds", default="0-4", help="seeds, e.g. 0-4")
    parser.add_argument("--micro", nargs="?", const="first", choices=("first", "all"),
                        help="also export seed 0 (or every seed: all) to TFLM and check it there")
    parser.add_argument("--filters", type=int, help="rnnkit's --filters (0: no convolutions, a model that streams)")
    parser.add_argument("--streaming", action="store_true", help="with --micro: the export is --streaming")
    parser.add_argument("--time-shift", type=float, help="rnnkit's --time-shift (default: the task's)")
    parser.add_argument("--state-dropout", type=float, help="rnnkit's --state-dropout (default: the task's)")
    args = parser.parse_args()
    low, _, high = args.seeds.partition("-")
    seeds = range(int(low), int(high or low) + 1)
    task = TASKS["series"]
    print("| set | seed | rnnkit test acc | rnnkit train s | MiniRocket acc | MiniRocket s | TFLM "
          f"{'16x8 stream' if args.streaming else 'int8'} acc (Keras) | micro bytes | arena bytes |")
    print("|---|---|---|---|---|---|---|---|---|")
    means = {}
    for name in args.sets.split(","):
        path = os.path.join(args.data_root, name, f"{name}_TRAIN.ts")
        with tempfile.TemporaryDirectory(prefix=f"series-{name}-") as folder:
            for seed in seeds:
                metrics, cfg = rnnkit_run(path, seed, folder, args.filters, time_shift=args.time_shift,
                                          state_dropout=args.state_dropout)
                rocket, rocket_s = minirocket(task, cfg, seed)
                micro = ["", "", ""]
                if args.micro == "all" or (args.micro and seed == seeds[0]):
                    with contextlib.redirect_stdout(io.StringIO()):
                        meta, _ = export_run(cfg.out, ExportOptions(target="micro", check_samples=len(
                            task.splits(cfg).test[1]), streaming=args.streaming, out=os.path.join(folder,
                                                                                             f"micro{seed}")))
                    check = meta["check"]
                    micro = [f"{check['export']['accuracy']:.4f} ({check['keras']['accuracy']:.4f})",
                             str(meta["bytes"]), str(meta["arena_bytes"])]
                accuracy = metrics["test"]["accuracy"]
                means.setdefault(name, []).append((accuracy, metrics["train_seconds"], rocket, rocket_s))
                print(f"| {name} | {seed} | {accuracy:.4f} | {metrics['train_seconds']:.1f} | {rocket:.4f} | "
                      f"{rocket_s:.1f} | {' | '.join(micro)} |", flush=True)
    print("\n| set | rnnkit mean acc (min) | MiniRocket mean acc | points apart | rnnkit mean train s |")
    print("|---|---|---|---|---|")
    for name, rows in means.items():
        ours, rocket = np.mean([r[0] for r in rows]), np.mean([r[2] for r in rows])
        print(f"| {name} | {ours:.4f} ({min(r[0] for r in rows):.4f}) | {rocket:.4f} | {100 * (ours - rocket):+.1f} | "
              f"{np.mean([r[1] for r in rows]):.1f} |")
    overall = [np.mean([r[0] for r in rows]) for rows in means.values()]
    anchor = [np.mean([r[2] for r in rows]) for rows in means.values()]
    print(f"\nmean over sets: rnnkit {np.mean(overall):.4f}, MiniRocket {np.mean(anchor):.4f}")


if __name__ == "__main__":
    main()
