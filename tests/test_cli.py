"""Bad input gets one clear line on stderr and exit status 2; a run folder holds every artifact."""
import contextlib
import csv
import io
import json
import os
import subprocess
import sys
from unittest import mock

import keras
import numpy as np
import pytest
import tensorflow as tf

from rnnkit.core import cli
from rnnkit.core.errors import UsageError
from rnnkit.tasks import TASKS
from rnnkit.train import main
from tests.clitools import call, flags_read_by, fresh_dir

TINY = ["--units", "4", "--embed-dim", "2", "--epochs", "2", "--steps-per-epoch", "3", "--batch-size", "8",
        "--val-samples", "16", "--test-samples", "32", "--eval-samples", "16", "--show-samples", "2"]


def run_cli(argv):
    """(exit status, stdout, stderr) of `python -m rnnkit.train argv`, in process."""
    return call(main, argv)


class HelpTest(tf.test.TestCase):
    def test_every_tasks_help_lists_its_own_flags_with_their_defaults(self):
        for name, task in TASKS.items():
            with self.subTest(task=name):
                status, out, err = call(main, ["--task", name, "--help"])
                self.assertEqual(status, 0, err)
                for option in task.option_table().values():
                    self.assertIn(option.cli_flag, out)
                self.assertIn("(default:", out)


class NegativeInputsTest(tf.test.TestCase):
    def test_an_input_that_begins_like_a_negative_number_is_an_input(self):
        def parser(negative_inputs):
            made = cli.Parser(prog="p", negative_inputs=negative_inputs)
            made.add_argument("inputs", nargs="+")
            made.add_argument("--every", type=int)
            return made

        args = parser(True).parse_args(["-0.5,0.3", "-.5", "1,-2", "-", "--every", "-3"])
        self.assertEqual((args.inputs, args.every), (["-0.5,0.3", "-.5", "1,-2", "-"], -3))
        err = io.StringIO()
        for negative_inputs, argv in ((True, ["x", "-v"]), (False, ["-0.5,0.3"])):  # a flag stays a flag
            with self.subTest(argv=argv), contextlib.redirect_stderr(err), self.assertRaises(SystemExit):
                parser(negative_inputs).parse_args(argv)

    def test_a_dash_reads_the_non_empty_lines_of_standard_input_and_an_empty_pipe_is_refused(self):
        self.assertEqual(cli.read_inputs(["a", "-", "b"], io.StringIO("x\n\n  y \n")), ["a", "x", "y", "b"])
        for stdin in ("", "\n  \n"):
            with self.subTest(stdin=stdin), self.assertRaisesRegex(UsageError, "held no input"):
                cli.read_inputs(["a", "-"], io.StringIO(stdin))


