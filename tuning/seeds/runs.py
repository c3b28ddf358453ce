"""The seed reports' runs: each experiment's validated Config, and a KerasTuner Tuner whose trials are a seed's
experiments, each a complete rnnkit run folder (so running a report again resumes: finished runs are kept)."""
import contextlib
import json
import os

import keras_tuner

from rnnkit import training
from rnnkit.core.errors import UsageError
from tuning.hypermodel import OneLinePerTrial

SAMPLES_SHOWN = 3


def experiment_config(experiment, quick, data_dir, seed, out=None):
    """The validated Config of one experiment, or None when it needs data that was not given."""
    if experiment.needs_data and not data_dir:
        return None
    values = {**experiment.settings, **(experiment.quick if quick else {}), "seed": seed, "show_samples": SAMPLES_SHOWN}
    if data_dir and experiment.data is not None:
        values.update(experiment.data, data_dir=data_dir)
    elif experiment.needs_data:
        values["data_dir"] = data_dir
    if not experiment.default:
        values.setdefault("restarts", 1)  # one training run, as the seeds measured
    if out:
        values["out"] = out
    return training.configure(experiment.task, **values)


class ExperimentRuns(OneLinePerTrial, keras_tuner.Tuner):
    """A KerasTuner Tuner whose trials are a seed's experiments, each a complete rnnkit run folder."""

    def __init__(self, report, names, options, folder):
        hps = keras_tuner.HyperParameters()
        hps.Choice("experiment", list(names), ordered=False)
        oracle = keras_tuner.oracles.GridSearchOracle(objective=keras_tuner.Objective("test_score", "max"),
                                                      max_trials=len(names), hyperparameters=hps, seed=options.seed)
        self.report, self.options, self.folder = report, options, folder
        super().__init__(oracle=oracle, directory=folder, project_name="experiments", overwrite=False)

    def run_trial(self, trial, *args, **kwargs):
        """Train the experiment as a normal run (its output in runs/<name>.log) and return its test accuracy."""
        experiment = self.report.experiment(trial.hyperparameters.values["experiment"])
        run_dir = os.path.join(self.folder, "runs", experiment.name)
        metrics = finished_metrics(run_dir)
        if metrics is None:
            cfg = experiment_config(experiment, self.options.quick, self.options.data_dir, self.options.seed, run_dir)
            os.makedirs(run_dir, exist_ok=True)
            with open(f"{run_dir}.log", "w") as log, contextlib.redirect_stdout(log):
                metrics = training.train_and_evaluate(cfg)
        return {"test_score": float((metrics.get("test") or {}).get("accuracy") or 0.0)}


def finished_metrics(run_dir):
    """The metrics of a finished run folder, or None."""
    path = os.path.join(run_dir, "metrics.json")
    if not os.path.isfile(path):
        if os.path.isdir(run_dir) and os.listdir(run_dir):
            raise UsageError(f"{run_dir} holds an unfinished run; move it away to run that experiment again")
        return None
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
