"""`python -m tuning.search --task T [task and training flags] --tuner random|hyperband|bayesian|grid ...`

A KerasTuner search over the task's model, built from rnnkit's registry and builders. Running the same command
again continues the same search (finished trials are never repeated); --overwrite starts afresh. Writes the
tuner's folder, results.csv and results.md (one row per trial, best first), and retrains the best
hyperparameters as a normal run folder, so `python -m export` and `python -m rnnkit.predict` work on it.
"""
import csv
import io
import os
import sys

from rnnkit.core import cli, flags
from rnnkit.core.config import flag_for
from rnnkit.core.errors import UsageError
from rnnkit.core.lazy import LazyModule
from rnnkit.runs import artifacts
from rnnkit.tasks import get_task
from tuning import space as spaces

# TensorFlow and KerasTuner load only once the flags are parsed: --help and a mistyped flag answer in a moment.
keras_tuner = LazyModule("keras_tuner")
training = LazyModule("rnnkit.training")
hypermodels = LazyModule("tuning.hypermodel")
chief = LazyModule("tuning.chief")

PROG = "python -m tuning.search"
TUNERS = {"random": "RandomSearch", "hyperband": "Hyperband", "bayesian": "BayesianOptimization",
          "grid": "GridSearch"}  # --tuner → the KerasTuner class
SEARCH_FLAGS = ("tuner", "max_trials", "space", "dir", "overwrite", "retrain", "distributed", "oracle", "tuner_id",
                "objective")
OBJECTIVES = ("accuracy", "balanced_accuracy", "exact_match")
# Run settings a trial (one `loops.train` of a compiled model) does not take; the retrained best trial does.
RETRAIN_ONLY = ("restarts", "strategy", "log_every")


def build_parser(task=None):
    """rnnkit.train's flags (task, model, training; `task`'s own) plus the search's own."""
    # A search resumes by running the same command again, so --resume (a run's) is not offered; --out names the
    # retrained best trial's run folder, the one run folder a search makes.
    parser = flags.build_parser(PROG, __doc__, task, resume=False,
                                out_help="the best trial's run folder (none: DIR/best-trial-N in the search folder)")
    search = parser.add_argument_group("search")
    search.add_argument("--tuner", choices=list(TUNERS), default="random", help="KerasTuner search algorithm")
    search.add_argument("--max-trials", type=cli.bounded_int(1, 10_000), default=10,
                        help="trials in all (hyperband: its max epochs per trial come from --epochs)")
    search.add_argument("--space", nargs="+", metavar="NAME=V,V", default=[],
                        help=f"override the search space, e.g. cell=lstm,gru units=32,64; names: "
                             f"{', '.join(spaces.PARSERS)}, and the task's own (e.g. length, loss, backend)")
    search.add_argument("--objective", choices=OBJECTIVES,
                        help="validation metric to maximise (default: the task's own, exact_match where an "
                             "answer is a whole sequence as in adder, accuracy otherwise; balanced_accuracy is open "
                             "to the classifiers)")
    search.add_argument("--dir", metavar="DIR", help="search folder (default tuning-runs/<task>-<tuner>)")
    search.add_argument("--overwrite", action="store_true", help="start the search afresh")
    search.add_argument("--no-retrain", dest="retrain", action="store_false",
                        help="skip retraining the best trial as a run folder")
    search.add_argument("--distributed", choices=("chief", "worker"),
                        help="parallel trials: one chief (the oracle) and any number of workers, same flags")
    search.add_argument("--oracle", metavar="HOST:PORT", help="the chief's address (default 127.0.0.1:8000, or "
                                                             "KERASTUNER_ORACLE_IP / _PORT)")
    search.add_argument("--tuner-id", metavar="ID", help="a worker's name (default worker-<pid>); a worker "
                                                         "restarted with the same ID resumes its trial")
    return parser


def set_distribution(options):
    """Export KerasTuner's own variables for --distributed (they may also be set directly)."""
    role = options.get("distributed")
    if role is None:
        return
    address = options.get("oracle") or (f"{os.environ.get('KERASTUNER_ORACLE_IP', '127.0.0.1')}:"
                                        f"{os.environ.get('KERASTUNER_ORACLE_PORT', '8000')}")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--oracle must be HOST:PORT, got {address!r}")
    tuner_id = "chief" if role == "chief" else options.get("tuner_id") or f"worker-{os.getpid()}"
    if role == "worker" and tuner_id == "chief":
        raise UsageError("--tuner-id chief is reserved for the chief")
    os.environ.update(KERASTUNER_TUNER_ID=tuner_id, KERASTUNER_ORACLE_IP=host, KERASTUNER_ORACLE_PORT=port)