class BadInputTest(tf.test.TestCase):
    def setUp(self):
        self.folder = fresh_dir(self)
        self.existing = os.path.join(self.folder, "existing")
        os.makedirs(self.existing)
        with open(os.path.join(self.existing, "metrics.json"), "w") as handle:
            handle.write("precious")
        self.finished = os.path.join(self.folder, "finished")
        os.makedirs(self.finished)
        for name in ("config.json", "metrics.json"):
            with open(os.path.join(self.finished, name), "w") as handle:
                handle.write("{}")
        self.a_file = os.path.join(self.folder, "a-file")
        with open(self.a_file, "w") as handle:
            handle.write("x")

    def test_each_bad_input_is_one_line_and_exit_2(self):
        cases = [
            (["--task", "subtractor"], "invalid choice"),
            (["--task", "adder", "--frobnicate"], "unrecognized arguments"),
            (["--task", "adder", "--len", "0"], "--len"),
            (["--task", "adder", "--len", "-3"], "--len"),
            (["--task", "adder", "--len", "abc"], "--len"),
            (["--task", "adder", "--len", "1e9"], "--len"),
            (["--task", "adder", "--units", "0"], "--units"),
            (["--task", "adder", "--units", "64,,"], "--units"),
            (["--task", "adder", "--units", ""], "--units"),
            (["--task", "adder", "--lr", "0"], "--lr"),
            (["--task", "adder", "--lr", "nan"], "--lr"),
            (["--task", "adder", "--dropout", "1.5"], "--dropout"),
            (["--task", "adder", "--cell", "transformer"], "--cell"),
            (["--task", "adder", "--loop", "threads"], "--loop"),
            (["--task", "adder", "--eval-lens", "10,x"], "--eval-lens"),
            (["--task", "adder", "--loss", "mse"], "--loss does not apply"),
            (["--task", "adder", "--k", "2"], "--k does not apply"),
            (["--task", "binary_add", "--train-len", "20-1"], "--train-len"),
            (["--task", "binary_add", "--train-len", "0-5"], "--train-len"),
            (["--task", "binary_add", "--train-len", "1-5000"], "--train-len may span at most 1000"),
            (["--task", "recall", "--k", "5", "--min-len", "3"], "--k must be between"),
            (["--task", "recall", "--min-len", "9", "--max-len", "4"], "--min-len"),
            (["--task", "palindrome", "--len", "1"], "--len must be at least 2"),
            (["--task", "binary_add", "--unroll"], "--unroll needs training batches of one length"),
            (["--task", "moons", "--unroll"], "--unroll applies to recurrent models"),
            (["--task", "adder", "--ngrams", "1,2"], "--ngrams does not apply to task adder"),
            (["--task", "names", "--ngrams", "2,6"], "--ngrams"),
            (["--task", "moons", "--test-samples", "10"], "--test-samples does not apply to task moons"),
            (["--task", "mnist", "--val-samples", "10"], "mnist: it validates and tests on its data's own splits"),
            (["--task", "binary_add", "--embed-dim", "4"], "--embed-dim does not apply to task binary_add"),
            (["--task", "circles", "--cell", "lstm"], "--cell does not apply to task circles: it has no recurrent"),
            (["--task", "adder", "--patience", "-1"], "--patience"),
            (["--task", "adder", "--epsilon", "0"], "--epsilon"),
            (["--task", "adder", "--optimizer", "sgd", "--epsilon", "1e-3"], "--epsilon applies to adam"),
            (["--task", "adder", "--update-gate-bias", "-10"], "--update-gate-bias applies to --cell gru"),
            (["--task", "adder", "--cell", "gru", "--update-gate-bias", "-40"], "--update-gate-bias"),
            (["--task", "recall", "--cell", "gru", "--update-gate-bias", "-10"], "--update-gate-bias does not apply"),
            (["--task"], "--task"),
            ([], "--task"),
            (["--task", "adder", "--out", self.existing], "already exists"),
            (["--task", "adder", "--out", os.path.join(self.a_file, "run")], "cannot create"),
            (["--task", "adder", "--out", self.a_file], "not a folder"),
            (["--task", "addér"], "invalid choice"),
            (["--task", "adder", "--len", "9" * 40], "--len"),
            (["--task", "adder", "--units", "٦٤"], "--units"),
            (["--task", "adder", "--out", os.path.join(self.folder, "x" * 300)], "cannot create"),
            (["--resume", self.existing, "--task", "adder"], "takes no other flags"),
            (["--resume", self.existing, "--epochs", "3"], "takes no other flags"),
            (["--resume", os.path.join(self.folder, "missing")], "not a run folder"),
            (["--resume", self.finished], "already finished"),
        ]
        for argv, expected in cases:
            status, stdout, stderr = run_cli(argv)
            with self.subTest(argv=argv):
                self.assertEqual(status, 2)
                lines = stderr.strip().splitlines()
                self.assertLen(lines, 1, stderr)
                self.assertIn(expected, lines[0])
                self.assertNotIn("Traceback", stderr + stdout)
        with open(os.path.join(self.existing, "metrics.json")) as handle:
            self.assertEqual(handle.read(), "precious")
        self.assertEqual(os.listdir(self.existing), ["metrics.json"])

    def test_real_process_prints_no_traceback(self):
        result = subprocess.run([sys.executable, "-m", "rnnkit.train", "--task", "adder", "--len", "abc"],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stderr.strip(),
                         "python -m rnnkit.train: error: argument --len: expected a whole number, got 'abc'")


