"""The library under the CLIs: Config checks itself, configure(), the optimizer and schedule settings, resume with
the custom loops, every tuner, and one smoke run per registered task."""
import contextlib
import csv
import io
import json
import os
from unittest import mock

from absl.testing import parameterized
import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import rnnkit
from rnnkit import training
from rnnkit.core.config import SHARED, Config
from rnnkit.core.errors import UsageError
from rnnkit.models.builders import build_optimizer
from rnnkit.tasks import TASKS
from tests.clitools import call, fresh_dir
from tuning import search

# Per task: the smallest settings that still train, evaluate and write every artifact.
SMOKE = dict(epochs=1, steps_per_epoch=2, batch_size=8, val_samples=8, test_samples=16, eval_samples=8,
             show_samples=1, stress_samples=4, units=(4,), embed_dim=2)
SMOKE_TASK = {"adder": dict(length=3, train_len=(3, 3), eval_lens=()), "binary_add": dict(length=3, restarts=1),
              "recall": dict(min_len=3, max_len=4), "palindrome": dict(length=4), "names": dict(ngrams=()),
              "cifar10": dict(arch="mlp")}


class ConfigChecksItselfTest(tf.test.TestCase):
    def test_bad_fields_are_refused_with_one_line(self):
        cases = [(dict(lr=0.0), "lr must be in (0.0"), (dict(cell="transformer"), "cell must be one of"),
                 (dict(units=()), "units"), (dict(units=(0,)), "units must be in [1"),
                 (dict(epochs=1.5), "epochs must be a whole number"), (dict(dropout=True), "dropout"),
                 (dict(train_len=(9, 3)), "train_len"), (dict(train_len=(1, 5000)), "at most 1000"),
                 (dict(batch_size=0), "batch_size"), (dict(lr=float("nan")), "lr")]
        for fields, message in cases:
            with self.subTest(fields=fields):
                with self.assertRaisesRegex(UsageError, message.replace("(", r"\(").replace("[", r"\[")) as raised:
                    Config(task="adder", **fields)
                self.assertNotIn("\n", str(raised.exception))

    def test_from_dict_rejects_unknown_keys_and_round_trips(self):
        cfg = Config(task="adder", units=(8, 8), eval_lens=(10,))
        self.assertEqual(Config.from_dict(json.loads(cfg.to_json())), cfg)
        with self.assertRaisesRegex(UsageError, "unknown config keys: colour, size"):
            Config.from_dict({**cfg.to_dict(), "colour": "red", "size": 3})
        with self.assertRaisesRegex(UsageError, "'task' key"):
            Config.from_dict({"lr": 0.1})

    def test_configure_gives_the_cli_checks_to_library_callers(self):
        cfg = rnnkit.configure("recall", units=(8,), seed=3)
        self.assertEqual((cfg.task, cfg.units, cfg.seed, cfg.k),
                         ("recall", (8,), 3, TASKS["recall"].option_table()["k"].default))
        with self.assertRaisesRegex(UsageError, "--len does not apply to task recall"):
            rnnkit.configure("recall", length=5)
        with self.assertRaisesRegex(UsageError, "unknown task 'adders'"):
            rnnkit.configure("adders")
        with self.assertRaisesRegex(UsageError, "--train-len|train_len"):
            rnnkit.configure("adder", train_len=(1, 2000))


class SameSeedTest(tf.test.TestCase):
    @pytest.mark.slow
    def test_a_long_lstm_curriculum_trains_to_the_same_numbers_twice(self):
        # Before deterministic kernels, these 100 steps ended at different losses in two runs on the 2-core box.
        cfg = rnnkit.configure("palindrome", cell="lstm", length=100, epochs=1, steps_per_epoch=100, seed=1)
        with contextlib.redirect_stdout(io.StringIO()):
            first = training.fit_model(cfg)
            second = training.fit_model(cfg)
        self.assertEqual(first[1]["loss"], second[1]["loss"])
        for a, b in zip(first[0].get_weights(), second[0].get_weights()):
            self.assertAllEqual(a, b)