def parse(argv):
    """(Config, search options) from the command line."""
    values = flags.parse(argv, build_parser)
    options = {key: values.pop(key) for key in SEARCH_FLAGS if key in values}
    cfg = training.configure(**values)
    space = get_task(cfg.task).default_space(cfg)
    asked = spaces.parse_space(options.get("space", []), get_task(cfg.task))
    fixed = spaces.fixed_by(values, space)
    for name in fixed:
        if name in asked:
            raise UsageError(f"{name} is set by a flag and by --space {name}=…: give one (a flag fixes it, --space "
                             "searches it)")
        del space[name]
    space.update(asked)
    if not space:
        raise UsageError("your flags fix every hyperparameter of the default search space: give --space NAME=V,V "
                         "for one to search")
    if fixed:
        print(f"tuning.search: fixed by your flags, not searched: {', '.join(fixed)}", flush=True)
    retrain_only = [flag_for(name) for name in RETRAIN_ONLY if name in values]
    if retrain_only:
        print(f"tuning.search: {', '.join(retrain_only)} apply to the retrained best trial; each trial trains once, "
              "in this process, without step logs", flush=True)
    spaces.check_applies(get_task(cfg.task), space)
    objective = options.get("objective")
    if objective is not None and objective not in get_task(cfg.task).objectives:
        raise UsageError(f"--objective {objective} does not apply to task {cfg.task} (it takes "
                         f"{', '.join(get_task(cfg.task).objectives)})")
    return get_task(cfg.task).search_config(cfg), space, options


def make_tuner(cfg, space, options):
    """The KerasTuner tuner for these options (resuming an existing search unless --overwrite)."""
    objective = hypermodels.objective_for(get_task(cfg.task), cfg, options.get("objective"))
    hypermodel = hypermodels.RnnkitHyperModel(cfg, space, objective)
    kind = options.get("tuner", "random")
    tuner_class = type(f"Rnnkit{TUNERS[kind]}", (hypermodels.OneLinePerTrial, getattr(keras_tuner, TUNERS[kind])), {})
    declared = keras_tuner.HyperParameters()  # the whole space up front, so trial 1 is drawn from it too
    for name, values in space.items():
        declared.Choice(name, spaces.tuner_values(values))
    common = dict(hypermodel=hypermodel, objective=objective, directory=options["dir"], project_name="tuner",
                  overwrite=options.get("overwrite", False), seed=cfg.seed, hyperparameters=declared)
    if kind == "hyperband":
        return tuner_class(max_epochs=cfg.epochs, factor=3, **common)
    return tuner_class(max_trials=options.get("max_trials", 10), **common)


def results_rows(tuner):
    """One dict per trial, best first: trial id, status, score, hyperparameter values."""
    trials = list(tuner.oracle.trials.values())
    sign = -1 if tuner.oracle.objective.direction == "max" else 1
    trials.sort(key=lambda t: (t.score is None, sign * (t.score or 0.0), t.trial_id))
    return [{"trial": t.trial_id, "status": t.status, tuner.oracle.objective.name: t.score,
             **t.hyperparameters.values} for t in trials]


def write_results(rows, folder):
    """results.csv and results.md in `folder` (atomic)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    text = io.StringIO()
    writer = csv.DictWriter(text, columns)
    writer.writeheader()
    writer.writerows(rows)
    artifacts.write_text(os.path.join(folder, "results.csv"), text.getvalue())
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
    artifacts.write_text(os.path.join(folder, "results.md"), "\n".join(lines) + "\n")


def _cell(value):
    """A table cell: floats to 4 decimals, missing as empty."""
    if value is None:
        return ""
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def search(argv):
    """Run or resume the search (writes the tables and the best run folder)."""
    cfg, space, options = parse(argv)
    options["dir"] = options.get("dir") or os.path.join("tuning-runs", f"{cfg.task}-{options.get('tuner', 'random')}")
    set_distribution(options)
    os.makedirs(options["dir"], exist_ok=True)
    tuner = make_tuner(cfg, space, options)
    role = options.get("distributed") or "single process"
    if role == "worker":
        print(f"tuning.search: worker {os.environ['KERASTUNER_TUNER_ID']} of the oracle at "
              f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}", flush=True)
        tuner.search(verbose=0)
        print("tuning.search: the oracle has no more trials; the chief writes the results", flush=True)
        return
    done = sum(1 for t in tuner.oracle.trials.values() if t.status == "COMPLETED")
    print(f"tuning.search: {cfg.task}, {options.get('tuner', 'random')} tuner ({role}), objective "
          f"{tuner.oracle.objective.name}; {done} finished trials found in {options['dir']}", flush=True)
    if chief.is_chief():
        chief.serve(tuner)
    else:
        tuner.search(verbose=0)
    rows = results_rows(tuner)
    write_results(rows, options["dir"])
    finished = [row for row in rows if row[tuner.oracle.objective.name] is not None]
    if not finished:
        raise UsageError("no trial finished; see the messages above")
    best = finished[0]
    print(f"\n{len(rows)} trials; best trial {best['trial']}: {tuner.oracle.objective.name} "
          f"{best[tuner.oracle.objective.name]:.4f}  "
          + "  ".join(f"{k}={best[k]}" for k in space) + f"\nresults in {options['dir']}/results.md", flush=True)
    best_dir = None
    if options.get("retrain", True):
        best_dir = cfg.out or os.path.join(options["dir"], f"best-trial-{best['trial']}")
        if os.path.isdir(best_dir) and os.listdir(best_dir):
            print(f"the best trial's run folder already exists: {best_dir}")
        else:
            training.train_and_evaluate(spaces.apply(cfg, {k: best[k] for k in space}).replace(out=best_dir))


def main(argv=None):
    """CLI entry point: 0 on success, 2 on bad input."""
    return cli.run_main(PROG, search, argv)


if __name__ == "__main__":
    sys.exit(main())
