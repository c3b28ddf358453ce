"""Streaming exports (`python -m export RUN --streaming`): exactness at long lengths, per-step latency, int8 parity.

    python benchmarks/streaming.py adder RUN [--sums 1000] [--stress 20] [--lens 100,1000,10000] [--huge 1000000]
    python benchmarks/streaming.py latency RUN [--repeats 20]
    python benchmarks/streaming.py parity RUN [RUN ...]

`adder` exports RUN (an adder run folder) with --streaming --target micro and streams, in the TFLM interpreter,
`--sums` random sums and `--stress` sums of every stress family at each length, then one `--huge`-digit sum,
checked against Python integers; it prints exact match per row, the file's size and its arena bytes before and
after the longest sum. `latency` times one step of the streaming export in TFLM and LiteRT next to the
full-sequence exports' cost per digit (LiteRT float with a free length; TFLM at --len, the main length), all in one
run on one thread. `parity` exports each classifier run with --streaming --target micro and prints Keras' and TFLM's
(16x8) accuracy over the whole test split.
"""
import argparse
import contextlib
import io
import json
import os
import statistics
import tempfile
import time

import numpy as np

from export import __main__ as export_cli
from export.litert import LiteModel
from export.micro import convert as micro
from export.micro.runtime import MicroModel
from export.streaming.runtime import open_stream
from rnnkit.runs.run_folder import open_run
from rnnkit.tasks import carries


def export(run, folder, *flags):
    """Export `run` quietly into `folder`; return the metadata."""
    with contextlib.redirect_stdout(io.StringIO()):
        status = export_cli.main([run, "--out", folder, *flags])
    if status:
        raise SystemExit(f"export of {run} {' '.join(flags)} failed ({status})")
    with open(os.path.join(folder, "rnnkit_export.json")) as handle:
        return json.load(handle)


def pairs(a, b, length):
    """Operand lists (LSB-first digit arrays) → (1, length + 1, 2) int32 for one sum at a time."""
    x = np.zeros((1, length + 1, 2), np.int32)
    x[0, :length, 0], x[0, :length, 1] = a, b
    return x


def true_sum(a_digits, b_digits):
    """The exact sum of two LSB-first digit arrays as LSB-first digits (one longer), by schoolbook carrying."""
    out, carry = [], 0
    for a, b in zip(a_digits.tolist(), b_digits.tolist()):
        carry, digit = divmod(a + b + carry, 10)
        out.append(digit)
    return np.array(out + [carry])


def exact(stream, a_digits, b_digits):
    """Whether the streamed sum of two LSB-first digit arrays is exactly their sum, every digit."""
    answer = stream.run(pairs(a_digits, b_digits, len(a_digits)))[0].argmax(-1)
    return bool(np.array_equal(answer, true_sum(a_digits, b_digits)))


def adder(args):
    """Exact match of the streamed TFLM adder on random and stress sums at each length, and one huge sum."""
    with tempfile.TemporaryDirectory() as root:
        metadata = export(args.run, os.path.join(root, "s"), "--streaming", "--target", "micro", "--check-samples",
                          "50", "--stress-samples", "0")
        stream = open_stream(os.path.join(root, "s", "model.tflite"), "micro")
    rng = np.random.default_rng(12345)
    print(f"streaming TFLM adder (16x8): {metadata['bytes']} bytes, {metadata['arena_bytes']} arena bytes")
    print("| digits | sums | exact |\n|---|---|---|")
    for length in args.lens:
        a, b = rng.integers(0, 10, (2, args.sums, length))
        right = sum(exact(stream, a[i], b[i]) for i in range(args.sums))
        print(f"| {length} | random {args.sums} | {right / args.sums:.4f} |", flush=True)
        families = carries.stress_operands(rng, args.stress, length, 10)
        worst = min(sum(exact(stream, fa[i % len(fa)], fb[i % len(fb)]) for i in range(max(len(fa), len(fb))))
                    / max(len(fa), len(fb)) for fa, fb in families.values())
        print(f"| {length} | {len(families)} stress families × {args.stress} | {worst:.4f} (lowest family) |",
              flush=True)
    if args.huge:
        a, b = rng.integers(0, 10, (2, args.huge))
        start = time.perf_counter()
        right = exact(stream, a, b)
        seconds = time.perf_counter() - start
        print(f"| {args.huge} | one sum | {float(right):.4f} | ({seconds:.0f} s)")
    print(f"arena bytes after the longest sum: {micro.arena_bytes(stream)}")


