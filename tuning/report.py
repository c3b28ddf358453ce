"""`python -m tuning.report NAME [--quick] [--out DIR] [--data-dir DIR]`: re-run a seed report's grid.

Each report is a KerasTuner GridSearch over the seed's grid; every cell is a normal rnnkit run (its own run
folder). The report folder gets report.md (the grid, a results table, the seed's finding) and PNGs of the
overlaid curves. Running it again resumes: finished cells are not run again.
"""
import collections
import contextlib
import json
import os
import sys

import keras_tuner

from rnnkit import training
from rnnkit.core import cli
from rnnkit.core.config import SHARED, make_config
from rnnkit.core.errors import UsageError
from rnnkit.runs import artifacts, plots
from rnnkit.tasks import get_task
from tuning import space as spaces
from tuning.hypermodel import OneLinePerTrial

PROG = "python -m tuning.report"
Report = collections.namedtuple("Report", "task grid base quick finding")
QUICK_SEQ = dict(epochs=3, steps_per_epoch=60, test_samples=1000, eval_samples=300, val_samples=300)
REPORTS = {
    "mnist-cells": Report("mnist", {"cell": ["rnn", "lstm", "gru"], "units": [64, 128]},
                          dict(bidirectional=False, dropout=0.0, epochs=20, augment=False),
                          dict(epochs=4), "LSTM and GRU beat the vanilla RNN; 128 units beat 64"),
    "recall-hidden": Report("recall", {"units": [2, 5, 10]}, {}, dict(QUICK_SEQ, epochs=6),
                            "H = 2 fails to recall; H >= 5 solves it"),
    "binary-loss": Report("binary_add", {"loss": ["mse", "bce", "ce"]}, {}, dict(QUICK_SEQ, epochs=8),
                          "BCE (and CE) train at least as well as MSE"),
    "binary-length": Report("binary_add", {"length": [10, 50, 100]}, {}, dict(QUICK_SEQ, epochs=8),
                            "an RNN trained on 1-10 bits adds much longer numbers"),
    "palindrome-length": Report("palindrome", {"cell": ["rnn", "lstm"], "length": [10, 20, 30]}, {},
                                dict(QUICK_SEQ, epochs=5, steps_per_epoch=100),
                                "the vanilla RNN degrades with palindrome length sooner than the LSTM"),
    "adder-length": Report("adder", {"length": [10, 50, 100, 200]}, {}, dict(QUICK_SEQ, epochs=12),
                           "one model class adds at every length; longer sums need no more steps"),
    "names-size-batch": Report("names", {"layers": [1, 2], "units": [64, 128, 256], "batch_size": [32, 256]},
                               dict(bidirectional=False), dict(epochs=2),
                               "bigger LSTMs fit better; batch 256 trains as well as small batches, far faster"),
    "cifar-optimizers": Report("cifar10", {"optimizer": ["adam", "sgd", "adagrad"], "lr": [1e-3, 1e-2, 1e-1]},
                               dict(epochs=30), dict(epochs=1, steps_per_epoch=20),
                               "Adam at 1e-3 and SGD at 1e-1 train; Adagrad and too-large rates lag"),
    "toy2d-backends": Report("moons", {"task": ["moons", "circles", "classification"], "backend": ["keras", "numpy"]},
                             {}, dict(epochs=10), "the NumPy MLP matches the Keras MLP on every toy set"),
}


def build_parser():
    """The report CLI's arguments."""
    parser = cli.Parser(prog=PROG, description=__doc__, allow_abbrev=False,
                        epilog="reports: " + ", ".join(REPORTS))
    parser.add_argument("name", metavar="NAME", choices=list(REPORTS), help="which seed report: " + ", ".join(REPORTS))
    parser.add_argument("--quick", action="store_true", help="small data and few steps (minutes on 2 CPU cores)")
    parser.add_argument("--out", metavar="DIR", help="report folder (default reports/<name>[-quick])")
    parser.add_argument("--data-dir", metavar="DIR", help="cifar-optimizers: prepared tensorflow-datasets folder")
    parser.add_argument("--seed", type=cli.bounded_int(0, 2**31 - 1), default=0, help="seed of every run")
    return parser


