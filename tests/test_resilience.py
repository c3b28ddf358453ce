"""A killed run resumes to the same result; a diverging run keeps its last good model."""
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
from unittest import mock

import keras
import numpy as np
import pytest
import tensorflow as tf

from rnnkit import training
from rnnkit.core.config import make_config
from rnnkit.tasks import TASKS
from rnnkit.train import main
from tests.clitools import call, fresh_dir

FLAGS = ["--task", "adder", "--len", "8", "--units", "16", "--embed-dim", "4", "--epochs", "4",
         "--steps-per-epoch", "100", "--val-samples", "64", "--test-samples", "100", "--eval-samples", "20",
         "--stress-samples", "5", "--show-samples", "0"]


def backed_up_epochs(run_dir):
    """Epochs in the run's backup (0 while there is none)."""
    try:
        with open(os.path.join(run_dir, "backup", "training_metadata.json")) as handle:
            return json.load(handle)["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


def read(run_dir, name):
    with open(os.path.join(run_dir, name)) as handle:
        return handle.read()


@pytest.mark.slow
class ResumeTest(tf.test.TestCase):
    def test_kill_9_mid_run_then_resume_matches_an_uninterrupted_run(self):
        root = fresh_dir(self)
        killed, whole = os.path.join(root, "killed"), os.path.join(root, "whole")
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        # The handshake: the run prints "Epoch 3/4" once epoch 2 has ended, and so once its backup is written.
        process = subprocess.Popen([sys.executable, "-m", "rnnkit.train", *FLAGS, "--out", killed],
                                   env={**env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
        try:
            for line in process.stdout:
                if line.startswith("Epoch 3/4"):
                    break
            process.send_signal(signal.SIGKILL)  # at the start of epoch 3: two epochs are backed up
        finally:
            process.wait(timeout=60)
            process.stdout.close()
        self.assertEqual(process.returncode, -signal.SIGKILL)
        self.assertFalse(os.path.exists(os.path.join(killed, "metrics.json")), "the run was killed too late")
        done = backed_up_epochs(killed)
        self.assertBetween(done, 2, 3)
        # The resume and the uninterrupted run go in this process: only the kill needs one of its own.
        status, _, err = call(main, [*FLAGS, "--out", whole])
        self.assertEqual(status, 0, err)
        status, resumed, err = call(main, ["--resume", killed])
        self.assertEqual(status, 0, err)
        self.assertIn(f"resuming after epoch {done}", resumed)
        self.assertNotIn(f"Epoch {done}/4", resumed)  # at most the epoch in flight is redone
        self.assertIn(f"Epoch {done + 1}/4", resumed)
        self.assertFalse(os.path.exists(os.path.join(killed, "backup")), "a finished run removes its backup")
        a, b = json.loads(read(killed, "metrics.json")), json.loads(read(whole, "metrics.json"))
        self.assertEqual(a["test"], b["test"])
        self.assertEqual(a["by_length"], b["by_length"])
        self.assertEqual(a["epochs_run"], 4)
        self.assertEqual(read(killed, "history.csv"), read(whole, "history.csv"))


class DivergenceTest(tf.test.TestCase):
    def test_divergence_after_good_epochs_keeps_the_last_good_model(self):
        class ExplodeAtEpoch3(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                if epoch == 2:
                    self.model.optimizer.learning_rate.assign(1e30)

        out = os.path.join(fresh_dir(self), "run")
        cfg = make_config(TASKS["binary_add"], dict(length=4, train_len=(4, 4), units=(4,), loss="mse", l2=1.0,
                                                    optimizer="sgd", lr=0.05, epochs=5, steps_per_epoch=5,
                                                    batch_size=8, val_samples=16, test_samples=16, eval_lens=(),
                                                    show_samples=0, out=out))
        original = training.build_callbacks
        err = io.StringIO()
        with mock.patch.object(training, "build_callbacks", lambda *a: [*original(*a), ExplodeAtEpoch3()]), \
                contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            metrics = training.train_and_evaluate(cfg)
        self.assertEqual(metrics["status"], "diverged")
        self.assertEqual(metrics["model_epoch"], 2)
        self.assertEqual(metrics["epochs_run"], 3)
        self.assertIn("after epoch 2", err.getvalue())
        self.assertIn("try a lower --lr or a --clipnorm", err.getvalue())
        model = keras.saving.load_model(os.path.join(out, "model.keras"), safe_mode=True)
        self.assertTrue(all(np.isfinite(w).all() for w in model.get_weights()))
        self.assertTrue(np.isfinite(metrics["test"]["loss"]))
