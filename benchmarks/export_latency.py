"""Single-sample latency and file size per export of one or more run folders, on one thread.

    python benchmarks/export_latency.py RUN [RUN ...] [--repeats 200] [--check-samples 1000]

For each run: Keras `predict`, the model under `tf.function`, and LiteRT with the float, dynamic-range,
float16 and int8 exports (each exported here with `python -m export`, which also measures the task metric
of the export against Keras on held-out examples). Prints a Markdown table; the README quotes it.
"""
import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time

import tensorflow as tf

from export import __main__ as export_cli
from export import convert, defaults
from export.checks import fit_width
from export.litert import LiteModel
from rnnkit.runs.run_folder import open_run


def median_ms(function, x, repeats):
    """Median wall time of `function(x)` in milliseconds, after three warm-up calls."""
    for _ in range(3):
        function(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(x)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench_run(run_dir, repeats, check_samples):
    """Rows (variant, ms, KiB, accuracy, exact match) for one run folder."""
    cfg, task, model = open_run(run_dir)
    x = task.held_out(cfg, 1)[0][:1]
    twin = convert.inference_twin(model)
    traced = tf.function(lambda batch: twin(batch, training=False))
    keras_ms = median_ms(lambda batch: model.predict(batch, verbose=0), x, max(20, repeats // 10))
    rows = [("keras predict", keras_ms, None, None), ("tf.function", median_ms(traced, x, repeats), None, None)]
    with tempfile.TemporaryDirectory() as folder:
        for quantize in defaults.QUANTIZE:
            out = os.path.join(folder, quantize)
            with contextlib.redirect_stdout(io.StringIO()):
                status = export_cli.main([run_dir, "--quantize", quantize, "--out", out,
                                          "--check-samples", str(check_samples)])
            if status:
                sys.exit(status)
            with open(os.path.join(out, "rnnkit_export.json")) as handle:
                metadata = json.load(handle)
            lite = LiteModel(os.path.join(out, "model.tflite"), num_threads=1)
            steps = metadata["input"]["shape"][1]
            sample = fit_width(x, steps) if quantize == "int8" and convert.is_recurrent(model) else x
            rows.append((f"LiteRT {quantize}", median_ms(lite.run, sample, repeats), metadata["bytes"] / 1024,
                         metadata["check"]))
    return cfg.task, rows


def main():
    """Parse arguments, measure every run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="RUN")
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--check-samples", type=int, default=1000)
    args = parser.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    print(f"# {' '.join(sys.argv)}")
    print("| task | variant | ms / sample | × faster than predict | size KiB | accuracy | exact match |")
    print("|---|---|---|---|---|---|---|")
    for run_dir in args.runs:
        task, rows = bench_run(run_dir, args.repeats, args.check_samples)
        keras_ms = rows[0][1]
        for variant, ms, size, check in rows:
            size_text = f"{size:.1f}" if size is not None else ""
            acc = f"{check['export']['accuracy']:.4f} (keras {check['keras']['accuracy']:.4f})" if check else ""
            em = f"{check['export']['exact_match']:.4f} (keras {check['keras']['exact_match']:.4f})" if check else ""
            print(f"| {task} | {variant} | {ms:.3f} | {keras_ms / ms:.1f} | {size_text} | {acc} | {em} |", flush=True)


if __name__ == "__main__":
    main()
