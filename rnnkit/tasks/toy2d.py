"""`moons`, `circles`, `classification`: 2-D toy sets from scikit-learn, a Keras MLP or rnnkit's NumPy MLP."""
import math
import os

import numpy as np

from rnnkit.core import codecs
from rnnkit.core.errors import UsageError
from rnnkit.core.lazy import LazyModule
from rnnkit.core.options import Option
from rnnkit.tasks.arrays import ArrayTask, Splits, stratified_split
from rnnkit.tasks.base import NO_EMBEDDING, NOT_RECURRENT, require

plots = LazyModule("rnnkit.runs.plots")
keras = LazyModule("keras")
numpy_mlp = LazyModule("rnnkit.models.numpy_mlp")
models = LazyModule("rnnkit.models.builders")

SAMPLES = 1000
TEST_FRACTION = 0.2  # the seed's 80 / 20 split; validation is 10% of the 80
VAL_FRACTION = 0.1


class PointCodec(codecs.Codec):
    """A point `x,y` in, the class probabilities out."""

    name = "point"

    def encode(self, metadata, text):
        """`x,y` → (1, 2) float32."""
        parts = text.split(",")
        try:
            values = [float(part) for part in parts]
        except ValueError:
            raise UsageError(f"expected a point as two numbers 'x,y', like '0.5,-0.25', got {text!r}") from None
        if len(values) != 2 or not all(math.isfinite(v) and abs(v) <= 1e6 for v in values):
            raise UsageError(f"expected a point as two finite numbers 'x,y' (|v| <= 1e6), got {text!r}")
        return np.array([values], dtype=np.float32)

    def describe(self, metadata, text, x, output):
        """`(+0.50, -0.25) → class 1 0.93, class 0 0.07`."""
        return f"({x[0]:+.2f}, {x[1]:+.2f}) → {codecs.ranked(metadata, output, codecs.TOP)}"


