"""`rnnkit COMMAND ...`: one command for every rnnkit CLI (`rnnkit train`, `rnnkit export`, `rnnkit tune`, ...).

Subcommands are the `rnnkit.commands` entry points that setup.py registers, so this module names no other
package: `export/` and `tuning/` plug themselves in, and the dependencies keep pointing one way.
"""
import importlib.metadata
import sys

from rnnkit import __version__
from rnnkit.core import cli

PROG = "rnnkit"
GROUP = "rnnkit.commands"


def commands():
    """{name: entry point} of the installed subcommands, in registration order."""
    return {point.name: point for point in importlib.metadata.entry_points(group=GROUP)}


def usage(available):
    """The help text: each subcommand with the first line of its module's docstring."""
    lines = [f"usage: {PROG} COMMAND [ARGS ...]   ({PROG} COMMAND --help for a command's flags)", "", "commands:"]
    lines += [f"  {name:<15} python -m {point.module.removesuffix('.__main__')}" for name, point in available.items()]
    lines += ["", "options:", "  --version       print rnnkit's version", "  -h, --help      this text"]
    return "\n".join(lines)


def main(argv=None):
    """Dispatch `rnnkit COMMAND ARGS` to that command's main(ARGS); exit 2 with one line for an unknown one."""
    argv = sys.argv[1:] if argv is None else list(argv)
    available = commands()
    if not argv or argv[0] in ("-h", "--help"):
        print(usage(available))
        return 0 if argv else 2
    if argv[0] == "--version":
        print(f"rnnkit {__version__}")
        return 0
    if argv[0] not in available:
        cli.fail(PROG, f"unknown command {argv[0]!r}: choose one of {', '.join(available)} (or --version)")
    command = available[argv[0]].load()
    cli.invoked_as = f"{PROG} {argv[0]}"
    try:
        return command(argv[1:])
    finally:
        cli.invoked_as = None


if __name__ == "__main__":
    sys.exit(main())
