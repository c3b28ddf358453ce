"""Surviving interruptions and divergence: epoch backups for --resume, and the last model with finite losses."""
import json
import math
import os

import keras

from rnnkit.core.errors import UsageError
from rnnkit.runs import artifacts

BACKUP_DIR = "backup"
# BackupAndRestore writes the finished epoch count here (Keras 3's file name); read before fit starts, so the
# training stream can skip the batches the interrupted run already used.
BACKUP_METADATA = "training_metadata.json"


def backup_callback(run_dir):
    """Keras BackupAndRestore in the run folder: weights, optimizer and epoch after every epoch.

    double_checkpoint keeps the previous backup too, so a kill during a save falls back to the one before.
    """
    return keras.callbacks.BackupAndRestore(os.path.join(run_dir, BACKUP_DIR), save_freq="epoch",
                                            double_checkpoint=True, delete_checkpoint=True)


def resumed_epochs(run_dir):
    """How many epochs the backup in `run_dir` holds (0 when there is none)."""
    for name in (BACKUP_METADATA, f"{BACKUP_METADATA}.bkp"):
        path = os.path.join(run_dir, BACKUP_DIR, name)
        try:
            with open(path, encoding="utf-8") as handle:
                return int(json.load(handle)["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return 0


def check_resumable(run_dir):
    """Refuse to resume a folder that is not an unfinished run."""
    if not os.path.isfile(os.path.join(run_dir, "config.json")):
        raise UsageError(f"--resume {run_dir!r}: not a run folder (no config.json)")
    if os.path.isfile(os.path.join(run_dir, "metrics.json")):
        raise UsageError(f"--resume {run_dir!r}: that run already finished (metrics.json exists)")


def trim_history(path, epochs):
    """Keep only the first `epochs` rows of history.csv (rows of epochs the backup does not hold are redone)."""
    if not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines(keepends=True)
    if len(lines) > epochs + 1:
        artifacts.write_text(path, "".join(lines[: epochs + 1]))


class KeepLastGood(keras.callbacks.Callback):
    """Remembers the weights after the last epoch whose logged losses and metrics were all finite."""

    def __init__(self):
        super().__init__()
        self.weights, self.epoch = None, 0

    def on_epoch_end(self, epoch, logs=None):
        """Copy the weights if every number in `logs` is finite."""
        if logs and all(math.isfinite(float(v)) for v in logs.values()):
            self.weights, self.epoch = [w.copy() for w in self.model.get_weights()], epoch + 1

    def restore(self, model):
        """Put the last good weights back into `model`; False when no epoch ended finite."""
        if self.weights is None:
            return False
        model.set_weights(self.weights)
        return True
