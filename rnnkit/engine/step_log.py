"""`--log-every N`: every N training steps, the training loss and accuracy and the test split's, in steps.csv,
TensorBoard (`tensorboard/steps`) and steps.png: the per-iteration curves the seed reports plot."""
import csv
import os

import keras
import numpy as np
import tensorflow as tf

from rnnkit.runs import plots

TEST_EXAMPLES = 1000  # held-out examples scored at each logged step
COLUMNS = ("step", "epoch", "loss", "accuracy", "test_loss", "test_accuracy", "test_exact_match")


class StepLog(keras.callbacks.Callback):
    """Logs every `every` optimizer steps. The training figures are Keras' running means over the epoch so far;
    the test figures are computed on the same held-out examples each time (predict only: no metric of the
    training run is reset)."""

    def __init__(self, task, cfg, run_dir, every, resume=False):
        super().__init__()
        self.task, self.cfg, self.every = task, cfg, every
        self.path = os.path.join(run_dir, "steps.csv")
        self.png = os.path.join(run_dir, "steps.png")
        self.writer = tf.summary.create_file_writer(os.path.join(run_dir, "tensorboard", "steps"))
        self.x, self.y = task.held_out(cfg, min(cfg.test_samples, TEST_EXAMPLES))
        self.loss = task.loss(cfg)
        self.epoch, self.step = 0, 0
        if not resume or not os.path.isfile(self.path):
            with open(self.path, "w", newline="") as handle:
                csv.writer(handle).writerow(COLUMNS)

    def on_train_begin(self, logs=None):
        """Count from the optimizer's own step (a resumed run continues its count)."""
        iterations = getattr(getattr(self.model, "optimizer", None), "iterations", None)
        self.step = int(iterations) if iterations is not None else 0

    def on_epoch_begin(self, epoch, logs=None):
        """Remember the epoch for the rows."""
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        """Every `every` steps: score the held-out examples and write one row."""
        self.step += 1
        if self.step % self.every or not logs:
            return
        probabilities = np.asarray(self.model.predict(self.x, batch_size=256, verbose=0))
        right = np.asarray(self.task.decode(self.cfg, probabilities)).reshape(self.y.shape) == self.y
        per_example = right.reshape(len(self.y), -1)
        row = {"step": self.step, "epoch": self.epoch + 1, "loss": float(logs.get("loss", np.nan)),
               "accuracy": float(logs.get("accuracy", np.nan)),
               "test_loss": float(self.loss(self.y, probabilities)), "test_accuracy": float(per_example.mean()),
               "test_exact_match": float(per_example.all(axis=1).mean())}
        with open(self.path, "a", newline="") as handle:
            csv.writer(handle).writerow([row[name] for name in COLUMNS])
        with self.writer.as_default():
            for name in COLUMNS[2:]:
                tf.summary.scalar(name, row[name], step=self.step)

    def on_train_end(self, logs=None):
        """Draw steps.png from everything steps.csv holds."""
        self.writer.flush()
        with open(self.path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        if rows:
            plots.plot_steps({name: [float(r[name]) for r in rows] for name in COLUMNS}, self.png,
                             f"{self.cfg.task}: every {self.every} steps (test: {len(self.y)} held-out examples)")
