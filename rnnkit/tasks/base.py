"""The small interface every task implements, and helpers the task families share."""
import dataclasses

import numpy as np

from rnnkit.core.errors import UsageError
from rnnkit.core.lazy import LazyModule

keras = LazyModule("keras")
keras_metrics = LazyModule("rnnkit.models.metrics")


NO_EMBEDDING = {"embed_dim": "reads numbers, with no embedding layer"}  # `unread` of a task without one
NOT_RECURRENT = dict.fromkeys(("cell", "bidirectional"), "has no recurrent layer")  # and of a task without those


class Task:
    """A named problem: its data, default model, loss, metrics, evaluation and how to show a sample.

    Subclasses set `name`, `summary`, `options` (the task's own settings, each an `Option` that makes its flag,
    --help line, checks and config.json key) and `defaults` (the task's values of shared Config fields). The two
    families, `SequenceTask` (generated data, reported by length) and
    `ArrayTask` (fixed data sets, reported by class), implement the rest.
    """

    name = ""
    summary = ""
    defaults = {}
    cell_defaults = {}  # cell → defaults that apply when that cell is chosen (over `defaults`, under flags)
    options = ()  # Option declarations of the settings only this task (or its family) reads
    restartable = False  # whether --restarts N (train several seeds, keep the best) applies
    unread = {}  # shared settings this task never reads → why (`training.configure` refuses one given)
    codec = None  # a codecs.Codec: how a user's input is read and the answer worded (TensorFlow-free)
    example_input = ""
    objective = "accuracy"  # the validation metric a hyperparameter search maximises by default
    objectives = ("accuracy", "exact_match")  # the metrics it may maximise instead (`tuning.search --objective`)
    # What `tuning.search` varies when --space does not say otherwise (hyperparameter → values).
    search_space = {"cell": ["rnn", "lstm", "gru"], "units": [16, 32, 64, 128], "layers": [1, 2],
                    "bidirectional": [False, True], "dropout": [0.0, 0.2], "lr": [1e-3, 3e-3, 1e-2],
                    "optimizer": ["adam", "rmsprop"], "batch_size": [32, 64, 128]}

    def option_table(self):
        """The task's options by name, each with this task's default (from `defaults` where it sets one)."""
        return {option.name: dataclasses.replace(option, default=self.defaults.get(option.name, option.default))
                for option in self.options}

    def derived_defaults(self, values):
        """Defaults that depend on other settings (`values`: task defaults and the caller's overrides)."""
        return self.cell_defaults.get(values.get("cell"), {})

    def default_space(self, cfg):
        """The search space for `cfg` (a copy: callers may update it)."""
        return dict(self.search_space)

    def validate(self, cfg):
        """Raise UsageError when `cfg` asks for something this task cannot do."""

    def search_config(self, cfg):
        """The Config a hyperparameter search (which trains Keras models) runs for `cfg`; UsageError where it
        cannot."""
        return cfg

    def load_data(self, cfg):
        """Read what the task's data needs before a run folder is made, so a loading error leaves nothing behind."""

    def epoch_steps(self, cfg):
        """Training steps per epoch."""
        return cfg.steps_per_epoch

    def build_inputs(self, cfg, split):
        """A batched, prefetched tf.data pipeline for `split` ('train' repeats forever, shuffled); None for a 'val'
        split that holds no examples (a run that trains on every case)."""
        raise NotImplementedError

    def fit_outside_keras(self, model, cfg, train_ds, val_ds, callbacks):
        """Train the compiled `model` some way other than rnnkit's loops and return its history dict; None (the
        default) lets the engine train it."""
        return None

    def build_model(self, cfg):
        """The task's default Keras model for `cfg`."""
        raise NotImplementedError

    def loss(self, cfg):
        """The loss to train with."""
        raise NotImplementedError

    def metrics(self, cfg):
        """Keras metrics reported during training; must include `accuracy` and `exact_match`."""
        raise NotImplementedError

    def decode(self, cfg, y_pred):
        """Model outputs (NumPy) → predicted labels with the shape of `y`."""
        raise NotImplementedError

    def render(self, cfg, x, y_true, y_pred):
        """One example as a line of text, e.g. `31415 + 27182 = 58597 ✓`."""
        raise NotImplementedError

    def evaluate(self, model, cfg):
        """Held-out results for metrics.json: at least {'test': {loss, accuracy, exact_match}}."""
        raise NotImplementedError

    def sample_lines(self, model, cfg):
        """A few random held-out examples rendered with the model's answers."""
        raise NotImplementedError

    def write_plots(self, model, cfg, results, run_dir):
        """Task-specific PNGs in the run folder (the training curves are drawn for every task)."""

    def results_table(self, results):
        """A short fixed-width table of `results` for the terminal."""
        return format_table([("test", results["test"])])

    def held_out(self, cfg, n):
        """`n` held-out test examples `(x, y)` as NumPy arrays (for export checks and calibration)."""
        raise NotImplementedError

    def class_labels(self, cfg):
        """What each output class means, in output order."""
        raise NotImplementedError

    def codec_info(self, cfg):
        """What inference needs besides the model: the input's example and extras, and the class labels."""
        return {"codec": self.codec.name, "example": self.example_input, "labels": list(self.class_labels(cfg))}


class SoftmaxClassifier:
    """Mixin for tasks whose head is a softmax trained with sparse cross-entropy."""

    def loss(self, cfg):
        """Sparse categorical cross-entropy."""
        return keras.losses.SparseCategoricalCrossentropy()

    def metrics(self, cfg):
        """Accuracy and exact match for a softmax head."""
        return keras_metrics.classification_metrics("softmax")

    def decode(self, cfg, y_pred):
        """Most likely class."""
        return np.argmax(y_pred, axis=-1)


def format_table(rows):
    """Rows of (label, {accuracy, exact_match}) as a fixed-width table."""
    lines = [f"{'split':<16}{'accuracy':>10}{'exact match':>13}"]
    for label, result in rows:
        lines.append(f"{label:<16}{result['accuracy']:>10.4f}{result['exact_match']:>13.4f}")
    return "\n".join(lines)


def require(condition, message):
    """Raise UsageError(message) unless `condition` holds."""
    if not condition:
        raise UsageError(message)


def mark(correct, truth):
    """`✓` for a right answer, `✗ (true …)` otherwise."""
    return "✓" if correct else f"✗ (true {truth})"