def cell_config(report, values, quick, data_dir, seed):
    """The Config of one grid cell."""
    values = dict(values)
    task = get_task(values.pop("task", report.task))
    # One training run per cell, as the seed reports measured (binary_add's default --restarts would hide
    # how often a set-up fails).
    overrides = {**report.base, **(report.quick if quick else {}), "seed": seed, "restarts": 1}
    if "cell" in values:  # the cell's own defaults (e.g. the palindrome LSTM's chrono gates) come with it
        overrides["cell"] = values["cell"]
    if data_dir:
        overrides["data_dir"] = data_dir
    cfg = make_config(task, {k: v for k, v in overrides.items() if k in SHARED or k in task.option_table()})
    cfg = spaces.apply(cfg, values)
    task.validate(cfg)
    return cfg


def metric_name(cfg):
    """The test metric a cell is judged by."""
    return get_task(cfg.task).objective


class GridRuns(OneLinePerTrial, keras_tuner.Tuner):
    """A KerasTuner Tuner whose trials are complete rnnkit runs, one run folder each."""

    def __init__(self, report, options, folder):
        hps = keras_tuner.HyperParameters()
        for name, values in report.grid.items():
            hps.Choice(name, values, ordered=False)
        size = 1
        for values in report.grid.values():
            size *= len(values)
        oracle = keras_tuner.oracles.GridSearchOracle(objective=keras_tuner.Objective("test_score", "max"),
                                                      max_trials=size, hyperparameters=hps, seed=options.seed)
        self.report, self.options, self.folder = report, options, folder
        super().__init__(oracle=oracle, directory=folder, project_name="grid", overwrite=False)

    def run_trial(self, trial, *args, **kwargs):
        """Train the cell's config as a normal run (output in the run folder's log) and return its test score."""
        values = dict(trial.hyperparameters.values)
        cfg = cell_config(self.report, values, self.options.quick, self.options.data_dir, self.options.seed)
        run_dir = os.path.join(self.folder, "runs", "-".join(f"{k}_{v}" for k, v in values.items()))
        metrics = finished_metrics(run_dir)
        if metrics is None:
            os.makedirs(run_dir, exist_ok=True)
            with open(os.path.join(run_dir, "..", f"{os.path.basename(run_dir)}.log"), "w") as log, \
                    contextlib.redirect_stdout(log):
                metrics = training.train_and_evaluate(cfg.replace(out=run_dir, show_samples=0))
        return {"test_score": float((metrics.get("test") or {}).get(metric_name(cfg)) or 0.0)}


def finished_metrics(run_dir):
    """The metrics of a finished run folder, or None."""
    path = os.path.join(run_dir, "metrics.json")
    if not os.path.isfile(path):
        if os.path.isdir(run_dir) and os.listdir(run_dir):
            raise UsageError(f"{run_dir} holds an unfinished run; move it away to run that cell again")
        return None
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def write_report(name, report, options, folder):
    """report.md, results.csv and the overlaid PNGs from the finished run folders."""
    rows, histories, by_length = [], {}, {}
    runs = os.path.join(folder, "runs")
    for run in sorted(os.listdir(runs)):
        metrics = finished_metrics(os.path.join(runs, run)) if os.path.isdir(os.path.join(runs, run)) else None
        if metrics is None:
            continue
        with open(os.path.join(runs, run, "config.json"), encoding="utf-8") as handle:
            cfg = json.load(handle)
        label = " ".join("=".join(part.rsplit("_", 1)) for part in run.split("-"))
        test = metrics.get("test") or {"accuracy": float("nan"), "exact_match": float("nan")}  # diverged at once
        rows.append({"cell": label, "accuracy": test["accuracy"], "exact_match": test["exact_match"], "config": cfg,
                     "balanced_accuracy": test.get("balanced_accuracy"),
                     "train_seconds": metrics["train_seconds"], "epochs": metrics["epochs_run"],
                     "run_folder": f"runs/{run}", "task": cfg["task"]})
        histories[label] = artifacts.read_history(os.path.join(runs, run, "history.csv"))
        if len(metrics.get("by_length", {})) > 1:
            by_length[label] = metrics["by_length"]
    plots.plot_overlaid_histories(histories, os.path.join(folder, "curves.png"), f"{name}: validation curves")
    if by_length:
        plots.plot_overlaid_by_length(by_length, os.path.join(folder, "accuracy_by_length.png"),
                                      f"{name}: exact match by length")
    grid = ", ".join(f"{k} ∈ {{{', '.join(map(str, v))}}}" for k, v in report.grid.items())
    lines = [f"# Report `{name}`{' (quick)' if options.quick else ''}", "",
             f"Task `{report.task}`; grid: {grid}; seed {options.seed}.", "",
             f"Seed report's finding: {report.finding}.", "", verdict(name, rows), "",
             *table_lines(rows)]
    lines += ["", "![validation curves](curves.png)"]
    if by_length:
        lines.append("![exact match by length](accuracy_by_length.png)")
    artifacts.write_text(os.path.join(folder, "report.md"), "\n".join(lines) + "\n")
    return rows


