"""The library under the CLIs: a validated Config → a trained, evaluated model and its run folder.

`configure(task, **values)` gives the CLI's checks and messages to any caller; `train_and_evaluate(cfg)` is what
`python -m rnnkit.train` runs; `compiled_model(cfg)` is what the tuner builds per trial. No argparse here.
"""
import math
import os
import sys
import tempfile
import time

import keras

from rnnkit.core.config import flag_for, make_config
from rnnkit.core.errors import UsageError
from rnnkit.engine import distribute, loops, resilience, restarts, steps
from rnnkit.engine.device import describe_device, deterministic_ops
from rnnkit.engine.step_log import StepLog
from rnnkit.models.builders import TAKES_EPSILON, build_optimizer
from rnnkit.runs import artifacts, plots, run_folder
from rnnkit.tasks import get_task


def configure(task, **values):
    """A validated Config for `task` from the fields given (the task's defaults fill the rest); UsageError if bad."""
    task = get_task(task)
    cfg = make_config(task, values)
    # A task's default epsilon is for its own optimizer (build_optimizer skips it elsewhere); one asked for is not.
    if values.get("epsilon") is not None and cfg.optimizer not in TAKES_EPSILON:
        raise UsageError(f"--epsilon applies to {', '.join(TAKES_EPSILON[:-1])} and {TAKES_EPSILON[-1]}, "
                         f"not {cfg.optimizer}")
    if cfg.optimizer != "adam" and (values.get("beta_1") is not None or values.get("beta_2") is not None):
        raise UsageError(f"--beta1 / --beta2 apply to --optimizer adam, not {cfg.optimizer}")
    unread = next((name for name in task.unread if values.get(name) is not None), None)
    if unread:
        raise UsageError(f"{flag_for(unread)} does not apply to task {task.name}: it {task.unread[unread]}")
    plateau = ("plateau_factor", "plateau_patience", "plateau_min_lr")
    if cfg.lr_schedule != "plateau" and any(values.get(name) is not None for name in plateau):
        raise UsageError("--plateau-factor / --plateau-patience / --plateau-min-lr apply to --lr-schedule plateau")
    check(cfg)
    return cfg


def check(cfg):
    """The checks that need the task: its own rules, the strategy with the loop, and --unroll's needs."""
    task = get_task(cfg.task)
    task.validate(cfg)
    if cfg.restarts > 1 and not task.restartable:
        raise UsageError(f"--restarts does not apply to task {task.name} (it applies to the generated tasks)")
    distribute.check(cfg.strategy, cfg.loop)
    if cfg.log_every and cfg.strategy != "default":
        raise UsageError("--log-every runs on one device: drop --strategy")
    if cfg.unroll:
        check_unrollable(task, cfg)


def resume_config(run_dir):
    """The Config of an interrupted run folder, ready to continue (UsageError if it cannot be resumed)."""
    resilience.check_resumable(run_dir)
    cfg = run_folder.read_config(run_dir).replace(out=run_dir)
    if cfg.restarts > 1:
        raise UsageError(f"{run_dir} was trained with --restarts {cfg.restarts}, which cannot be resumed; "
                         "start it again (or train it with --restarts 1)")
    return cfg


def check_unrollable(task, cfg):
    """--unroll needs a recurrent model and training batches whose time axis is the same for every batch."""
    if not steps.recurrent_layers(task.build_model(cfg)):
        raise UsageError(f"--unroll applies to recurrent models; this {task.name} model has no recurrent layer")
    if task.build_inputs(cfg, "train").element_spec[0].shape[1] is None:  # recurrent inputs have a time axis
        raise UsageError(f"--unroll needs training batches of one length, but {task.name} trains on several lengths "
                         "here" + (" (give --train-len N)" if "train_len" in task.option_table() else ""))


def build_callbacks(cfg, run_dir, resume=False, logs="tensorboard"):
    """Callbacks every loop uses: epoch backups, CSV history, TensorBoard, NaN guard, then schedule_callbacks."""
    # The CSV row is written before the backup: a kill between the two leaves one row too many, which a resume
    # trims (resilience.trim_history); the other order would lose a row for good.
    callbacks = [
        keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=resume),
        resilience.backup_callback(run_dir),
        keras.callbacks.TensorBoard(log_dir=os.path.join(run_dir, logs), write_graph=False),
        keras.callbacks.TerminateOnNaN(),
    ]
    if cfg.log_every:
        callbacks.append(StepLog(get_task(cfg.task), cfg, run_dir, cfg.log_every, resume))
    return callbacks + schedule_callbacks(cfg)


def schedule_callbacks(cfg, verbose=1):
    """The callbacks that shape training rather than record it: --lr-schedule plateau and --patience."""
    callbacks = [plateau_callback(cfg, verbose)] if cfg.lr_schedule == "plateau" else []
    if cfg.patience:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.patience,
                                                       restore_best_weights=True, verbose=verbose))
    return callbacks