class RunFolderTest(tf.test.TestCase):
    def run_task(self, name, *extra):
        out = os.path.join(fresh_dir(self), "run")
        status, stdout, stderr = run_cli(["--task", name, *flags_read_by(TASKS[name], TINY), "--out", out, *extra])
        self.assertEqual(status, 0, stderr)
        return out, stdout

    def test_run_folder_has_every_artifact_and_metrics_keys(self):
        out, stdout = self.run_task("adder", "--len", "5", "--eval-lens", "7")
        for name in ("config.json", "model.keras", "history.csv", "metrics.json", "curves.png",
                     "accuracy_by_length.png"):
            self.assertTrue(os.path.isfile(os.path.join(out, name)), name)
        self.assertTrue(os.listdir(os.path.join(out, "tensorboard")))
        self.assertEqual([f for f in os.listdir(out) if f.startswith(".")], [], "no temporary files left")
        with open(os.path.join(out, "metrics.json")) as handle:
            metrics = json.load(handle)
        self.assertEqual(metrics["task"], "adder")
        self.assertContainsSubset({"loss", "accuracy", "exact_match"}, metrics["test"].keys())
        self.assertContainsSubset({"5", "7"}, metrics["by_length"].keys())
        self.assertContainsSubset({"exact_match", "accuracy"}, metrics["by_length"]["7"].keys())
        self.assertIn("train_seconds", metrics)
        self.assertIn("device", metrics)
        with open(os.path.join(out, "history.csv")) as handle:
            self.assertLen(handle.read().strip().splitlines(), 3)  # header + 2 epochs
        with open(os.path.join(out, "config.json")) as handle:
            self.assertEqual(json.load(handle)["length"], 5)
        self.assertIn(" + ", stdout)  # verification samples such as `123 + 45 = 168 ✓`
        self.assertRegex(stdout, "[✓✗]")

    def test_same_seed_reproduces_metrics(self):
        first, _ = self.run_task("recall", "--seed", "3")
        second, _ = self.run_task("recall", "--seed", "3")
        read = lambda folder: json.load(open(os.path.join(folder, "metrics.json")))  # noqa: E731
        a, b = read(first), read(second)
        self.assertEqual(a["test"], b["test"])
        self.assertEqual(a["by_length"], b["by_length"])

    def test_reloaded_run_model_matches_reported_metrics(self):
        out, _ = self.run_task("palindrome", "--len", "5")
        model = keras.saving.load_model(os.path.join(out, "model.keras"), safe_mode=True)
        metrics = json.load(open(os.path.join(out, "metrics.json")))
        task = TASKS["palindrome"]
        from rnnkit.core.config import Config
        from rnnkit.engine.evaluate import evaluate

        cfg = Config.from_dict(json.load(open(os.path.join(out, "config.json"))))
        self.assertAllClose(evaluate(model, task.build_inputs(cfg, "test", length=5))["accuracy"],
                            metrics["test"]["accuracy"])
        self.assertTrue(np.isfinite(metrics["test"]["loss"]))

    def test_diverging_run_stops_and_says_so(self):
        from rnnkit import training
        from rnnkit.core.config import make_config
        from rnnkit.training import train_and_evaluate as run

        class HugeLearningRate(keras.callbacks.Callback):
            """lr 1e30 is beyond what Config accepts; set on the built optimizer it overflows the loss at once."""

            def on_train_begin(self, logs=None):
                self.model.optimizer.learning_rate.assign(1e30)

        out = os.path.join(self.get_temp_dir(), "diverging-run")
        cfg = make_config(TASKS["binary_add"], dict(length=4, train_len=(4, 4), units=(4,), loss="mse", l2=1.0,
                                                    optimizer="sgd", lr=0.05, epochs=3, steps_per_epoch=5,
                                                    batch_size=8, val_samples=16, test_samples=16, eval_lens=(),
                                                    show_samples=0, restarts=1, out=out))
        original = training.build_callbacks
        err = io.StringIO()
        with mock.patch.object(training, "build_callbacks", lambda *a: [HugeLearningRate(), *original(*a)]), \
                contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            metrics = run(cfg)
        self.assertEqual(metrics["status"], "diverged")
        self.assertEqual(metrics["epochs_run"], 1, "TerminateOnNaN stops in the first epoch")
        self.assertIn("try a lower --lr or a --clipnorm", err.getvalue())

        def no_nan(token):
            raise ValueError(f"metrics.json holds {token}")

        with open(os.path.join(out, "metrics.json")) as handle:
            saved = json.load(handle, parse_constant=no_nan)
        self.assertEqual(saved["status"], "diverged")
        self.assertEqual(saved["model_epoch"], 0)
        self.assertIsNone(saved["test"])  # no epoch ended with finite numbers: nothing to evaluate
        self.assertFalse(os.path.exists(os.path.join(out, "model.keras")), "a NaN model is never saved")
        self.assertIn("no model was saved", err.getvalue())

    def test_patience_stops_and_keeps_the_best_epochs_weights(self):
        out, stdout = self.run_task("recall", "--units", "8", "--epochs", "8", "--steps-per-epoch", "5",
                                    "--batch-size", "16", "--lr", "0.2", "--patience", "2")
        with open(os.path.join(out, "history.csv")) as handle:
            val_loss = [float(row["val_loss"]) for row in csv.DictReader(handle)]
        best = int(np.argmin(val_loss))
        self.assertLess(best, len(val_loss) - 1, "this run's validation loss got worse after its best epoch")
        self.assertLess(len(val_loss), 8, "stopped before the last epoch")
        self.assertEqual(len(val_loss), best + 1 + 2, "2 epochs of patience after the best one")
        metrics = json.load(open(os.path.join(out, "metrics.json")))
        self.assertEqual(metrics["model_epoch"], best + 1)
        from rnnkit.core.config import Config

        cfg = Config.from_dict(json.load(open(os.path.join(out, "config.json"))))
        model = keras.saving.load_model(os.path.join(out, "model.keras"), safe_mode=True)
        saved_val_loss = model.evaluate(TASKS["recall"].build_inputs(cfg, "val"), verbose=0, return_dict=True)["loss"]
        self.assertAllClose(saved_val_loss, val_loss[best], rtol=1e-4)

    @pytest.mark.slow
    def test_every_task_and_loop_runs_end_to_end(self):
        for name, loop in (("binary_add", "eager"), ("recall", "function"), ("palindrome", "fit")):
            # binary_add also takes its --restarts path (2 of its default 5 attempts: the tiny model is never exact)
            out, _ = self.run_task(name, "--loop", loop, *(["--restarts", "2"] if name == "binary_add" else []))
            self.assertTrue(os.path.isfile(os.path.join(out, "model.keras")))