def table_lines(rows):
    """The results table; classification grids also show balanced accuracy (mean recall over classes)."""
    balanced = any(row["balanced_accuracy"] is not None for row in rows)
    second = ("test balanced accuracy", "balanced_accuracy") if balanced else ("test exact match", "exact_match")
    lines = [f"| cell | test accuracy | {second[0]} | epochs | train s | run folder |", "|---|---|---|---|---|---|"]
    for row in rows:
        value = "–" if row[second[1]] is None else f"{row[second[1]]:.4f}"
        lines.append(f"| {row['cell']} | {row['accuracy']:.4f} | {value} | {row['epochs']} | "
                     f"{row['train_seconds']:.1f} | {row['run_folder']} |")
    return lines


def verdict(name, rows):
    """Whether this grid reproduces the seed's finding, and why, for the reports that have a check."""
    check = VERDICTS.get(name)
    if check is None or not rows:
        return "Verdict: not checked automatically; compare the table with the finding."
    reproduces, why = check({tuple(sorted((k, str(row["config"].get(k))) for k in ("cell", "length", "loss"))):
                             row["exact_match"] for row in rows})
    return f"Verdict: the finding {'reproduces' if reproduces else 'does not reproduce'}: {why}."


def _palindrome_verdict(scores):
    """The RNN's exact match falls with length sooner than the LSTM's (each cell with its own defaults)."""
    by_cell = collections.defaultdict(dict)
    for key, score in scores.items():
        fields = dict(key)
        by_cell[fields["cell"]][int(fields["length"])] = score
    if not {"rnn", "lstm"} <= set(by_cell):
        return False, "the grid needs both cells"
    lengths = sorted(set(by_cell["rnn"]) & set(by_cell["lstm"]))
    drop = {cell: by_cell[cell][lengths[0]] - by_cell[cell][lengths[-1]] for cell in ("rnn", "lstm")}
    line = "; ".join(f"{cell}: " + ", ".join(f"{by_cell[cell][n]:.3f} at {n}" for n in lengths) for cell in by_cell)
    reproduces = drop["rnn"] > drop["lstm"] + 0.01
    reason = ("the LSTM, with chrono-initialised forget gates, holds the first digit longer"
              if reproduces else "the RNN does not lose more with length than the LSTM here")
    return reproduces, f"{reason} ({line})"


def _binary_loss_verdict(scores):
    """BCE and CE reach at least MSE's exact match."""
    by_loss = {dict(key)["loss"]: score for key, score in scores.items()}
    if "mse" not in by_loss:
        return False, "the grid needs mse"
    others = {loss: score for loss, score in by_loss.items() if loss != "mse"}
    line = ", ".join(f"{loss} {score:.3f}" for loss, score in sorted(by_loss.items()))
    if all(score >= by_loss["mse"] - 0.001 for score in others.values()):
        return True, f"cross-entropy trains at least as well as MSE ({line})"
    return False, f"MSE reaches a higher exact match than {', '.join(l for l, s in others.items() if s < by_loss['mse'] - 0.001)} ({line})"


VERDICTS = {"palindrome-length": _palindrome_verdict, "binary-loss": _binary_loss_verdict}


def run_report(argv):
    """Run (or resume) the named report and write its folder."""
    options = build_parser().parse_args(argv)
    report = REPORTS[options.name]
    first_cell = {name: values[0] for name, values in report.grid.items()}
    cell_config(report, first_cell, options.quick, options.data_dir, options.seed)  # bad settings fail early
    folder = options.out or os.path.join("reports", options.name + ("-quick" if options.quick else ""))
    os.makedirs(os.path.join(folder, "runs"), exist_ok=True)
    tuner = GridRuns(report, options, folder)
    print(f"tuning.report: {options.name}{' (quick)' if options.quick else ''} → {folder}", flush=True)
    tuner.search()
    rows = write_report(options.name, report, options, folder)
    print(f"{len(rows)} cells; report in {os.path.join(folder, 'report.md')}")


def main(argv=None):
    """CLI entry point: 0 on success, 2 on bad input."""
    return cli.run_main(PROG, run_report, argv)


if __name__ == "__main__":
    sys.exit(main())