def plateau_callback(cfg, verbose=1):
    """--lr-schedule plateau: multiply the rate by --plateau-factor after --plateau-patience epochs without a
    better val_loss, never below --plateau-min-lr (default lr / 64)."""
    floor = cfg.plateau_min_lr if cfg.plateau_min_lr is not None else cfg.lr / 64
    return keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=cfg.plateau_factor,
                                             patience=cfg.plateau_patience, min_lr=floor, verbose=verbose)


def compiled_model(cfg):
    """The task's model for `cfg`, compiled with the config's optimizer, the task's loss and metrics."""
    task = get_task(cfg.task)
    model = task.build_model(cfg)
    total_steps = cfg.epochs * task.epoch_steps(cfg) if cfg.lr_schedule == "cosine" else None
    model.compile(optimizer=build_optimizer(cfg, total_steps), loss=task.loss(cfg), metrics=task.metrics(cfg))
    model.unroll_training = cfg.unroll  # read by steps.train_step
    model.coupled_weight_decay = cfg.coupled_weight_decay  # so is this
    return model


def fit_model(cfg, callbacks=(), done_epochs=0):
    """Seed everything, build and compile the task's model, and train it with `cfg.loop` on deterministic kernels.

    `done_epochs` (from a backup being resumed) skips the training batches those epochs used, so a resumed
    run sees exactly the stream an uninterrupted one would.
    """
    with deterministic_ops():
        return _fit(cfg, callbacks, done_epochs)


def _fit(cfg, callbacks, done_epochs):
    """The body of `fit_model`."""
    task = get_task(cfg.task)
    keras.utils.set_random_seed(cfg.seed)
    strategy = distribute.make_strategy(cfg.strategy)
    with strategy.scope():
        model = compiled_model(cfg)
        model.optimizer.build(model.trainable_variables)  # slot variables before a replica step would make them
    train_ds, val_ds = task.build_inputs(cfg, "train"), task.build_inputs(cfg, "val")
    if done_epochs:
        train_ds = train_ds.skip(done_epochs * task.epoch_steps(cfg))
    if cfg.strategy != "default":
        return _fit_distributed(cfg, task, strategy, model, train_ds, val_ds, callbacks)
    history = task.fit_outside_keras(model, cfg, train_ds, val_ds, list(callbacks))
    if history is not None:
        return model, history
    history = loops.train(model, train_ds, val_ds, cfg.loop, cfg.epochs, task.epoch_steps(cfg), list(callbacks))
    return model, history


def _fit_distributed(cfg, task, strategy, model, train_ds, val_ds, callbacks):
    """Train under `strategy`, then copy the weights into a plain single-device model (what is saved)."""
    replicas = strategy.num_replicas_in_sync
    if cfg.batch_size % replicas:
        raise UsageError(f"--batch-size {cfg.batch_size} (the global batch) must divide evenly over {replicas} "
                         "replicas")
    if cfg.strategy == "multiworker":  # Keras' backups assume model.fit's distributed paths
        callbacks = [c for c in callbacks if not isinstance(c, keras.callbacks.BackupAndRestore)]
    print(f"rnnkit: {cfg.strategy} strategy, {replicas} replicas, {cfg.batch_size // replicas} examples each per "
          "step", flush=True)
    val_ds = None if val_ds is None else distribute.shard(val_ds)
    history = loops.train(model, distribute.shard(train_ds), val_ds, cfg.loop, cfg.epochs,
                          task.epoch_steps(cfg), list(callbacks), strategy=strategy)
    plain = compiled_model(cfg)
    plain.set_weights(model.get_weights())
    return plain, history


