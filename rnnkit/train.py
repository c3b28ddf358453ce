"""`python -m rnnkit.train --task T ...`: train a task's model and write one run folder."""
import sys

from rnnkit.core import cli
from rnnkit.core.config import flag_for
from rnnkit.core.errors import UsageError
from rnnkit.core.flags import build_parser, parse
from rnnkit.core.lazy import LazyModule

# TensorFlow loads only once the flags are parsed: --help and a mistyped flag answer in a moment.
training = LazyModule("rnnkit.training")


def config_from_args(argv):
    """Parse `argv` into (validated Config, resume?) (UsageError or exit 2 on bad input)."""
    values = parse(argv, lambda task: build_parser(description=__doc__, task=task))
    if "resume" in values:
        run_dir = values.pop("resume")
        if values:
            raise UsageError(f"--resume takes no other flags (got {flag_for(next(iter(values)))}); "
                             "the run continues with its own config.json")
        return training.resume_config(run_dir), True
    if "task" not in values:
        raise UsageError("the following arguments are required: --task (or --resume RUN)")
    return training.configure(**values), False


def main(argv=None):
    """CLI entry point: exit 0 on success, 2 on bad input, 3 when training diverged."""

    def body(args):
        cfg, resume = config_from_args(args)
        metrics = training.train_and_evaluate(cfg, resume)
        return 3 if metrics["status"] == "diverged" else 0

    return cli.run_main("python -m rnnkit.train", body, argv)


if __name__ == "__main__":
    sys.exit(main())
