"""Open a finished run folder: its config, its task and its model, loaded safely (no pickle, safe_mode)."""
import json
import os

import keras

from rnnkit.core.config import Config
from rnnkit.core.errors import UsageError
from rnnkit.models import builders, class_metrics, layers, metrics
from rnnkit.tasks import get_task

CODEC_FILE = "codec.json"  # what inference needs besides the model: the task's codec_info at training time
# Every rnnkit class a saved model may name, given to the loader by the name it was saved under.
CUSTOM_OBJECTS = {keras.saving.get_registered_name(cls): cls
                  for cls in (builders.RnnkitModel, layers.HashedNgramBag, layers.ChronoBias, layers.UpdateGateBias,
                              layers.TokenValues, metrics.ExactMatch, class_metrics.BalancedAccuracy)}


def read_config(run_dir):
    """The run's validated Config."""
    if not os.path.isdir(run_dir):
        raise UsageError(f"{run_dir!r} is not a run folder")
    path = os.path.join(run_dir, "config.json")
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise UsageError(f"{run_dir!r} is not a run folder (no config.json)") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UsageError(f"{path} is not valid JSON") from None
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    try:
        cfg = Config.from_dict(data)
    except TypeError as error:
        raise UsageError(f"{path}: {error}") from None
    get_task(cfg.task)
    return cfg


def load_model(run_dir):
    """The run's `model.keras`, loaded with safe_mode=True (no pickle, rnnkit's classes given by name)."""
    path = os.path.join(run_dir, "model.keras")
    if not os.path.isfile(path):
        raise UsageError(f"{run_dir!r} holds no model.keras: the run did not finish")
    try:
        return keras.saving.load_model(path, custom_objects=CUSTOM_OBJECTS, safe_mode=True)
    except Exception as error:  # a truncated or foreign file: Keras raises many kinds
        first = str(error).strip().splitlines()[0][:200] if str(error).strip() else error.__class__.__name__
        raise UsageError(f"cannot load {path}: {first}") from None


def codec_info(run_dir, cfg, task):
    """What inference needs besides the model, as the run recorded it (a run folder from before the record: the
    task's codec_info, which may read the training data again)."""
    path = os.path.join(run_dir, CODEC_FILE)
    if not os.path.isfile(path):
        return task.codec_info(cfg)
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UsageError(f"{path} is not valid JSON") from None


def open_run(run_dir, task_name=None):
    """(cfg, task, model) of a run folder; with `task_name`, refuse a run of another task."""
    cfg = read_config(run_dir)
    if task_name and cfg.task != task_name:
        raise UsageError(f"{run_dir!r} is a run of task {cfg.task}, not {task_name}")
    return cfg, get_task(cfg.task), load_model(run_dir)