def train_and_evaluate(cfg, resume=False):
    """Train and evaluate `cfg` (or resume its interrupted run folder `cfg.out`); returns the metrics dict."""
    task = get_task(cfg.task)
    if not resume:
        check(cfg)
    task.load_data(cfg)
    if not distribute.is_chief():
        return _run_worker(cfg)
    if resume:
        run_dir, done = cfg.out, resilience.resumed_epochs(cfg.out)
        resilience.trim_history(os.path.join(run_dir, "history.csv"), done)
    else:
        run_dir, done = artifacts.prepare_run_dir(cfg.out or artifacts.default_run_dir(cfg.task)), 0
        cfg = cfg.replace(out=run_dir)
        artifacts.write_text(os.path.join(run_dir, "config.json"), cfg.to_json())
    device = describe_device()
    print(f"rnnkit: task {cfg.task} on {device}; run folder {run_dir}"
          + (f"; resuming after epoch {done}" if resume else ""), flush=True)

    start = time.perf_counter()
    kept, attempts = train_attempts(cfg, run_dir, resume, done)
    train_seconds = time.perf_counter() - start
    model, history, diverged, callbacks = kept.model, kept.history, kept.diverged, kept.callbacks
    if model is None:
        return _no_good_model(cfg, run_dir, history, train_seconds, device)
    model_path = os.path.join(run_dir, "model.keras")
    artifacts.save_model(model, model_path)
    # What predict needs besides the model (labels, a series' length), so it runs where the data is gone.
    artifacts.write_json(os.path.join(run_dir, run_folder.CODEC_FILE), task.codec_info(cfg))

    results = task.evaluate(model, cfg)
    samples = task.sample_lines(model, cfg)
    metrics = {"task": cfg.task, **results, "train_seconds": round(train_seconds, 3),
               "epochs_run": len(history.get("loss", [])), "device": device,
               "status": "diverged" if diverged else "completed"}
    if cfg.restarts > 1:
        metrics["restarts"] = restarts.summary(kept, attempts)
    if diverged:
        metrics["model_epoch"] = kept.keeper.epoch + done  # the saved model is the last epoch with finite numbers
    elif cfg.patience:
        metrics["model_epoch"] = best_epoch(callbacks)
    artifacts.write_json(os.path.join(run_dir, "metrics.json"), metrics)
    plots.plot_history(history, os.path.join(run_dir, "curves.png"), f"{cfg.task}: training curves")
    task.write_plots(model, cfg, results, run_dir)

    chosen = (f" ({len(attempts)} attempts; kept attempt {attempts.index(kept) + 1}, seed {kept.seed})"
              if cfg.restarts > 1 else "")
    print(f"\ntrained in {train_seconds:.1f} s{chosen}\n" + task.results_table(results))
    if samples:
        print("\nverification samples:\n" + "\n".join(f"  {line}" for line in samples))
    print(f"\nartifacts in {run_dir}")
    if diverged:
        print(f"rnnkit.train: the loss became NaN or infinite; {model_path} holds the model after epoch "
              f"{metrics['model_epoch']}, the last with finite numbers; try a lower --lr or a --clipnorm",
              file=sys.stderr)
    return metrics


def train_attempts(cfg, run_dir, resume=False, done=0):
    """Train once, or up to --restarts times keeping the best on validation; (kept Attempt, all Attempts).

    history.csv ends up holding the kept attempt's epochs; with restarts each attempt logs TensorBoard events
    to tensorboard/attempt-<i>.
    """
    history_path = os.path.join(run_dir, "history.csv")

    def train_once(attempt_cfg, index):
        keeper = resilience.KeepLastGood()
        logs = "tensorboard" if cfg.restarts == 1 else os.path.join("tensorboard", f"attempt-{index + 1}")
        callbacks = [*build_callbacks(attempt_cfg, run_dir, resume, logs), keeper]
        model, history = fit_model(attempt_cfg, callbacks, done)
        history = artifacts.read_history(history_path) or history
        diverged = any(not math.isfinite(v) for v in history.get("loss", []) + history.get("val_loss", []))
        if diverged and not keeper.restore(model):
            model = None
        return restarts.Attempt(attempt_cfg.seed, model, history, diverged, callbacks, keeper)

    if cfg.restarts == 1:
        attempt = train_once(cfg, 0)
        return attempt, [attempt]
    kept, attempts = restarts.best_of(cfg, get_task(cfg.task), train_once)
    if kept is not attempts[-1]:
        artifacts.write_history(history_path, kept.history)
    return kept, attempts


def best_epoch(callbacks):
    """The 1-based epoch whose weights early stopping kept (None before any validation)."""
    stopper = next(c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping))
    return None if stopper.best_weights is None else stopper.best_epoch + 1


def _run_worker(cfg):
    """A non-chief worker trains in lock-step with the chief; its logs go to a temporary folder, then away."""
    index = distribute.tf_config()["task"].get("index", 0)
    print(f"rnnkit: worker {index} of a {cfg.strategy} cluster; the chief writes the run folder", flush=True)
    with tempfile.TemporaryDirectory(prefix="rnnkit-worker-") as scratch:
        _, history = fit_model(cfg.replace(out=scratch), build_callbacks(cfg, scratch))
    return {"task": cfg.task, "status": "worker", "epochs_run": len(history.get("loss", []))}


def _no_good_model(cfg, run_dir, history, train_seconds, device):
    """metrics.json for a run that diverged before any epoch ended with finite numbers: no model is saved."""
    metrics = {"task": cfg.task, "status": "diverged", "test": None, "model_epoch": 0,
               "epochs_run": len(history.get("loss", [])), "train_seconds": round(train_seconds, 3),
               "device": device}
    artifacts.write_json(os.path.join(run_dir, "metrics.json"), metrics)
    print("rnnkit.train: the loss became NaN or infinite before any epoch of this run ended with finite numbers, "
          "so no model was saved; try a lower --lr or a --clipnorm", file=sys.stderr)
    return metrics
