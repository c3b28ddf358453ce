"""One frozen configuration object that flows from the CLI to data, model, loop and artifacts."""
import dataclasses
import json
from typing import Optional

from rnnkit.errors import UsageError


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
    # Training.
    loop: str = "fit"
    strategy: str = "default"  # tf.distribute: default, mirrored or multiworker (TF_CONFIG)
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    weight_decay: float = 0.0
    clipnorm: Optional[float] = None
    lr_schedule: str = "none"
    patience: int = 0  # early stopping on the validation loss, keeping the best epoch's weights (0: off)
    epochs: int = 10
    steps_per_epoch: Optional[int] = 100  # None: one pass over a fixed training set
    batch_size: int = 64
    seed: int = 0
    restarts: int = 1  # sequence tasks: train up to this many seeds, keep the best on validation
    # Evaluation.
    eval_lens: tuple = ()
    val_samples: int = 1000
    test_samples: int = 10000
    eval_samples: int = 1000
    show_samples: int = 5
    stress_samples: int = 200  # algorithmic tasks: examples per stress family (0: no stress evaluation)
    # Where the run folder goes (None: runs/<task>-<timestamp>).
    out: Optional[str] = None

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


def make_config(task, overrides):
    """Config for `task`: class defaults, the task's defaults, its defaults for the chosen cell, then `overrides`."""
    values = dict(task.defaults)
    values.update(task.cell_defaults.get(overrides.get("cell", values.get("cell")), {}))
    values.update(overrides)
    values["task"] = task.name
    return Config(**values)
