"""`--target micro` per run folder: does TFLM run it, its parity with Keras, size next to the float LiteRT file.

    python benchmarks/micro_families.py RUN [RUN ...] [--check-samples 1000] [--repeats 200] [--unroll]

For each run folder: the float LiteRT export and the micro export (each into a temporary folder), then one table
row with the micro check (TFLM next to Keras on --check-samples held-out examples), the micro file's size as a
share of the float file, the arena bytes TFLM used, and the median single-sample latency of the TFLM and LiteRT
interpreters (one thread), and the worst stress family in TFLM (Keras) for an algorithmic task. `--unroll` passes
`--unroll` to the micro export (GRU / SimpleRNN unrolled instead of one WHILE loop). A run that TFLM cannot run
prints the one-line refusal instead.
"""
import argparse
import contextlib
import io
import json
import os
import sys
import tempfile

from export_latency import median_ms  # benchmarks/ is this script's folder

from export import __main__ as export_cli
from export import checks
from export.litert import LiteModel
from export.micro.runtime import MicroModel
from rnnkit.runs.run_folder import open_run


def export(argv):
    """(status, stderr, metadata or None) of one `python -m export` call."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            status = export_cli.main(argv)
        except SystemExit as exit_:
            status = exit_.code
    out = argv[argv.index("--out") + 1]
    path = os.path.join(out, "rnnkit_export.json")
    metadata = json.load(open(path)) if status == 0 and os.path.isfile(path) else None
    return status, err.getvalue().strip(), metadata


def worst_stress(check):
    """`family TFLM (keras)` for the stress family TFLM does worst on, or `–`."""
    stress = check.get("stress")
    if not stress:
        return "–"
    family = min(stress, key=lambda name: (stress[name]["export"], name))
    if stress[family]["export"] == 1 and all(figures["keras"] == 1 for figures in stress.values()):
        return f"all {len(stress)} families 1.000 (1.000)"
    return f"{family} {stress[family]['export']:.3f} ({stress[family]['keras']:.3f})"


def row(run, folder, samples, repeats, unroll=False):
    """One markdown row for `run`."""
    cfg, task, _ = open_run(run)
    _, _, float_meta = export([run, "--out", os.path.join(folder, "float"), "--check-samples", "10"])
    status, err, micro = export([run, "--target", "micro", "--out", os.path.join(folder, "micro"),
                                 "--check-samples", str(samples)] + (["--unroll"] if unroll else []))
    if status != 0:
        return f"| {cfg.task} ({run}) | refused: {err.split('error: ', 1)[-1]} | | | | | | | |"
    check = micro["check"]
    lite = LiteModel(os.path.join(folder, "float", "model.tflite"))
    tflm = MicroModel(os.path.join(folder, "micro", "model.tflite"))
    x = task.held_out(cfg, 1)[0][:1]
    x_micro = x if x.shape == tuple(micro["input"]["shape"]) else checks.fit_width(x, micro["input"]["shape"][1])
    share = 100 * micro["bytes"] / float_meta["bytes"]
    return (f"| {cfg.task} | {micro.get('loop') or '–'} | {check['samples']} | "
            f"{check['export']['accuracy']:.4f} / {check['export']['exact_match']:.4f}"
            f" (keras {check['keras']['accuracy']:.4f} / {check['keras']['exact_match']:.4f}) | "
            f"{micro['bytes'] / 1024:.1f} KiB ({share:.0f}% of float {float_meta['bytes'] / 1024:.1f} KiB) | "
            f"{micro['arena_bytes']} | {median_ms(tflm.run, x_micro, repeats):.3f} | "
            f"{median_ms(lite.run, x, repeats):.3f} | {worst_stress(check)} |")


def main(argv=None):
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="RUN")
    parser.add_argument("--check-samples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--unroll", action="store_true", help="export GRU / SimpleRNN unrolled (export --unroll)")
    args = parser.parse_args(argv)
    print("| task | loop | examples | TFLM accuracy / exact match (Keras) | micro file | arena bytes | TFLM ms | "
          "LiteRT float ms | worst stress family, TFLM (Keras) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for run in args.runs:
        with tempfile.TemporaryDirectory() as folder:
            print(row(run, folder, args.check_samples, args.repeats, args.unroll), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
