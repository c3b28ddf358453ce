"""One frozen configuration object that flows from the CLI to data, model, loop and artifacts."""
import dataclasses
import json
from typing import Optional

from rnnkit.core.errors import UsageError
from rnnkit.core.options import check_number

# Every choice list of a shared setting, defined once: the CLI, Config's own checks, the models and the tuner's
# --space read these. A task's own settings are its `options` (rnnkit.core.options.Option).
CHOICES = {
    "cell": ("rnn", "lstm", "gru"), "loop": ("fit", "eager", "function"),
    "strategy": ("default", "mirrored", "multiworker"), "optimizer": ("adam", "sgd", "rmsprop", "adagrad"),
    "lr_schedule": ("none", "plateau", "cosine"),
}
# field → (low, high[, low_open]) for numbers; the CLI's argument types use the same bounds.
BOUNDS = {
    "dropout": (0.0, 0.95), "l2": (0.0, 10.0), "embed_dim": (1, 4096),
    "lr": (0.0, 100.0, True), "momentum": (0.0, 0.999), "weight_decay": (0.0, 1.0), "clipnorm": (0.0, 1e6, True),
    "epsilon": (0.0, 1.0, True), "beta_1": (0.0, 0.9999),
    "beta_2": (0.0, 0.99999), "coupled_weight_decay": (0.0, 1.0), "plateau_factor": (0.0, 0.99, True),
    "plateau_patience": (0, 100_000), "plateau_min_lr": (0.0, 100.0),
    "patience": (0, 100_000), "epochs": (1, 100_000), "steps_per_epoch": (1, 1_000_000), "batch_size": (1, 65_536),
    "seed": (0, 2**31 - 1), "restarts": (1, 100), "log_every": (1, 10_000_000), "val_samples": (1, 1_000_000),
    "test_samples": (1, 1_000_000),
    "show_samples": (0, 100),
}
ITEM_BOUNDS = {"units": (1, 4096)}


@dataclasses.dataclass(frozen=True, init=False)
class Config:
    """Everything needed to rebuild a run: the shared settings below and the task's own `options`.

    `Config(task="adder", length=4, lr=0.1)` sorts each keyword into a shared field or one of the task's options
    (`Task.options`); options not given take the task's declared defaults. `cfg.length` reads an option like a
    field. Tasks override the defaults (`make_config`), the CLI overrides both.
    """

    task: str
    options: dict  # the task's own settings, by name (rnnkit.core.options.Option)
    # Model.
    cell: str = "lstm"
    units: tuple = (64,)
    bidirectional: bool = False
    dropout: float = 0.0
    l2: float = 0.0
    embed_dim: int = 32
    unroll: bool = False
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
    restarts: int = 1  # train up to this many seeds, keep the best on validation (tasks with `restartable`)
    log_every: Optional[int] = None  # also log training and held-out test figures every this many steps
    # Evaluation.
    val_samples: int = 1000
    test_samples: int = 10000
    show_samples: int = 5
    # Where the run folder goes (None: runs/<task>-<timestamp>).
    out: Optional[str] = None

    def __init__(self, task, options=None, **values):
        from rnnkit.tasks import get_task  # the registry imports the tasks, which import this module

        declared = get_task(task).option_table()
        options = dict(options or {})
        for name in [name for name in values if name not in SHARED]:
            options[name] = values.pop(name)
        unknown = [name for name in options if name not in declared]
        if unknown:
            raise UsageError(not_an_option(get_task(task), unknown[0]))
        object.__setattr__(self, "task", task)
        object.__setattr__(self, "options", {name: options.get(name, option.default)
                                             for name, option in declared.items()})
        for field in dataclasses.fields(self):
            if field.name not in ("task", "options"):
                object.__setattr__(self, field.name, values.get(field.name, field.default))
        self._check()

    def __getattr__(self, name):
        """A task option, read like a field (`cfg.length`)."""
        options = self.__dict__.get("options")
        if options is not None and name in options:
            return options[name]
        raise AttributeError(f"task {self.__dict__.get('task')!r} has no setting {name!r}")

    def _check(self):
        """Check every field against CHOICES and BOUNDS and every option against its declaration, so a library
        caller gets the CLI's checks."""
        from rnnkit.tasks import get_task

        for name, choices in CHOICES.items():
            value = getattr(self, name)
            if value is not None and value not in choices:
                raise UsageError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        for name, (low, high, *low_open) in BOUNDS.items():
            value = getattr(self, name)
            if value is not None:
                check_number(name, value, low, high, bool(low_open), whole=isinstance(low, int))
        for name, (low, high) in ITEM_BOUNDS.items():
            items = getattr(self, name)
            if not isinstance(items, tuple) or not items:
                raise UsageError(f"{name} must be a non-empty tuple of whole numbers, got {items!r}")
            for item in items:
                check_number(name, item, low, high, False, whole=True)
        for name, option in get_task(self.task).option_table().items():
            option.check(self.options[name])

    def replace(self, **changes):
        """A copy with some fields or options changed (the config itself is never mutated)."""
        return Config(**{**self.to_values(), **changes})

    def to_values(self):
        """Every shared field and option by name, as Python values (tuples stay tuples)."""
        shared = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "options"}
        return {**shared, **self.options}

    def to_dict(self):
        """Plain JSON-ready dict, options beside the shared fields (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.to_values().items()}

    def to_json(self):
        """The config as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data):
        """Rebuild a config from `to_dict` output, rejecting keys that are neither a field nor a task option."""
        if not isinstance(data, dict) or "task" not in data:
            raise UsageError("config must be a JSON object with a 'task' key")
        from rnnkit.tasks import get_task

        unknown = sorted(set(data) - SHARED - set(get_task(data["task"]).option_table()))
        if unknown:
            raise UsageError(f"unknown config keys: {', '.join(unknown)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)


SHARED = {f.name for f in dataclasses.fields(Config)} - {"options"}


def flag_for(name):
    """The command-line flag of setting `name` (`log_every` → `--log-every`)."""
    return "--" + name.replace("_", "-")


def not_an_option(task, name):
    """The message for a setting `task` does not take."""
    from rnnkit.tasks import TASKS

    takes = ", ".join(option.cli_flag for option in task.option_table().values()) or "no task flags"
    flag = next((option.cli_flag for other in TASKS.values() for option in other.options if option.name == name),
                flag_for(name))
    return f"{flag} does not apply to task {task.name} (it takes {takes})"


def make_config(task, overrides):
    """Config for `task`: class defaults, the task's defaults, its defaults for the chosen cell, then `overrides`."""
    values = dict(task.defaults)
    values.update(task.derived_defaults({**values, **overrides}))
    values.update(overrides)
    values["task"] = task.name
    return Config(**values)
