"""The training flags, shared by `rnnkit.train` and `tuning.search`: the shared ones with Config's own bounds,
a task's own generated from its `options`."""
import argparse
import dataclasses

from rnnkit.core import cli
from rnnkit.core.config import BOUNDS, CHOICES, ITEM_BOUNDS, Config, make_config, not_an_option
from rnnkit.core.errors import UsageError
from rnnkit.core.options import Option
from rnnkit.tasks import TASKS


def bounded(field):
    """An argparse type for a numeric Config field, with the bounds Config itself checks."""
    low, high, *low_open = BOUNDS[field]
    if isinstance(low, int) and isinstance(high, int):
        return cli.bounded_int(low, high)
    return cli.bounded_float(low, high, low_open=bool(low_open))


def items(field):
    """An argparse type for a Config tuple field (comma-separated whole numbers within the field's bounds)."""
    return cli.int_list(*ITEM_BOUNDS[field])


def task_named(argv):
    """The registered task that `--task` names in `argv`, or None."""
    name = None
    for index, token in enumerate(argv):
        if token == "--task" and index + 1 < len(argv):
            name = argv[index + 1]
        elif token.startswith("--task="):
            name = token.partition("=")[2]
    return TASKS.get(name)


def parse(argv, build):
    """`build(task)`'s parser applied to `argv`: the task's own flags join once `--task` names it."""
    task = task_named(argv)
    parser = build(task)
    values, rest = parser.parse_known_args(argv)
    if rest:
        flag = rest[0].split("=")[0]
        other = next((option for other in TASKS.values() for option in other.option_table().values()
                      if flag in (option.cli_flag, option.negative)), None)
        if other is not None and task is not None:
            raise UsageError(not_an_option(task, other.name))
        if other is not None:
            raise UsageError(f"{flag} is a task option: give --task first")
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return vars(values)


def _epilog(task):
    """Without a task: every task and its own flags; with one: its defaults of the shared flags."""
    if task is not None:
        shared = ", ".join(f"{key}={Option.describe(value)}" for key, value in task.defaults.items()
                           if key not in task.option_table())
        return f"{task.name}: {task.summary}\n  its defaults of the shared flags: {shared}"
    lines = ["tasks (add --task T --help for a task's own flags and defaults):"]
    for name, each in TASKS.items():
        own = " ".join(option.cli_flag for option in each.option_table().values())
        lines.append(f"  {name:<15}{each.summary}\n  {'':<15}its flags: {own or 'none'}")
    return "\n".join(lines)


