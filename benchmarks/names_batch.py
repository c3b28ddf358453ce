"""Names → language: test accuracy and seconds per epoch at batch sizes 1, 32 and 256 (masked batches).

    python benchmarks/names_batch.py [--batches 1,32,256] [--epochs 1:4,32:15,256:40] [--lrs 1:1e-3,32:3e-3,256:1e-2]

Each batch size trains the task's default model (bi-LSTM 128 over a masked character Embedding, beside a bag of
hashed character n-grams) from the same seed on the embedded Faker names, with the task's plateau schedule and
early stopping (the best validation epoch's weights are tested); an epoch is one pass over the training names.
"""
import argparse
import time

import keras

import rnnkit  # noqa: F401  (quiet TensorFlow import)
from rnnkit.core.config import make_config
from rnnkit.tasks import TASKS
from rnnkit.training import fit_model, schedule_callbacks


class EpochTimer(keras.callbacks.Callback):
    """Wall seconds of each training epoch (validation excluded)."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.last = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = getattr(self, "seconds", []) + [self.last - self.start]


def parse_map(text, kind):
    """`1:4,32:15` → {1: 4, 32: 15}."""
    return {int(k): kind(v) for k, v in (item.split(":") for item in text.split(","))}


def main():
    """Train at each batch size and print accuracy and epoch time side by side."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", default="1,32,256")
    parser.add_argument("--epochs", default="1:4,32:15,256:40")
    parser.add_argument("--lrs", default="1:1e-3,32:3e-3,256:1e-2")
    args = parser.parse_args()
    epochs, lrs = parse_map(args.epochs, int), parse_map(args.lrs, float)
    task = TASKS["names"]
    print(f"{'batch':>6}{'epochs':>8}{'lr':>8}{'s/epoch':>10}{'test acc':>10}")
    rows = {}
    for batch in map(int, args.batches.split(",")):
        cfg = make_config(task, dict(batch_size=batch, epochs=epochs[batch], lr=lrs[batch]))
        timer = EpochTimer()
        model, _ = fit_model(cfg, [timer, *schedule_callbacks(cfg, verbose=0)])
        accuracy = task.evaluate(model, cfg)["test"]["accuracy"]
        per_epoch = sorted(timer.seconds)[len(timer.seconds) // 2]
        rows[batch] = (per_epoch, accuracy)
        print(f"{batch:>6}{epochs[batch]:>8}{lrs[batch]:>8.0e}{per_epoch:>10.1f}{accuracy:>10.4f}", flush=True)
    if 1 in rows and 256 in rows:
        print(f"\nbatch 256 vs batch 1: {rows[1][0] / rows[256][0]:.1f}x faster per epoch, "
              f"accuracy {100 * (rows[256][1] - rows[1][1]):+.2f} points")


if __name__ == "__main__":
    main()
