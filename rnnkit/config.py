"""One frozen configuration object that flows from the CLI to data, model, loop and artifacts."""
import dataclasses
import json
from typing import Optional

from rnnkit.errors import UsageError

MAX_LEN = 100_000
MAX_TRAIN_LENGTHS = 1000
# Every choice list, defined once: the CLI, Config's own checks, the models and the tuner's --space read these.
CHOICES = {
    "loss": ("mse", "bce", "ce"), "source": ("embedded", "tfds", "folder"), "backend": ("keras", "numpy"),
    "arch": ("cnn", "mlp"), "cell": ("rnn", "lstm", "gru"), "loop": ("fit", "eager", "function"),
    "strategy": ("default", "mirrored", "multiworker"), "optimizer": ("adam", "sgd", "rmsprop", "adagrad"),
    "lr_schedule": ("none", "plateau", "cosine"), "class_weight": ("none", "balanced"), "overlap": ("drop", "keep"),
}
# field → (low, high[, low_open]) for numbers; the CLI's argument types use the same bounds.
BOUNDS = {
    "length": (1, MAX_LEN), "min_len": (1, MAX_LEN), "max_len": (1, MAX_LEN), "k": (1, MAX_LEN),
    "carry_mix": (0.0, 1.0), "dropout": (0.0, 0.95), "l2": (0.0, 10.0), "embed_dim": (1, 4096),
    "lr": (0.0, 100.0, True), "momentum": (0.0, 0.999), "weight_decay": (0.0, 1.0), "clipnorm": (0.0, 1e6, True),
    "epsilon": (0.0, 1.0, True), "update_gate_bias": (-30.0, 30.0), "beta_1": (0.0, 0.9999),
    "beta_2": (0.0, 0.99999), "coupled_weight_decay": (0.0, 1.0), "plateau_factor": (0.0, 0.99, True),
    "plateau_patience": (0, 100_000), "plateau_min_lr": (0.0, 100.0),
    "patience": (0, 100_000), "epochs": (1, 100_000), "steps_per_epoch": (1, 1_000_000), "batch_size": (1, 65_536),
    "seed": (0, 2**31 - 1), "restarts": (1, 100), "val_samples": (1, 1_000_000), "test_samples": (1, 1_000_000),
    "eval_samples": (1, 1_000_000), "stress_samples": (0, 1_000_000), "show_samples": (0, 100),
}
ITEM_BOUNDS = {"units": (1, 4096), "ngrams": (1, 5), "eval_lens": (1, MAX_LEN), "train_len": (1, MAX_LEN)}
# Config fields only some tasks read, and the flag that sets each (a task lists the ones it reads in `flags`).
TASK_FLAGS = {"length": "--len", "train_len": "--train-len", "min_len": "--min-len", "max_len": "--max-len",
              "k": "--k", "loss": "--loss", "source": "--source", "data_dir": "--data-dir", "augment": "--augment",
              "backend": "--backend", "arch": "--model", "ngrams": "--ngrams", "carry_mix": "--carry-mix",
              "stress_samples": "--stress-samples", "chrono": "--chrono", "update_gate_bias": "--update-gate-bias",
              "restarts": "--restarts",
              "class_weight": "--class-weight", "overlap": "--overlap"}


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything needed to rebuild a run; tasks override the defaults, the CLI overrides both."""

    task: str
    # Task settings (each task reads only the ones it declares in `Task.flags`).
    length: Optional[int] = None
    train_len: Optional[tuple] = None  # (low, high), inclusive
    min_len: Optional[int] = None
    max_len: Optional[int] = None
    k: Optional[int] = None
    loss: Optional[str] = None
    source: Optional[str] = None  # real-data tasks: 'embedded', 'tfds' or 'folder'
    data_dir: Optional[str] = None
    backend: Optional[str] = None  # 2-D toy sets: 'keras' or 'numpy'
    arch: Optional[str] = None  # cifar10: 'cnn' or 'mlp'
    augment: bool = False
    carry_mix: Optional[float] = None  # adder, binary_add: fraction of training sums given one long carry chain
    overlap: Optional[str] = None  # names: a name listed under two languages is dropped from both, or kept in each
    # Model.
    cell: str = "lstm"
    units: tuple = (64,)
    bidirectional: bool = False
    dropout: float = 0.0
    l2: float = 0.0
    embed_dim: int = 32
    ngrams: tuple = ()  # names: orders of the hashed character n-gram bag beside the recurrent state
    unroll: bool = False
    chrono: bool = False  # palindrome: chrono initialisation of LSTM gate biases for lags up to --len
    update_gate_bias: Optional[float] = None  # adder: a GRU's update-gate bias at initialisation (None: Keras')
    # Training.
    loop: str = "fit"
    strategy: str = "default"  # tf.distribute: default, mirrored or multiworker (TF_CONFIG)
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    weight_decay: float = 0.0
    clipnorm: Optional[float] = None
    epsilon: Optional[float] = None  # adam, rmsprop, adagrad: the denominator's epsilon (None: Keras' 1e-7)
    beta_1: Optional[float] = None  # adam: decay of the gradient's running mean (None: Keras' 0.9)
    beta_2: Optional[float] = None  # adam: decay of the squared gradient's running mean (None: Keras' 0.999)
    # PyTorch's `weight_decay` (coupled L2): coupled_weight_decay · θ is added to every parameter's gradient before
    # the optimizer's update, so Adam rescales it; `weight_decay` is the decoupled (AdamW-style) one.
    coupled_weight_decay: float = 0.0
    plateau_factor: float = 0.5  # --lr-schedule plateau: the rate is multiplied by this on a plateau
    plateau_patience: int = 3  # ... after this many epochs without a better validation loss
    plateau_min_lr: Optional[float] = None  # ... never below this (None: lr / 64)
    lr_schedule: str = "none"
    patience: int = 0  # early stopping on the validation loss, keeping the best epoch's weights (0: off)
    epochs: int = 10
    steps_per_epoch: Optional[int] = 100  # None: one pass over a fixed training set
    batch_size: int = 64
    seed: int = 0
    restarts: int = 1  # sequence tasks: train up to this many seeds, keep the best on validation
    class_weight: str = "none"  # array tasks: 'balanced' weighs each training example by n / (classes × n_class)
    # Evaluation.
    eval_lens: tuple = ()
    val_samples: int = 1000
    test_samples: int = 10000
    eval_samples: int = 1000
    show_samples: int = 5
    stress_samples: int = 200  # algorithmic tasks: examples per stress family (0: no stress evaluation)
    # Where the run folder goes (None: runs/<task>-<timestamp>).
    out: Optional[str] = None

    def __post_init__(self):
        """Check every field against CHOICES and BOUNDS, so a library caller gets the CLI's checks."""
        for name, choices in CHOICES.items():
            value = getattr(self, name)
            if value is not None and value not in choices:
                raise UsageError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        for name, (low, high, *low_open) in BOUNDS.items():
            _check_number(name, getattr(self, name), low, high, bool(low_open))
        for name, (low, high) in ITEM_BOUNDS.items():
            items = getattr(self, name)
            if items is None:
                continue
            if not isinstance(items, tuple) or (name not in ("ngrams", "eval_lens") and not items):
                raise UsageError(f"{name} must be a non-empty tuple of whole numbers, got {items!r}")
            for item in items:
                _check_number(name, item, low, high, False, whole=True)
        if self.train_len is not None:
            if len(self.train_len) != 2 or self.train_len[0] > self.train_len[1]:
                raise UsageError(f"train_len must be (low, high) with low <= high, got {self.train_len!r}")
            if self.train_len[1] - self.train_len[0] >= MAX_TRAIN_LENGTHS:
                raise UsageError(f"--train-len may span at most {MAX_TRAIN_LENGTHS} lengths, got "
                                 f"{self.train_len[0]}-{self.train_len[1]}")

    def replace(self, **changes):
        """A copy with some fields changed (the config itself is never mutated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        """Plain JSON-ready dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    def to_json(self):
        """The config as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data):
        """Rebuild a config from `to_dict` output, rejecting unknown keys."""
        if not isinstance(data, dict) or "task" not in data:
            raise UsageError("config must be a JSON object with a 'task' key")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise UsageError(f"unknown config keys: {', '.join(unknown)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)


def _check_number(name, value, low, high, low_open, whole=None):
    """UsageError unless `value` is None or a number in [low, high] (or (low, high] with `low_open`)."""
    if value is None:
        return
    whole = isinstance(low, int) if whole is None else whole
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value != value:
        raise UsageError(f"{name} must be {'a whole number' if whole else 'a number'}, got {value!r}")
    if (value <= low if low_open else value < low) or value > high:
        raise UsageError(f"{name} must be in {'(' if low_open else '['}{low}, {high}], got {value!r}")


def make_config(task, overrides):
    """Config for `task`: class defaults, the task's defaults, its defaults for the chosen cell, then `overrides`."""
    values = dict(task.defaults)
    values.update(task.derived_defaults({**values, **overrides}))
    values.update(overrides)
    values["task"] = task.name
    return Config(**values)