def build_parser(prog="python -m rnnkit.train", description=None, task=None, resume=True,
                 out_help="run folder to create (none: runs/<task>-<timestamp>)"):
    """The training flags, with `task`'s own; every one defaults to 'unset' so the task's defaults fill in
    (`resume=False` leaves --resume out; `out_help` says what --out names)."""
    parser = cli.Parser(prog=prog, description=description, epilog=_epilog(task), allow_abbrev=False,
                        argument_default=argparse.SUPPRESS, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=list(TASKS), help="which task to train")
    if resume:
        parser.add_argument("--resume", metavar="RUN", help="continue an interrupted run from its last epoch "
                                                            "backup (takes no other flag: the run's config.json rules)")
    if task is not None:
        group = parser.add_argument_group(f"{task.name} options")
        for option in task.option_table().values():
            option.add_to(group)
    # Each shared flag's help ends with its default: the task's where --task is given, Config's otherwise.
    defaults = make_config(task, {}).to_values() if task is not None else {
        field.name: field.default for field in dataclasses.fields(Config) if field.name != "options"}

    def add(group, *flags, **kwargs):
        """group.add_argument, with the default appended to the help of a flag that takes or sets a value."""
        dest = kwargs.get("dest") or flags[0].lstrip("-").replace("-", "_")
        if dest in defaults and kwargs.get("action") not in ("store_const", "store_false"):
            kwargs["help"] = f"{kwargs['help']} (default: {Option.describe(defaults[dest])})"
        group.add_argument(*flags, **kwargs)
    model = parser.add_argument_group("model")
    add(model, "--cell", choices=CHOICES["cell"], help="recurrent cell")
    add(model, "--units", metavar="N[,N...]", type=items("units"), help="units per layer, e.g. 64 or 64,64 (stacked)")
    add(model, "--bidirectional", action="store_true", help="bidirectional recurrent layers (mnist and "
                       "names default to them)")
    add(model, "--no-bidirectional", dest="bidirectional", action="store_false",
                       help="one direction only (what a streaming export needs)")
    add(model, "--dropout", type=bounded("dropout"), help="input dropout of recurrent layers")
    add(model, "--l2", type=bounded("l2"), help="L2 weight penalty")
    add(model, "--embed-dim", type=bounded("embed_dim"), help="embedding size for token inputs")
    add(model, "--unroll", action="store_true",
                       help="train with recurrent layers unrolled (no WHILE loop: faster steps, slower tracing); "
                            "needs training batches of one length; evaluation and the saved model take any length")
    train = parser.add_argument_group("training")
    add(train, "--loop", choices=CHOICES["loop"], help="model.fit, an eager GradientTape loop, or tf.function")
    add(train, "--strategy", choices=CHOICES["strategy"],
                       help="tf.distribute: mirrored (this host's GPUs) or multiworker (hosts in TF_CONFIG; "
                            "--loop function); --batch-size is the global batch")
    add(train, "--optimizer", choices=CHOICES["optimizer"], help="optimizer")
    add(train, "--lr", type=bounded("lr"), help="learning rate")
    add(train, "--momentum", type=bounded("momentum"), help="momentum (sgd, rmsprop)")
    add(train, "--weight-decay", type=bounded("weight_decay"),
                       help="decoupled weight decay (AdamW-style: the weights shrink by lr × W each step, apart from "
                            "the gradient)")
    add(train, "--coupled-weight-decay", metavar="W", type=bounded("coupled_weight_decay"),
                       help="PyTorch's weight_decay (coupled L2): W × θ is added to every parameter's gradient, "
                            "biases included, before the optimizer's update")
    add(train, "--clipnorm", type=bounded("clipnorm"), help="clip gradients by norm (none: no clipping)")
    add(train, "--no-clipnorm", dest="clipnorm", action="store_const", const=None,
                       help="no gradient clipping, even where the task clips by default")
    add(train, "--beta1", dest="beta_1", type=bounded("beta_1"),
                       help="adam: decay of the gradient's running mean (none: Keras' and PyTorch's 0.9)")
    add(train, "--beta2", dest="beta_2", type=bounded("beta_2"),
                       help="adam: decay of the squared gradient's running mean (none: Keras' and PyTorch's 0.999)")
    add(train, "--epsilon", type=bounded("epsilon"),
                       help="adam, rmsprop, adagrad: epsilon added to the update's denominator (none: Keras' 1e-7); "
                            "a larger one damps steps once gradients are tiny")
    add(train, "--lr-schedule", choices=CHOICES["lr_schedule"],
                       help="plateau: multiply the lr by --plateau-factor (0.5) after --plateau-patience (3) epochs "
                            "without a better val loss, down to --plateau-min-lr (lr/64); "
                            "cosine: decay from --lr to lr/100 over all training steps")
    add(train, "--plateau-factor", metavar="F", type=bounded("plateau_factor"),
                       help="--lr-schedule plateau: multiply the rate by F on a plateau")
    add(train, "--plateau-patience", metavar="N", type=bounded("plateau_patience"),
                       help="--lr-schedule plateau: epochs without a better val loss before the rate drops")
    add(train, "--plateau-min-lr", metavar="LR", type=bounded("plateau_min_lr"),
                       help="--lr-schedule plateau: the lowest rate (none: --lr / 64)")
    add(train, "--patience", metavar="N", type=bounded("patience"),
                       help="stop after N epochs without a better val loss and keep the best epoch's weights "
                            "(0: train every epoch, keep the last)")
    add(train, "--epochs", type=bounded("epochs"), help="epochs")
    add(train, "--steps-per-epoch", type=bounded("steps_per_epoch"), help="training steps per epoch")
    add(train, "--batch-size", type=bounded("batch_size"), help="examples per step")
    add(train, "--seed", type=bounded("seed"), help="random seed (same seed, same metrics)")
    add(train, "--restarts", metavar="N", type=bounded("restarts"),
                       help="algorithmic tasks: train up to N seeds (--seed, then derived ones), stop at the first "
                            "exact on validation and stress draws at --len, else keep the best (binary_add: 5)")
    add(train, "--log-every", metavar="N", type=bounded("log_every"),
        help="every N steps also write the training loss / accuracy and those of up to 1 000 held-out test "
             "examples to steps.csv, TensorBoard (tensorboard/steps) and steps.png (none: per epoch only)")
    add(train, "--out", metavar="DIR", help=out_help)
    evaluation = parser.add_argument_group("evaluation")
    add(evaluation, "--val-samples", type=bounded("val_samples"), help="validation examples a generated task "
        "draws (a data set's task validates on its own split)")
    add(evaluation, "--test-samples", type=bounded("test_samples"), help="held-out test examples a generated "
        "task draws (a data set's task tests on its whole test split)")
    add(evaluation, "--show-samples", type=bounded("show_samples"), help="verification samples to print")
    return parser
