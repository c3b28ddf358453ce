"""The headline's training time against the former headline's, in wall-clock and CPU seconds, alternating.

    python benchmarks/headline_time.py [--rounds 3] [--flags "--units 64,64"]

Each round trains, in a fresh process and one after the other, the bare headline (`--task adder --len 100`,
plus --flags if given) and the former headline (the LSTM 64,64 on 20-digit random sums, 10 x 50 steps:
`--cell lstm --carry-mix 0`), each through `rnnkit.training.fit_model` with `rnnkit.train`'s callbacks (the
model, its data and `fit` with validation: what `rnnkit.train` reports as `train_seconds`). It prints the
wall-clock seconds and the process's CPU seconds (all threads), and the ratios. On a shared virtual machine the
wall clock also counts time the hypervisor gave to other guests (the `steal` column of /proc/stat, printed too);
CPU seconds count only this process's work.
"""
import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time

FORMER = ["--cell", "lstm", "--carry-mix", "0"]


def steal_ticks():
    """Clock ticks the hypervisor has stolen from this guest since boot (0 where /proc/stat has no such field)."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = handle.readline().split()
    return int(fields[8]) if len(fields) > 8 else 0


def one(flags):
    """Train once with rnnkit.train's flags; print {wall, cpu} for the training alone as JSON."""
    import rnnkit  # noqa: F401  (quiet TensorFlow import)
    from rnnkit import train, training

    cfg, _ = train.config_from_args(["--task", "adder", "--len", "100", *flags])
    with tempfile.TemporaryDirectory() as run_dir:
        wall, cpu = time.perf_counter(), time.process_time()
        training.fit_model(cfg, training.build_callbacks(cfg, run_dir))
        print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}))


def timed(flags):
    """(wall s, cpu s, stolen s) of one training run in a fresh process."""
    before = steal_ticks()
    out = subprocess.run([sys.executable, __file__, "--one", *flags], check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["wall"], result["cpu"], (steal_ticks() - before) / 100


def main():
    """Alternate the two runs for --rounds rounds and print one line each, then the ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--flags", default="", help="extra rnnkit.train flags for the headline run")
    parser.add_argument("--one", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        return one(args.one)
    headline = shlex.split(args.flags)
    print("round | headline wall / cpu / stolen s | former wall / cpu / stolen s | ratio wall | ratio cpu")
    ratios = []
    for round_ in range(1, args.rounds + 1):
        new, old = timed(headline), timed(FORMER)
        ratios.append((new[0] / old[0], new[1] / old[1]))
        print(f"{round_} | {new[0]:.1f} / {new[1]:.1f} / {new[2]:.1f} | {old[0]:.1f} / {old[1]:.1f} / {old[2]:.1f} | "
              f"{ratios[-1][0]:.2f} | {ratios[-1][1]:.2f}", flush=True)
    walls, cpus = sorted(r[0] for r in ratios), sorted(r[1] for r in ratios)
    print(f"wall ratio {walls[0]:.2f}-{walls[-1]:.2f} (median {walls[len(walls) // 2]:.2f}); "
          f"cpu ratio {cpus[0]:.2f}-{cpus[-1]:.2f} (median {cpus[len(cpus) // 2]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
