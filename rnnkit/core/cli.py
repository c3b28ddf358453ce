"""Argument types and a parser that reports bad input as one line with exit status 2."""
import argparse
import re
import sys

from rnnkit.core.errors import UsageError

# Set by the `rnnkit` command while a subcommand runs, so its usage and errors say `rnnkit train`, not
# `python -m rnnkit.train`.
invoked_as = None
NEGATIVE = re.compile(r"-\.?\d")  # how a negative number begins (-0.5, -.5, -3,1,4)


class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr (no usage block) and exit status 2.

    With `negative_inputs`, an argument that begins like a negative number is always a value: argparse alone takes
    `-0.5` for one but `-0.5,1.2` (a series, a 2-D point) for an unknown option.
    """

    def __init__(self, *args, prog=None, negative_inputs=False, **kwargs):
        super().__init__(*args, prog=invoked_as or prog, **kwargs)
        self.negative_inputs = negative_inputs

    def parse_known_args(self, args=None, namespace=None):
        """argparse's, with `negative_inputs` kept as values (a leading space hides their `-` while parsing)."""
        if not self.negative_inputs:
            return super().parse_known_args(args, namespace)
        args = [f" {arg}" if NEGATIVE.match(arg) else arg for arg in (sys.argv[1:] if args is None else args)]
        namespace, extras = super().parse_known_args(args, namespace)
        for name, value in vars(namespace).items():
            if isinstance(value, list):
                setattr(namespace, name, [_unhidden(item) for item in value])
            else:
                setattr(namespace, name, _unhidden(value))
        return namespace, [_unhidden(arg) for arg in extras]

    def error(self, message):
        """Report `message` as `prog: error: message` and exit 2."""
        fail(self.prog, message)


def _unhidden(value):
    """`value` without the space `Parser` put before a negative input."""
    return value[1:] if isinstance(value, str) and NEGATIVE.match(value[1:]) and value.startswith(" ") else value


def fail(prog, message):
    """Print one error line for `prog` and exit with status 2."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def run_main(prog, body, argv=None):
    """Run `body(argv)` (default: the command line), turning UsageError (and Ctrl-C) into one line on stderr.

    Returns body's exit status (None counts as 0).
    """
    prog = invoked_as or prog
    try:
        return body(sys.argv[1:] if argv is None else argv) or 0
    except UsageError as error:
        fail(prog, str(error))
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        raise SystemExit(130) from None


def _number(text, kind, what):
    """Parse `text` (ASCII only: Python would also read other scripts' digits) as `kind`."""
    if not text.isascii():
        raise argparse.ArgumentTypeError(f"expected {what} in ASCII digits, got {text!r}")
    try:
        return kind(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None


def bounded_int(low, high):
    """An argparse type: an integer in [low, high]."""

    def parse(text):
        value = _number(text, int, "a whole number")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {value}")
        return value

    return parse


def bounded_float(low, high, low_open=False):
    """An argparse type: a finite float in [low, high] (or (low, high] with `low_open`)."""

    def parse(text):
        value = _number(text, float, "a number")
        too_low = value <= low if low_open else value < low
        if too_low or value > high or value != value:
            bracket = "(" if low_open else "["
            raise argparse.ArgumentTypeError(f"must be in {bracket}{low}, {high}], got {text!r}")
        return value

    return parse


def int_list(low, high):
    """An argparse type: comma-separated integers in [low, high], e.g. `64,64`."""
    item = bounded_int(low, high)

    def parse(text):
        parts = text.split(",")
        if not text or any(not part.strip() for part in parts):
            raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers like 64,64, got {text!r}")
        return tuple(item(part.strip()) for part in parts)

    return parse


def length_range(high):
    """An argparse type: `5` or `1-20` → (low, high), both in [1, high]."""
    item = bounded_int(1, high)

    def parse(text):
        low_text, dash, high_text = text.partition("-")
        low = item(low_text.strip())
        top = item(high_text.strip()) if dash else low
        if low > top:
            raise argparse.ArgumentTypeError(f"range start is larger than its end: {text!r}")
        return (low, top)

    return parse


def read_inputs(inputs, stdin):
    """The inputs, with `-` replaced by the non-empty lines of standard input (UsageError where it has none: an
    empty pipe is a mistake upstream, not zero questions)."""
    texts = []
    for text in inputs:
        lines = [line.strip() for line in stdin if line.strip()] if text == "-" else [text]
        if not lines:
            raise UsageError("- reads standard input, and it held no input (only empty lines or nothing)")
        texts.extend(lines)
    return texts