class OptimizerSettingsTest(tf.test.TestCase):
    def test_momentum_weight_decay_and_clipnorm_reach_the_optimizer(self):
        cfg = Config(task="adder", optimizer="sgd", lr=0.05, momentum=0.9, weight_decay=0.01, clipnorm=2.5)
        optimizer = build_optimizer(cfg)
        self.assertIsInstance(optimizer, keras.optimizers.SGD)
        self.assertAllClose([optimizer.learning_rate, optimizer.momentum, optimizer.weight_decay, optimizer.clipnorm],
                            [0.05, 0.9, 0.01, 2.5])
        rmsprop = build_optimizer(cfg.replace(optimizer="rmsprop", momentum=0.5))
        self.assertAllClose(rmsprop.momentum, 0.5)

    def test_clipnorm_bounds_the_update(self):
        variable = keras.Variable([0.0, 0.0])
        optimizer = build_optimizer(Config(task="adder", optimizer="sgd", lr=1.0, clipnorm=1.0))
        optimizer.apply([tf.constant([30.0, 40.0])], [variable])
        self.assertAllClose(variable, [-0.6, -0.8])  # the gradient of norm 50 scaled to norm 1

    def test_epsilon_damps_adams_step_once_gradients_are_tiny(self):
        steps = []
        for epsilon in (None, 1e-4):  # Keras' first Adam step: lr * s / (s + epsilon), s = sqrt(1 - beta_2) |g|
            variable = keras.Variable([0.0])
            build_optimizer(Config(task="adder", lr=1.0, epsilon=epsilon)).apply([tf.constant([1e-4])], [variable])
            steps.append(-float(variable[0]))
        s = 0.001 ** 0.5 * 1e-4
        self.assertAllClose(steps, [s / (s + 1e-7), s / (s + 1e-4)], rtol=1e-3)  # 0.97 and 0.03
        sgd = build_optimizer(Config(task="adder", optimizer="sgd", epsilon=1e-4))  # a task default SGD lacks
        self.assertIsInstance(sgd, keras.optimizers.SGD)

    def test_plateau_schedule_halves_the_rate_after_three_flat_epochs_down_to_lr_over_64(self):
        cfg = Config(task="adder", lr=0.08, lr_schedule="plateau")
        callbacks = training.build_callbacks(cfg, fresh_dir(self))
        plateau = [c for c in callbacks if isinstance(c, keras.callbacks.ReduceLROnPlateau)]
        self.assertLen(plateau, 1)
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        model.compile(optimizer=build_optimizer(cfg), loss="mse")
        plateau[0].set_model(model)
        plateau[0].on_train_begin()
        rates = []
        with contextlib.redirect_stdout(io.StringIO()):
            for epoch in range(40):
                plateau[0].on_epoch_end(epoch, {"val_loss": 1.0})
                rates.append(float(model.optimizer.learning_rate))
        self.assertAllClose(rates[:5], [0.08, 0.08, 0.08, 0.04, 0.04])
        self.assertAllClose(rates[-1], 0.08 / 64)
        self.assertEqual(training.build_callbacks(cfg.replace(lr_schedule="none"), fresh_dir(self))[4:], [])


