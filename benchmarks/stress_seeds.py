"""Train one command line over several seeds and print, per seed, random-sum and worst stress-family exact match.

    python benchmarks/stress_seeds.py --seeds 0-4 -- --task adder --len 100
    python benchmarks/stress_seeds.py --seeds 0-4 -- --task binary_add --units 3 --train-len 5

Everything after `--` is passed to `python -m rnnkit.train` (each seed gets its own temporary run folder).
"""
import argparse
import contextlib
import io
import json
import os
import sys
import tempfile

from rnnkit import train


def run_seed(flags, seed, folder):
    """metrics.json of one run of `flags` with `seed`."""
    out = os.path.join(folder, f"seed-{seed}")
    with contextlib.redirect_stdout(io.StringIO()):
        status = train.main([*flags, "--seed", str(seed), "--out", out, "--show-samples", "0"])
    if status not in (0, None):
        raise SystemExit(f"seed {seed}: rnnkit.train exited {status}")
    with open(os.path.join(out, "metrics.json"), encoding="utf-8") as handle:
        return json.load(handle)


def summary(metrics):
    """One line: train seconds, exact match by length, and the worst stress family per length."""
    lengths = metrics["by_length"]
    exact = [f"{label}: {r['exact_match']:.4f}" for label, r in lengths.items()]
    if len(exact) > 6:  # binary_add reports 1..--len: count the exact ones instead
        perfect = sum(r["exact_match"] == 1.0 for r in lengths.values())
        worst_exact = min(r["exact_match"] for r in lengths.values())
        exact = [f"{perfect}/{len(lengths)} lengths exact", f"worst {worst_exact:.4f}"]
    worst = []
    for label, families in (metrics.get("stress") or {}).items():
        family, result = min(families.items(), key=lambda item: item[1]["exact_match"])
        worst.append(f"{label}: {family} {result['exact_match']:.4f}")
    tries = metrics.get("restarts")
    tries = f" ({len(tries['attempts'])} attempts, kept {tries['kept']})" if tries else ""
    return (f"{metrics['train_seconds']:6.1f} s{tries} | " + ", ".join(exact) + " | worst stress "
            + ", ".join(worst))


def seeds_and_flags(description):
    """Parse `--seeds A-B [-- FLAGS]` from the command line: the seeds to run and the rnnkit.train flags."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0-4", help="a range such as 0-4")
    parser.add_argument("flags", nargs=argparse.REMAINDER, help="-- then rnnkit.train flags")
    options = parser.parse_args()
    low, _, high = options.seeds.partition("-")
    return range(int(low), int(high or low) + 1), [f for f in options.flags if f != "--"]


def main():
    """Parse `--seeds A-B -- FLAGS`, run each seed, print one line each."""
    seeds, flags = seeds_and_flags(__doc__)
    print("flags:", " ".join(flags))
    with tempfile.TemporaryDirectory(prefix="rnnkit-stress-") as folder:
        for seed in seeds:
            print(f"seed {seed}: {summary(run_seed(flags, seed, folder))}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
