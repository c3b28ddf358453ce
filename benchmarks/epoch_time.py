"""Epoch time and samples/s of rnnkit's training step against a plain Keras model, for masked and image tasks.

    python benchmarks/epoch_time.py [--tasks names,recall,mnist] [--epochs 3]

For each task: the task's default model trained with `model.fit` through rnnkit's shared step (RnnkitModel),
and the same layers wrapped in a plain `keras.Model` (Keras' own train_step), same data pipeline, same
optimizer settings. The first epoch (tracing) is reported apart; the rest are averaged.
"""
import argparse
import sys
import time

import keras

import rnnkit  # noqa: F401  (quiet TensorFlow import)
from rnnkit.core.config import make_config
from rnnkit.models.builders import build_optimizer
from rnnkit.tasks import TASKS


class EpochTimer(keras.callbacks.Callback):
    """Wall time of every epoch."""

    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def measure(task, cfg, plain):
    """(first epoch s, mean later epoch s, samples per epoch) for rnnkit's step or a plain Keras model."""
    keras.utils.set_random_seed(cfg.seed)
    model = task.build_model(cfg)
    if plain:
        model = keras.Model(model.inputs, model.outputs)
    model.compile(optimizer=build_optimizer(cfg), loss=task.loss(cfg), metrics=task.metrics(cfg))
    timer = EpochTimer()
    steps = task.epoch_steps(cfg)
    model.fit(task.build_inputs(cfg, "train"), epochs=cfg.epochs, steps_per_epoch=steps, callbacks=[timer],
              shuffle=False, verbose=0)
    later = timer.times[1:]
    return timer.times[0], sum(later) / len(later), steps * cfg.batch_size


def main():
    """Print one table row per task and model kind."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default="names,recall,mnist")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    print(f"# {' '.join(sys.argv)}")
    print("| task | training step | first epoch s | later epochs s | samples/s | rnnkit / plain |")
    print("|---|---|---|---|---|---|")
    for name in args.tasks.split(","):
        task = TASKS[name]
        cfg = make_config(task, {"epochs": args.epochs, "augment": False} if "augment" in task.option_table()
                          else {"epochs": args.epochs})
        results = {kind: measure(task, cfg, plain=kind == "plain Keras") for kind in ("rnnkit", "plain Keras")}
        for kind, (first, later, samples) in results.items():
            ratio = later / results["plain Keras"][1]
            print(f"| {name} | {kind} | {first:.2f} | {later:.2f} | {samples / later:.0f} | {ratio:.2f} |", flush=True)


if __name__ == "__main__":
    main()
