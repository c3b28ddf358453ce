"""Task options: one declaration gives an option's CLI flag, its --help line, its checks, its --space name and its
config.json key. TensorFlow-free."""
import argparse
import dataclasses
import os
from typing import Optional

from rnnkit.core import cli
from rnnkit.core.errors import UsageError

KINDS = ("int", "float", "choice", "bool", "ints", "range", "path")


@dataclasses.dataclass(frozen=True)
class Option:
    """One setting a task reads, with its default for that task."""

    name: str  # the key in Config, config.json, rnnkit.configure(...) and --space
    default: object
    help: str  # what it does, without the default (the help line adds it)
    kind: str = "int"  # one of KINDS; "ints" is a comma list (a tuple), "range" is `5` or `1-20` (low, high)
    bounds: Optional[tuple] = None  # (low, high[, low_open]) of the number or of each list item
    choices: tuple = ()
    flag: Optional[str] = None  # default: --name with dashes
    negative: Optional[str] = None  # a flag that sets `off` (e.g. --no-ngrams, --no-stress)
    off: object = None  # what `negative` sets (None: False for a bool, () for a list)
    metavar: Optional[str] = None
    searchable: bool = False  # a search's --space may vary it
    optional: bool = False  # None is a valid value (besides a default of None)
    max_span: Optional[int] = None  # a range: at most this many values from low to high

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"option {self.name}: unknown kind {self.kind!r}")

    @property
    def cli_flag(self):
        """The flag that sets this option on the command line."""
        return self.flag or "--" + self.name.replace("_", "-")

    def add_to(self, group):
        """Add this option's flag (and its negative) to an argparse group; unset flags stay out of the result."""
        text = self.help if "(default" in self.help else f"{self.help} (default: {self.describe(self.default)})"
        text = text.replace("%", "%%")  # argparse formats help with %: a literal "20%" must reach it escaped
        if self.kind == "bool":
            group.add_argument(self.cli_flag, dest=self.name, action="store_true", help=text)
        else:
            choices = list(self.choices) if self.kind == "choice" else None
            group.add_argument(self.cli_flag, dest=self.name, metavar=self.metavar, choices=choices,
                               type=None if choices else self.parser(), help=text)
        if self.negative:
            group.add_argument(self.negative, dest=self.name, action="store_const", const=self.off_value,
                               help=f"turn {self.cli_flag} off")

    @property
    def off_value(self):
        """The value the negative flag sets."""
        if self.off is not None:
            return self.off
        return False if self.kind == "bool" else ()

    def parser(self):
        """A function reading one value of this option from text (argparse.ArgumentTypeError if bad)."""
        low, high = self.bounds[:2] if self.bounds else (-2**31, 2**31 - 1)
        if self.kind == "int":
            return cli.bounded_int(low, high)
        if self.kind == "ints":
            return cli.int_list(low, high)
        if self.kind == "range":
            return cli.length_range(high)
        if self.kind == "float":
            low, high, *low_open = self.bounds or (float("-inf"), float("inf"))
            return cli.bounded_float(low, high, low_open=bool(low_open))
        if self.kind == "bool":
            return boolean
        if self.kind == "path":  # stored absolute, so the run folder reads it from any working directory
            return lambda text: os.path.abspath(os.path.expanduser(text))
        return lambda text: self._choice(text) if self.kind == "choice" else text

    def _choice(self, text):
        """`text` when it is one of the choices."""
        if text not in self.choices:
            raise argparse.ArgumentTypeError(f"must be one of {', '.join(self.choices)}, got {text!r}")
        return text

    def parse_text(self, text):
        """One value from `text` (a --space entry; `none` for an option that may be unset); UsageError if bad."""
        if text.strip() == "none" and (self.optional or self.default is None):
            return None
        try:
            return self.parser()(text.strip())
        except (argparse.ArgumentTypeError, ValueError) as error:
            raise UsageError(f"{self.name}: {error}") from None

    def check(self, value):
        """UsageError unless `value` is a valid value of this option (what a library caller gets)."""
        if value is None:
            if self.optional or self.default is None:
                return
            raise UsageError(f"{self.name} must be set")
        if self.negative and value == self.off_value and type(value) is type(self.off_value):
            return
        if self.kind in ("int", "float"):
            check_number(self.name, value, *self._bounds(), whole=self.kind == "int")
        elif self.kind == "choice" and value not in self.choices:
            raise UsageError(f"{self.name} must be one of {', '.join(self.choices)}, got {value!r}")
        elif self.kind == "bool" and not isinstance(value, bool):
            raise UsageError(f"{self.name} must be true or false, got {value!r}")
        elif self.kind == "path" and not isinstance(value, str):
            raise UsageError(f"{self.name} must be a path, got {value!r}")
        elif self.kind in ("ints", "range"):
            self._check_items(value)

    def _bounds(self):
        """(low, high, low_open) with open ends where the option has no bounds."""
        low, high, *low_open = self.bounds or (float("-inf"), float("inf"))
        return low, high, bool(low_open)

    def _check_items(self, value):
        """A tuple of whole numbers in bounds; a range is (low, high) with low <= high."""
        if not isinstance(value, tuple) or (self.kind == "range" and len(value) != 2):
            shape = "(low, high)" if self.kind == "range" else "a tuple of whole numbers"
            raise UsageError(f"{self.name} must be {shape}, got {value!r}")
        for item in value:
            check_number(self.name, item, *self._bounds(), whole=True)
        if self.kind == "range" and value[0] > value[1]:
            raise UsageError(f"{self.name} must be (low, high) with low <= high, got {value!r}")
        if self.kind == "range" and self.max_span and value[1] - value[0] >= self.max_span:
            raise UsageError(f"{self.cli_flag} may span at most {self.max_span} values, got {value[0]}-{value[1]}")

    @staticmethod
    def describe(value):
        """A value as the command line writes it."""
        if value is None:
            return "none"
        if isinstance(value, tuple):
            return ",".join(map(str, value)) if value else "none"
        return str(value).lower() if isinstance(value, bool) else str(value)


def check_number(name, value, low, high, low_open, whole):
    """UsageError unless `value` is a number in [low, high] (or (low, high] with `low_open`)."""
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value != value:
        raise UsageError(f"{name} must be {'a whole number' if whole else 'a number'}, got {value!r}")
    if (value <= low if low_open else value < low) or value > high:
        raise UsageError(f"{name} must be in {'(' if low_open else '['}{low}, {high}], got {value!r}")


def boolean(text):
    """`true/false/yes/no/1/0` → bool (ValueError otherwise)."""
    value = text.strip().lower()
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise ValueError(f"expected true or false, got {text!r}")