class StopAtEpoch(keras.callbacks.Callback):
    """Stands in for a kill: raises when `epoch` begins (the backup holds the epochs before it)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


class CustomLoopResumeTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters("eager", "function")
    def test_interrupted_custom_loop_resumes_to_the_uninterrupted_result(self, loop):
        base = Config(task="adder", length=4, train_len=(4, 4), cell="gru", units=(8,), embed_dim=3, epochs=4,
                      steps_per_epoch=6, batch_size=16, val_samples=32, test_samples=64, eval_lens=(),
                      show_samples=0, stress_samples=0, carry_mix=0.5, loop=loop, seed=5)
        root = fresh_dir(self)
        interrupted = base.replace(out=os.path.join(root, "killed"))
        whole = base.replace(out=os.path.join(root, "whole"))
        original = training.build_callbacks
        with mock.patch.object(training, "build_callbacks", lambda *a: [*original(*a), StopAtEpoch(2)]), \
                contextlib.redirect_stdout(io.StringIO()), self.assertRaises(KeyboardInterrupt):
            training.train_and_evaluate(interrupted)
        self.assertFalse(os.path.exists(os.path.join(interrupted.out, "metrics.json")))
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            resumed = training.train_and_evaluate(training.resume_config(interrupted.out), resume=True)
        self.assertIn("resuming after epoch 2", printed.getvalue())
        with contextlib.redirect_stdout(io.StringIO()):
            expected = training.train_and_evaluate(whole)
        self.assertEqual(resumed["epochs_run"], 4)
        self.assertEqual(resumed["test"], expected["test"])
        with open(os.path.join(interrupted.out, "history.csv")) as a, open(os.path.join(whole.out, "history.csv")) as b:
            self.assertEqual(list(csv.reader(a)), list(csv.reader(b)))


class TunersTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters("grid", "bayesian", "hyperband")
    def test_each_tuner_finishes_its_trials_and_ranks_them(self, tuner):
        folder = fresh_dir(self)
        argv = ["--task", "moons", "--epochs", "3", "--space", "units=" + ("3,5,8" if tuner == "hyperband" else "3,8"),
                "layers=1", "lr=0.1", "optimizer=sgd", "batch_size=32", "--max-trials", "2", "--tuner", tuner,
                "--no-retrain", "--dir", folder]
        status, out, err = call(search.main, argv)
        self.assertEqual(status, 0, err)
        with open(os.path.join(folder, "results.csv")) as handle:
            rows = list(csv.DictReader(handle))
        self.assertEqual({row["status"] for row in rows}, {"COMPLETED"})
        scores = [float(row["val_accuracy"]) for row in rows]
        self.assertEqual(scores, sorted(scores, reverse=True))
        self.assertTrue(all(0.5 <= score <= 1.0 for score in scores), scores)
        if tuner == "grid":  # every point of the grid exactly once
            self.assertEqual(sorted(row["units"] for row in rows), ["3", "8"])
        elif tuner == "bayesian":
            self.assertLen(rows, 2)
        else:  # hyperband's bracket for --epochs 3 (factor 3): trials of 1 epoch, then the best continued to 3
            self.assertEqual({row["tuner/epochs"] for row in rows}, {"1", "3"})


def own_data(folder, task):
    """A tiny data set of the kind `task` reads: a .ts pair (series) or a folder of <label>.txt files (text)."""
    rng = np.random.default_rng(0)
    if task == "series":
        for split in ("TRAIN", "TEST"):
            lines = ["@problemName Tiny", "@classLabel true a b", "@data"]
            lines += [",".join(f"{v:.3f}" for v in rng.normal(i % 2, 1, 6)) + f":{'ab'[i % 2]}" for i in range(20)]
            with open(os.path.join(folder, f"Tiny_{split}.ts"), "w") as handle:
                handle.write("\n".join(lines) + "\n")
        return os.path.join(folder, "Tiny_TRAIN.ts")
    for label, letters in (("low", "abcdefg"), ("high", "tuvwxyz")):
        with open(os.path.join(folder, f"{label}.txt"), "w") as handle:
            handle.write("\n".join("".join(rng.choice(list(letters), 5)) for _ in range(30)) + "\n")
    return folder


class EveryTaskSmokeTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.named_parameters((name, name) for name in TASKS)
    def test_task_trains_evaluates_and_writes_its_run_folder(self, name):
        task = TASKS[name]
        overrides = {**SMOKE, **SMOKE_TASK.get(name, {})}
        # The shared settings the task reads, and of the task options only the task's own.
        overrides = {key: value for key, value in overrides.items()
                     if (key in SHARED and key not in task.unread) or key in task.option_table()}
        if name == "cifar10":
            overrides["data_dir"] = fresh_dir(self)
        if name in ("series", "text"):  # the users' own data: files this test writes
            overrides["data"] = own_data(fresh_dir(self), name)
        cfg = rnnkit.configure(name, **overrides, out=os.path.join(fresh_dir(self), "run"))
        mocked = tfds.testing.mock_data(num_examples=24) if name == "cifar10" else contextlib.nullcontext()
        with mocked, contextlib.redirect_stdout(io.StringIO()):
            metrics = rnnkit.train_and_evaluate(cfg)
        self.assertEqual(metrics["status"], "completed")
        self.assertBetween(metrics["test"]["accuracy"], 0.0, 1.0)
        files = set(os.listdir(cfg.out))
        self.assertContainsSubset({"config.json", "history.csv", "metrics.json", "curves.png", "tensorboard"}, files)
        self.assertIn("model.keras", files)
        with open(os.path.join(cfg.out, "metrics.json")) as handle:
            self.assertEqual(json.load(handle)["task"], name)
        with open(os.path.join(cfg.out, "codec.json")) as handle:  # what predict needs besides the model
            self.assertEqual(json.load(handle), json.loads(json.dumps(task.codec_info(cfg))))
        model = keras.saving.load_model(os.path.join(cfg.out, "model.keras")) if "model.keras" in files else None
        if model is not None:
            x, _ = task.held_out(cfg, 2)
            self.assertTrue(np.isfinite(model.predict(x, verbose=0)).all())