def per_call_us(function, repeats):
    """Median of `repeats` timings of `function()`, in microseconds, after one warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def latency(args):
    """Per-step cost of the streaming exports next to the full-sequence exports' cost per digit, one run."""
    cfg, task, _ = open_run(args.run)
    x, _ = task.held_out(cfg, 1)
    steps = x.shape[1]
    with tempfile.TemporaryDirectory() as root:
        rows = []
        for name, flags, runtime in (("streaming, TFLM 16x8", ("--streaming", "--target", "micro"), "micro"),
                                     ("streaming, LiteRT float", ("--streaming",), "litert")):
            export(os.path.join(args.run), os.path.join(root, name[:12] + runtime), *flags, "--check-samples", "5",
                   "--stress-samples", "0")
            stream = open_stream(os.path.join(root, name[:12] + runtime, "model.tflite"), runtime)
            rows.append((name, per_call_us(lambda: stream.run(x), args.repeats) / steps))
        export(args.run, os.path.join(root, "micro"), "--target", "micro", "--check-samples", "5", "--stress-samples",
               "0")
        whole = MicroModel(os.path.join(root, "micro", "model.tflite"))
        rows.append(("full sequence, TFLM int8", per_call_us(lambda: whole.run(x), args.repeats) / steps))
        export(args.run, os.path.join(root, "float"), "--check-samples", "5")
        lite = LiteModel(os.path.join(root, "float", "model.tflite"))
        rows.append(("full sequence, LiteRT float", per_call_us(lambda: lite.run(x), args.repeats) / steps))
    print(f"{cfg.task}, {steps} steps per sequence, one thread, median of {args.repeats} sequences")
    print("| export | µs per step |\n|---|---|")
    for name, us in rows:
        print(f"| {name} | {us:.1f} |")


def parity(args):
    """Keras and TFLM (streaming int8) accuracy over each classifier run's whole test split."""
    print("| run | Keras | TFLM streaming 16x8 | difference (points) | bytes | arena |\n|---|---|---|---|---|---|")
    for run in args.runs:
        with tempfile.TemporaryDirectory() as root:
            metadata = export(run, os.path.join(root, "s"), "--streaming", "--target", "micro", "--check-samples",
                              "100000")
        check = metadata["check"]
        keras_acc, micro_acc = check["keras"]["accuracy"], check["export"]["accuracy"]
        print(f"| {run} ({check['samples']} examples) | {keras_acc:.4f} | {micro_acc:.4f} | "
              f"{100 * (micro_acc - keras_acc):+.2f} | {metadata['bytes']} | {metadata['arena_bytes']} |", flush=True)


def main():
    """Parse the sub-command and run it."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("adder")
    one.add_argument("run")
    one.add_argument("--sums", type=int, default=1000)
    one.add_argument("--stress", type=int, default=20)
    one.add_argument("--lens", type=lambda text: [int(v) for v in text.split(",")], default=[100, 1000, 10000])
    one.add_argument("--huge", type=int, default=1_000_000)
    two = commands.add_parser("latency")
    two.add_argument("run")
    two.add_argument("--repeats", type=int, default=20)
    three = commands.add_parser("parity")
    three.add_argument("runs", nargs="+")
    args = parser.parse_args()
    {"adder": adder, "latency": latency, "parity": parity}[args.command](args)


if __name__ == "__main__":
    main()
