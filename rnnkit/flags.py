"""The training flags, shared by `rnnkit.train` and `tuning.search`: argparse types from Config's own bounds."""
import argparse

from rnnkit import cli
from rnnkit.config import BOUNDS, CHOICES, ITEM_BOUNDS, MAX_LEN
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


def build_parser(prog="python -m rnnkit.train", description=None):
    """The training flags; every one defaults to 'unset' so the task's defaults can fill in."""
    epilog = "tasks and their defaults:\n" + "\n".join(
        f"  {name:<11} {task.summary}\n              defaults: "
        + ", ".join(f"{key}={value}" for key, value in task.defaults.items()) for name, task in TASKS.items())
    parser = cli.Parser(prog=prog, description=description, epilog=epilog, allow_abbrev=False,
                        argument_default=argparse.SUPPRESS, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=list(TASKS), help="which task to train")
    parser.add_argument("--resume", metavar="RUN", help="continue an interrupted run from its last epoch backup "
                                                        "(takes no other flag: the run's config.json rules)")
    task = parser.add_argument_group("task")
    task.add_argument("--len", dest="length", metavar="N", type=bounded("length"),
                      help="digits per operand (adder, binary_add test length) or palindrome length")
    task.add_argument("--train-len", metavar="N|A-B", type=cli.length_range(MAX_LEN),
                      help="train on this length or range, e.g. 5 or 1-20 (adder, binary_add)")
    task.add_argument("--min-len", type=bounded("min_len"), help="shortest recall sequence")
    task.add_argument("--max-len", type=bounded("max_len"), help="longest recall sequence")
    task.add_argument("--k", type=bounded("k"), help="recall: which item to answer (1-based)")
    task.add_argument("--loss", choices=CHOICES["loss"], help="binary_add: the loss to compare")
    task.add_argument("--carry-mix", metavar="F", type=bounded("carry_mix"),
                      help="adder, binary_add: fraction of training sums given one carry chain of random length")
    task.add_argument("--source", choices=CHOICES["source"],
                      help="real-data tasks: the embedded default, tensorflow-datasets, or a folder (names)")
    task.add_argument("--data-dir", metavar="DIR", help="where --source tfds / folder data lives")
    task.add_argument("--augment", action="store_true", help="random shifts / flips of training images")
    task.add_argument("--no-augment", dest="augment", action="store_false", help="turn augmentation off")
    task.add_argument("--class-weight", choices=CHOICES["class_weight"],
                      help="classification tasks: weigh training examples so every class counts alike (balanced)")
    task.add_argument("--overlap", choices=CHOICES["overlap"],
                      help="names: a name listed under two languages is dropped from both, or kept in each "
                           "(default: drop for the embedded lists, keep for a --source folder)")
    task.add_argument("--backend", choices=CHOICES["backend"], help="2-D toy sets: Keras MLP or rnnkit's NumPy MLP")
    task.add_argument("--model", dest="arch", choices=CHOICES["arch"], help="cifar10: the 8-conv CNN or an MLP")
    model = parser.add_argument_group("model")
    model.add_argument("--cell", choices=CHOICES["cell"], help="recurrent cell")
    model.add_argument("--units", metavar="N[,N...]", type=items("units"), help="units per layer, e.g. 64 or 64,64 (stacked)")
    model.add_argument("--bidirectional", action="store_true", help="bidirectional recurrent layers (mnist and "
                       "names default to them)")
    model.add_argument("--no-bidirectional", dest="bidirectional", action="store_false",
                       help="one direction only (what a streaming export needs)")
    model.add_argument("--dropout", type=bounded("dropout"), help="input dropout of recurrent layers")
    model.add_argument("--l2", type=bounded("l2"), help="L2 weight penalty")
    model.add_argument("--embed-dim", type=bounded("embed_dim"), help="embedding size for token inputs")
    model.add_argument("--ngrams", metavar="N[,N...]", type=items("ngrams"),
                       help="names: also average hashed character n-grams of these orders, e.g. 1,2,3,4")
    model.add_argument("--no-ngrams", dest="ngrams", action="store_const", const=(),
                       help="names: the recurrent state alone")
    model.add_argument("--chrono", action="store_true",
                       help="palindrome: chrono-initialise LSTM gate biases for lags up to --len")
    model.add_argument("--no-chrono", dest="chrono", action="store_false", help="Keras' LSTM initialisation")
    model.add_argument("--update-gate-bias", metavar="B", type=bounded("update_gate_bias"),
                       help="adder, --cell gru: the update gate's bias at initialisation (-10 starts the GRU as a "
                            "vanilla RNN: the adder's GRU default; 0 is Keras')")
    model.add_argument("--unroll", action="store_true",
                       help="train with recurrent layers unrolled (no WHILE loop: faster steps, slower tracing); "
                            "needs training batches of one length; evaluation and the saved model take any length")
    train = parser.add_argument_group("training")
    train.add_argument("--loop", choices=CHOICES["loop"], help="model.fit, an eager GradientTape loop, or tf.function")
    train.add_argument("--strategy", choices=CHOICES["strategy"],
                       help="tf.distribute: mirrored (this host's GPUs) or multiworker (hosts in TF_CONFIG; "
                            "--loop function); --batch-size is the global batch")
    train.add_argument("--optimizer", choices=CHOICES["optimizer"], help="optimizer")
    train.add_argument("--lr", type=bounded("lr"), help="learning rate")
    train.add_argument("--momentum", type=bounded("momentum"), help="momentum (sgd, rmsprop)")
    train.add_argument("--weight-decay", type=bounded("weight_decay"),
                       help="decoupled weight decay (AdamW-style: the weights shrink by lr × W each step, apart from "
                            "the gradient; default 0)")
    train.add_argument("--coupled-weight-decay", metavar="W", type=bounded("coupled_weight_decay"),
                       help="PyTorch's weight_decay (coupled L2): W × θ is added to every parameter's gradient, "
                            "biases included, before the optimizer's update (default 0)")
    train.add_argument("--clipnorm", type=bounded("clipnorm"), help="clip gradients by norm (default: the task's)")
    train.add_argument("--no-clipnorm", dest="clipnorm", action="store_const", const=None,
                       help="no gradient clipping, even where the task clips by default")
    train.add_argument("--beta1", dest="beta_1", type=bounded("beta_1"),
                       help="adam: decay of the gradient's running mean (Keras and PyTorch: 0.9)")
    train.add_argument("--beta2", dest="beta_2", type=bounded("beta_2"),
                       help="adam: decay of the squared gradient's running mean (Keras and PyTorch: 0.999)")
    train.add_argument("--epsilon", type=bounded("epsilon"),
                       help="adam, rmsprop, adagrad: epsilon added to the update's denominator (Keras: 1e-7); "
                            "a larger one damps steps once gradients are tiny")
    train.add_argument("--lr-schedule", choices=CHOICES["lr_schedule"],
                       help="plateau: multiply the lr by --plateau-factor (0.5) after --plateau-patience (3) epochs "
                            "without a better val loss, down to --plateau-min-lr (lr/64); "
                            "cosine: decay from --lr to lr/100 over all training steps")
    train.add_argument("--plateau-factor", metavar="F", type=bounded("plateau_factor"),
                       help="--lr-schedule plateau: multiply the rate by F on a plateau (default 0.5)")
    train.add_argument("--plateau-patience", metavar="N", type=bounded("plateau_patience"),
                       help="--lr-schedule plateau: epochs without a better val loss before the rate drops (default 3)")
    train.add_argument("--plateau-min-lr", metavar="LR", type=bounded("plateau_min_lr"),
                       help="--lr-schedule plateau: the lowest rate (default --lr / 64)")
    train.add_argument("--patience", metavar="N", type=bounded("patience"),
                       help="stop after N epochs without a better val loss and keep the best epoch's weights "
                            "(0: train every epoch, keep the last)")
    train.add_argument("--epochs", type=bounded("epochs"), help="epochs")
    train.add_argument("--steps-per-epoch", type=bounded("steps_per_epoch"), help="training steps per epoch")
    train.add_argument("--batch-size", type=bounded("batch_size"), help="examples per step")
    train.add_argument("--seed", type=bounded("seed"), help="random seed (same seed, same metrics)")
    train.add_argument("--restarts", metavar="N", type=bounded("restarts"),
                       help="algorithmic tasks: train up to N seeds (--seed, then derived ones), stop at the first "
                            "exact on validation and stress draws at --len, else keep the best (binary_add: 5)")
    train.add_argument("--out", metavar="DIR", help="run folder to create (default runs/<task>-<timestamp>)")
    evaluation = parser.add_argument_group("evaluation")
    evaluation.add_argument("--eval-lens", metavar="N[,N...]", type=items("eval_lens"), help="also evaluate at these lengths")
    evaluation.add_argument("--val-samples", type=bounded("val_samples"), help="validation examples")
    evaluation.add_argument("--test-samples", type=bounded("test_samples"), help="held-out test examples")
    evaluation.add_argument("--eval-samples", type=bounded("eval_samples"),
                            help="examples per extra --eval-lens length")
    evaluation.add_argument("--stress-samples", metavar="N", type=cli.bounded_int(1, BOUNDS["stress_samples"][1]),
                            help="algorithmic tasks: examples per stress family (long carry chains, repeated "
                                 "digits, ...), evaluated at --len and each --eval-lens length")
    evaluation.add_argument("--no-stress", dest="stress_samples", action="store_const", const=0,
                            help="skip the stress families")
    evaluation.add_argument("--show-samples", type=bounded("show_samples"), help="verification samples to print")
    return parser
