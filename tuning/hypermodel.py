"""A KerasTuner HyperModel over rnnkit's registry: hyperparameters → Config → the task's own model and data."""
import time

import keras
import keras_tuner

from rnnkit import training
from rnnkit.engine import loops
from rnnkit.tasks import get_task
from tuning import space as spaces


def objective_for(task, cfg, name=None):
    """The validation metric a search maximises: `name` (one of `task.objectives`) or the task's own default."""
    return keras_tuner.Objective(f"val_{name or task.objective}", direction="max")


class RnnkitHyperModel(keras_tuner.HyperModel):
    """`build(hp)` is `task.build_model(config)` compiled as `rnnkit.train` compiles it; `fit` runs rnnkit's loops."""

    def __init__(self, base_cfg, space, objective):
        super().__init__(name=f"rnnkit-{base_cfg.task}")
        self.base_cfg, self.space, self.objective = base_cfg, space, objective.name

    def config(self, hp):
        """The trial's Config: the base config with each hyperparameter's chosen value."""
        values = {name: spaces.from_tuner(values, hp.Choice(name, spaces.tuner_values(values)))
                  for name, values in self.space.items()}
        return spaces.apply(self.base_cfg, values)

    def build(self, hp):
        """The task's model for this trial, compiled."""
        cfg = self.config(hp)
        keras.utils.set_random_seed(cfg.seed)
        return training.compiled_model(cfg)

    def fit(self, hp, model, *args, callbacks=(), epochs=None, **kwargs):
        """Train on the task's pipelines; returns the best validation objective over the epochs."""
        cfg = self.config(hp)
        task = get_task(cfg.task)
        history = loops.train(model, task.build_inputs(cfg, "train"), task.build_inputs(cfg, "val"), cfg.loop,
                              epochs or cfg.epochs, task.epoch_steps(cfg), list(callbacks), verbose=0)
        return {self.objective: max(history.get(self.objective, [float("nan")]))}


class OneLinePerTrial:
    """Tuner mixin: print one line per finished trial (its values and score) instead of KerasTuner's tables."""

    def on_trial_begin(self, trial):
        """Remember when the trial started."""
        self._trial_started = time.perf_counter()
        super().on_trial_begin(trial)

    def on_trial_end(self, trial):
        """Print `trial N  name=value …  → objective score (seconds)`."""
        super().on_trial_end(trial)
        values = "  ".join(f"{k}={v}" for k, v in trial.hyperparameters.values.items())
        score = trial.score
        if score is None and trial.metrics.exists(self.oracle.objective.name):  # a worker: the chief keeps scores
            score = trial.metrics.get_last_value(self.oracle.objective.name)
        score = "no score" if score is None else f"{score:.4f}"
        seconds = time.perf_counter() - getattr(self, "_trial_started", time.perf_counter())
        print(f"trial {trial.trial_id}  {values}  → {self.oracle.objective.name} {score} ({seconds:.1f} s)",
              flush=True)
