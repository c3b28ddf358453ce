"""Search spaces: which config fields a search may vary, their defaults per task, and `--space` parsing."""
import dataclasses

from rnnkit.core import config
from rnnkit.core.errors import UsageError
from rnnkit.core.options import boolean
from rnnkit.tasks import TASKS, get_task

# Shared hyperparameter → how one value is read from `--space` text. `layers` and `units` together make the
# config's per-layer `units` tuple; every other name is the config field of the same name. A task adds its own
# options declared `searchable` (e.g. adder's `length`), read by the option itself.


def _or_none(kind):
    """A parser that reads `none` as None (e.g. `clipnorm=none,1.0`: no clipping, or clipping at 1)."""
    return lambda text: None if text == "none" else kind(text)


PARSERS = {
    "cell": str, "units": int, "layers": int, "bidirectional": boolean, "dropout": float,
    "lr": float, "optimizer": str, "batch_size": int, "epochs": int, "momentum": float,
    "beta_1": _or_none(float), "beta_2": _or_none(float), "epsilon": _or_none(float), "clipnorm": _or_none(float),
    "weight_decay": float, "coupled_weight_decay": float, "lr_schedule": str, "plateau_factor": float,
    "plateau_patience": int, "plateau_min_lr": _or_none(float),
}
CHOICES = {name: config.CHOICES[name] for name in ("cell", "optimizer", "lr_schedule")}
# The bounds Config itself checks (`layers` is the search's own: how many times `units` is stacked).
RANGES = {"units": config.ITEM_BOUNDS["units"], "layers": (1, 8),
          **{name: config.BOUNDS[name] for name in ("dropout", "lr", "batch_size", "epochs", "beta_1", "momentum",
                                                     "beta_2", "epsilon", "clipnorm", "weight_decay",
                                                     "coupled_weight_decay", "plateau_factor", "plateau_patience",
                                                     "plateau_min_lr")}}


def task_hyperparameters(task):
    """The task's own options a search may vary, by name."""
    return {name: option for name, option in task.option_table().items() if option.searchable}


def check_applies(task, space):
    """Refuse a hyperparameter that is neither shared nor one of the task's searchable options."""
    own = task_hyperparameters(task)
    for name in space:
        if name in task.unread:
            raise UsageError(f"hyperparameter {name!r} does not apply to task {task.name}: it {task.unread[name]}")
        if name not in PARSERS and name not in own:
            raise UsageError(f"hyperparameter {name!r} does not apply to task {task.name}")


def parse_space(tokens, task=None):
    """`["cell=lstm,gru", "units=32,64"]` → {"cell": ["lstm", "gru"], "units": [32, 64]} (UsageError if bad).

    With `task`, its searchable options are names too (e.g. `length=10,50` for adder)."""
    own = task_hyperparameters(task) if task is not None else {}
    space = {}
    for token in tokens:
        name, equals, values = token.partition("=")
        name = name.strip()
        if not equals or not name or not values.strip():
            raise UsageError(f"--space entries look like name=value,value (e.g. cell=lstm,gru), got {token!r}")
        if name not in PARSERS and name not in own:
            if task is not None and any(name in task_hyperparameters(other) for other in TASKS.values()):
                raise UsageError(f"hyperparameter {name!r} does not apply to task {task.name}")
            names = ", ".join([*PARSERS, *own])
            raise UsageError(f"unknown hyperparameter {name!r} in --space: choose from {names}")
        if name in space:
            raise UsageError(f"--space names {name!r} twice")
        space[name] = [own[name].parse_text(text) if name in own else _value(name, text)
                       for text in values.split(",")]
    return space


def fixed_by(flags, space):
    """The hyperparameters of `space` that the command line's `flags` (field → value, only those given) set: a
    flag fixes its field, and --units the number of layers as well."""
    fields = set(flags) | ({"layers"} if "units" in flags else set())
    return [name for name in space if name in fields]


def tuner_values(values):
    """The values as KerasTuner's Choice takes them: one type, no None (a list holding None becomes text)."""
    if any(value is None for value in values):
        return ["none" if value is None else str(value) for value in values]
    return list(values)


def from_tuner(values, chosen):
    """The space's own value behind a Choice's `chosen` (undoes tuner_values)."""
    return next((value for value in values if value == chosen or tuner_values([value, None])[0] == chosen), chosen)


def _value(name, text):
    """One checked value of shared hyperparameter `name`."""
    try:
        if not text.isascii():
            raise ValueError(text)
        value = PARSERS[name](text.strip())
    except ValueError:
        raise UsageError(f"--space {name}: {text.strip()!r} is not a valid value") from None
    if name in CHOICES and value not in CHOICES[name]:
        raise UsageError(f"--space {name}: {value!r} is not one of {', '.join(CHOICES[name])}")
    if name in RANGES and value is not None:
        low, high, *low_open = RANGES[name]
        if (value <= low if low_open else value < low) or value > high:
            raise UsageError(f"--space {name}: {value} is outside {'(' if low_open else '['}{low}, {high}]")
    return value


def apply(cfg, values):
    """`cfg` with a trial's hyperparameter values applied (layers × units → the units tuple).

    A trial that changes a setting other defaults follow (the cell; series' --filters 0 and its clipping) also
    brings those defaults (as `rnnkit train` with that flag would), except where `cfg` holds a value other than
    the one its own settings derive: that one was asked for, and stays.
    """
    values = dict(values)
    layers = values.pop("layers", None)
    units = values.pop("units", None)
    if units is not None or layers is not None:
        size = units if units is not None else cfg.units[0]
        values["units"] = (size,) * (layers if layers is not None else len(cfg.units))
    return cfg.replace(**{**derived_defaults_for(cfg, values), **values})


def derived_defaults_for(cfg, changes):
    """{field: value} moving the fields `cfg` holds at the defaults its settings derive to those that `cfg`
    with `changes` derives."""
    task = get_task(cfg.task)
    plain = {f.name: f.default for f in dataclasses.fields(cfg) if f.default is not dataclasses.MISSING}
    plain.update({name: option.default for name, option in task.option_table().items()})
    plain.update(task.defaults)
    values = cfg.to_values()
    # The task's own rule for defaults that follow other settings (make_config applies the same).
    current, wanted = task.derived_defaults(values), task.derived_defaults({**values, **changes})
    return {name: wanted.get(name, plain[name]) for name in {*current, *wanted}
            if getattr(cfg, name) == current.get(name, plain[name])}