class Toy2D(ArrayTask):
    """Points (x, y) → class 0 or 1; `--units` sets the hidden sizes (default one layer of 20)."""

    unread = {**ArrayTask.unread, **NO_EMBEDDING, **NOT_RECURRENT}
    options = (Option("backend", "keras", "a Keras MLP or rnnkit's NumPy MLP", kind="choice",
                      choices=("keras", "numpy"), searchable=True),
               Option("samples", SAMPLES, "points the generator makes (random_state 0)", bounds=(20, 1_000_000),
                      searchable=True),
               Option("noise", 0.1, "the generator's noise: the points' Gaussian jitter (moons, circles) or the "
                      "fraction of labels drawn at random (classification)", kind="float", bounds=(0.0, 10.0),
                      searchable=True),
               Option("test_fraction", TEST_FRACTION, "of the points held out as the test split, stratified",
                      kind="float", bounds=(0.0, 0.9, True), searchable=True),
               *ArrayTask.options)
    DATA_FIELDS = ("samples", "noise", "test_fraction")
    codec, example_input = PointCodec(), "0.5,-0.25"
    search_space = {"units": [8, 20, 64], "layers": [1, 2], "lr": [0.01, 0.03, 0.1], "optimizer": ["sgd", "adam"],
                    "batch_size": [16, 32, 64]}

    def __init__(self, name, summary, generate, noise):
        self.name, self.summary, self.generate = name, summary, generate
        self.defaults = dict(backend="keras", units=(20,), optimizer="sgd", lr=0.1, momentum=0.9, epochs=40,
                             steps_per_epoch=None, batch_size=32, noise=noise)

    def validate(self, cfg):
        """The NumPy backend trains with SGD (momentum allowed) and no regularizers."""
        if cfg.backend == "numpy":
            require(cfg.optimizer == "sgd", f"--backend numpy trains with --optimizer sgd, got {cfg.optimizer!r}")
            require(not (cfg.l2 or cfg.dropout or cfg.weight_decay or cfg.clipnorm),
                    "--backend numpy supports neither --l2, --dropout, --weight-decay nor --clipnorm")
            require(cfg.class_weight == "none", "--backend numpy trains without class weights: use --backend keras "
                                                "for --class-weight balanced")

    def search_config(self, cfg):
        """A search trains Keras models."""
        require(cfg.backend == "keras", "tuning.search trains Keras models: use --backend keras "
                                        "(tuning.report compares backends)")
        return cfg

    def load_splits(self, cfg):
        """--samples points (1 000) from the generator (fixed random_state 0) with its --noise, --test-fraction (the
        seed's 20%) held out stratified, float32."""
        x, y = self.generate(cfg.samples, cfg.noise)
        x, y = x.astype(np.float32), y.astype(np.int32)
        train, test = stratified_split(y, cfg.test_fraction, seed=0)
        kept, val = stratified_split(y[train], VAL_FRACTION, seed=1)
        return Splits((x[train][kept], y[train][kept]), (x[train][val], y[train][val]), (x[test], y[test]),
                      ("class 0", "class 1"), f"scikit-learn {self.name} generator, {cfg.samples} points, noise "
                      f"{cfg.noise}, random_state 0")

    def fit_outside_keras(self, model, cfg, train_ds, val_ds, callbacks):
        """--backend numpy: rnnkit's NumPy MLP trains itself (SGD with momentum, Keras' rule, driving the same
        callbacks), and `model`, the identical Keras MLP, takes its weights: the run folder, evaluation, predict
        and every export then see a Keras model."""
        if cfg.backend != "numpy":
            return None
        mlp = numpy_mlp.NumpyMLP((2, *cfg.units, 2), seed=cfg.seed)
        kept = [c for c in callbacks if not isinstance(c, (keras.callbacks.TensorBoard,
                                                             keras.callbacks.BackupAndRestore))]
        history = mlp.fit(train_ds, val_ds, cfg.epochs, self.epoch_steps(cfg), cfg.lr, cfg.momentum, kept)
        model.set_weights([weights.astype(np.float32) for weights in mlp.get_weights()])
        return history

    def build_model(self, cfg):
        """MLP 2 → hidden (ReLU) → 2 (softmax) in Keras (with --backend numpy, what the NumPy MLP's weights go in)."""
        return models.build_mlp(name=self.name, input_shape=(2,), hidden=cfg.units, num_classes=2, dropout=cfg.dropout,
                                l2=cfg.l2)

    def show(self, cfg, x):
        """The point's coordinates."""
        return f"({x[0]:+.2f}, {x[1]:+.2f})"

    def write_plots(self, model, cfg, results, run_dir):
        """Confusion matrix, the data (train and test), and the decision boundary."""
        super().write_plots(model, cfg, results, run_dir)
        data = self.splits(cfg)
        plots.plot_points(data.train, data.test, os.path.join(run_dir, "data.png"), f"{self.name}: data")
        plots.plot_decision_boundary(lambda points: self.predict(model, cfg, points)[:, 1], data.train, data.test,
                                     os.path.join(run_dir, "decision_boundary.png"),
                                     f"{self.name}: decision boundary ({cfg.backend})")


def _moons(samples, noise):
    """scikit-learn's make_moons."""
    from sklearn.datasets import make_moons

    return make_moons(samples, noise=noise, random_state=0)


def _circles(samples, noise):
    """scikit-learn's make_circles (inner radius half the outer)."""
    from sklearn.datasets import make_circles

    return make_circles(samples, noise=noise, factor=0.5, random_state=0)


def _classification(samples, noise):
    """scikit-learn's make_classification: two informative features, one cluster a class; `noise` is flip_y."""
    from sklearn.datasets import make_classification

    return make_classification(samples, n_features=2, n_informative=2, n_redundant=0, n_clusters_per_class=1,
                               class_sep=2.0, flip_y=noise, random_state=0)


# Each set's default noise is the one it had before the flag: scikit-learn's flip_y default for classification.
TASKS = (Toy2D("moons", "two interleaving half circles (scikit-learn make_moons)", _moons, 0.1),
         Toy2D("circles", "a circle inside a circle (scikit-learn make_circles)", _circles, 0.05),
         Toy2D("classification", "two Gaussian clusters (scikit-learn make_classification)", _classification, 0.01))
