"""KerasTuner search (resumable, tables, best run folder); the seed reports are in test_reports.py."""
import contextlib
import csv
import io
import os

import keras_tuner
import pytest
import tensorflow as tf

from rnnkit.core.config import make_config
from rnnkit.tasks import TASKS
from rnnkit.tasks.series import RAW_CLIPNORM
from tests.clitools import call, fresh_dir
from tuning import report, search
from tuning.hypermodel import RnnkitHyperModel
from tuning.space import apply, parse_space

TINY_SEARCH = ["--task", "recall", "--epochs", "2", "--steps-per-epoch", "5", "--val-samples", "32",
               "--test-samples", "64", "--eval-samples", "16", "--show-samples", "0", "--embed-dim", "2",
               "--space", "units=4,6", "layers=1", "cell=gru", "bidirectional=false", "dropout=0", "batch_size=16",
               "lr=0.01", "optimizer=adam",
               "--max-trials", "2", "--tuner", "random"]


class SearchTest(tf.test.TestCase):
    @pytest.mark.slow
    def test_two_trials_write_tables_and_a_run_folder_then_resume_without_new_trials(self):
        folder = fresh_dir(self)
        status, out, err = call(search.main, [*TINY_SEARCH, "--dir", folder])
        self.assertEqual(status, 0, err)
        self.assertEqual(out.count("\ntrial "), 2, out)
        with open(os.path.join(folder, "results.csv")) as handle:
            rows = list(csv.DictReader(handle))
        self.assertLen(rows, 2)
        self.assertEqual({row["status"] for row in rows}, {"COMPLETED"})
        self.assertEqual({row["units"] for row in rows}, {"4", "6"})  # random over two values, two trials
        scores = [float(row["val_accuracy"]) for row in rows]
        self.assertEqual(scores, sorted(scores, reverse=True))  # best first
        best = [name for name in os.listdir(folder) if name.startswith("best-trial-")]
        self.assertLen(best, 1)
        self.assertTrue(os.path.isfile(os.path.join(folder, best[0], "model.keras")))
        trial_dirs = sorted(os.listdir(os.path.join(folder, "tuner")))
        status, out, err = call(search.main, [*TINY_SEARCH, "--dir", folder])
        self.assertEqual(status, 0, err)
        self.assertIn("2 finished trials found", out)
        self.assertNotIn("\ntrial ", out)  # no trial ran again
        self.assertEqual(sorted(os.listdir(os.path.join(folder, "tuner"))), trial_dirs)
        with open(os.path.join(folder, "results.md")) as handle:
            self.assertLen([line for line in handle if line.startswith("| ") and "COMPLETED" in line], 2)

    def test_out_names_the_best_trials_run_folder(self):
        folder = fresh_dir(self)
        best = os.path.join(fresh_dir(self), "best")
        status, out, err = call(search.main, ["--task", "moons", "--epochs", "1", "--space", "units=3,8", "layers=1",
                                              "lr=0.1", "optimizer=sgd", "batch_size=32", "--max-trials", "2",
                                              "--dir", folder, "--out", best])
        self.assertEqual(status, 0, err)
        self.assertTrue(os.path.isfile(os.path.join(best, "model.keras")))
        self.assertIn(f"artifacts in {best}", out)
        self.assertEmpty([name for name in os.listdir(folder) if name.startswith("best-trial-")])

    def test_a_flag_fixes_its_hyperparameter_and_the_search_varies_the_rest(self):
        with contextlib.redirect_stdout(io.StringIO()) as out:
            cfg, space, _ = search.parse(["--task", "moons", "--lr", "0.05", "--units", "8"])
        self.assertEqual((cfg.lr, cfg.units), (0.05, (8,)))
        self.assertNotIn("lr", space)
        self.assertNotIn("units", space)
        self.assertNotIn("layers", space)  # --units 8 is one layer of 8
        self.assertEqual(space["optimizer"], TASKS["moons"].search_space["optimizer"])
        self.assertIn("fixed by your flags, not searched: units, layers, lr", out.getvalue())
        _, space, _ = search.parse(["--task", "moons", "--units", "8", "--space", "optimizer=adam"])
        self.assertEqual(space["optimizer"], ["adam"])

    def test_the_search_says_which_flags_only_the_retrained_best_trial_takes(self):
        with contextlib.redirect_stdout(io.StringIO()) as out:
            cfg, _, _ = search.parse(["--task", "binary_add", "--restarts", "2", "--log-every", "5"])
        self.assertEqual((cfg.restarts, cfg.log_every), (2, 5))  # kept for the retrained best trial
        self.assertIn("--restarts, --log-every apply to the retrained best trial", out.getvalue())
        with contextlib.redirect_stdout(io.StringIO()) as out:
            search.parse(["--task", "binary_add"])
        self.assertNotIn("retrained best trial", out.getvalue())

    def test_space_parsing(self):
        self.assertEqual(parse_space(["cell=lstm,gru", "units=32,64", "bidirectional=true,no", "lr=1e-3"]),
                         {"cell": ["lstm", "gru"], "units": [32, 64], "bidirectional": [True, False], "lr": [1e-3]})

    def test_the_seed_reports_settings_are_search_space_names_none_included(self):
        space = parse_space(["clipnorm=none,2.0", "lr_schedule=plateau", "plateau_factor=0.3", "momentum=0.9",
                             "optimizer=sgd", "train_samples=64,none", "plateau_min_lr=none"], TASKS["recall"])
        self.assertEqual(space["clipnorm"], [None, 2.0])
        self.assertEqual(space["train_samples"], [64, None])
        model = RnnkitHyperModel(make_config(TASKS["recall"], {}), space, keras_tuner.Objective("val_accuracy", "max"))
        cfg = model.config(keras_tuner.HyperParameters())  # each Choice's first value
        self.assertEqual((cfg.clipnorm, cfg.lr_schedule, cfg.plateau_factor, cfg.momentum, cfg.train_samples),
                         (None, "plateau", 0.3, 0.9, 64))
        hp = keras_tuner.HyperParameters()
        hp.Choice("clipnorm", ["none", "2.0"])
        hp.values["clipnorm"] = "2.0"
        hp.Choice("train_samples", ["64", "none"])
        hp.values["train_samples"] = "none"
        cfg = model.config(hp)
        self.assertEqual((cfg.clipnorm, cfg.train_samples), (2.0, None))
        self.assertEqual(parse_space(["bit_inputs=01"], TASKS["binary_add"]), {"bit_inputs": ["01"]})
        self.assertEqual(parse_space(["digit_input=number"], TASKS["palindrome"]), {"digit_input": ["number"]})
        self.assertEqual(parse_space(["noise=0.05", "samples=500", "test_fraction=0.3"], TASKS["moons"]),
                         {"noise": [0.05], "samples": [500], "test_fraction": [0.3]})

    def test_a_trial_that_changes_the_cell_brings_the_cells_defaults_but_keeps_what_was_asked_for(self):
        adder = make_config(TASKS["adder"], {})  # the RNN default: 30 epochs, clipnorm 1, epsilon 1e-4
        gru = apply(adder, {"cell": "gru"})
        self.assertEqual((gru.cell, gru.update_gate_bias, gru.train_len), ("gru", -10.0, None))
        adder_lstm = apply(adder, {"cell": "lstm"})
        self.assertEqual((adder_lstm.cell, adder_lstm.epochs, adder_lstm.clipnorm, adder_lstm.epsilon),
                         ("lstm", 10, None, None))
        self.assertEqual(apply(make_config(TASKS["adder"], {"epochs": 9}), {"cell": "lstm"}).epochs, 9)
        self.assertEqual(apply(gru, {"cell": "rnn"}), adder)  # and back again
        self.assertEqual(apply(adder_lstm, {"cell": "rnn"}), adder)
        palindrome = make_config(TASKS["palindrome"], {"length": 30})
        lstm = apply(palindrome, {"cell": "lstm", "units": 16})
        expected = make_config(TASKS["palindrome"], {"length": 30, "cell": "lstm", "units": (16,)})
        self.assertEqual(lstm, expected)  # chrono gates, 20 epochs, the plateau schedule
        self.assertEqual(apply(palindrome, {"units": 16}).epochs, 10)  # no cell change, nothing else moves

    def test_a_trial_at_series_filters_0_clips_as_the_flag_does_unless_a_clipnorm_was_asked_for(self):
        series = make_config(TASKS["series"], {"data": "x.ts"})
        raw = apply(series, {"filters": 0})
        self.assertEqual(raw, make_config(TASKS["series"], {"data": "x.ts", "filters": 0}))
        self.assertEqual(raw.clipnorm, RAW_CLIPNORM)
        self.assertIsNone(apply(raw, {"filters": 32}).clipnorm)  # and back again
        asked = make_config(TASKS["series"], {"data": "x.ts", "clipnorm": 5.0})
        self.assertEqual(apply(asked, {"filters": 0}).clipnorm, 5.0)

    def test_bad_search_and_report_input_is_one_line_and_exit_2(self):
        folder = fresh_dir(self)
        base = ["--task", "recall", "--dir", folder]
        cases = [(search.main, [*base, "--space", "cell"], "name=value"),
                 (search.main, [*base, "--space", "cell="], "name=value"),
                 (search.main, [*base, "--space", "=lstm"], "name=value"),
                 (search.main, [*base, "--space", "colour=red"], "unknown hyperparameter"),
                 (search.main, [*base, "--space", "cell=transformer"], "not one of"),
                 (search.main, [*base, "--space", "units=0"], "outside"),
                 (search.main, [*base, "--space", "units=abc"], "not a valid value"),
                 (search.main, [*base, "--space", "units=٦٤"], "not a valid value"),
                 (search.main, [*base, "--space", "lr=1e-3", "lr=1e-2"], "twice"),
                 (search.main, [*base, "--space", "loss=mse"], "does not apply"),
                 (search.main, [*base, "--tuner", "genetic"], "--tuner"),
                 (search.main, [*base, "--max-trials", "0"], "--max-trials"),
                 (search.main, [*base, "--resume", folder], "unrecognized arguments: --resume"),
                 (search.main, [*base, "--lr", "0.1", "--space", "lr=0.1,0.3"], "set by a flag and by --space"),
                 (search.main, ["--task", "moons", "--space", "cell=lstm,gru", "--dir", folder],
                  "'cell' does not apply to task moons: it has no recurrent layer"),
                 (search.main, ["--task", "moons", "--units", "8", "--lr", "0.1", "--optimizer", "sgd", "--batch-size",
                                "32", "--dir", folder], "fix every hyperparameter"),
                 (search.main, ["--task", "moons", "--backend", "numpy", "--dir", folder], "--backend keras"),
                 (report.main, ["no-such-report"], "invalid choice"),
                 (report.main, ["seed-004", "--seed", "-1"], "--seed")]
        for main, argv, message in cases:
            with self.subTest(argv=argv):
                status, _, err = call(main, argv)
                self.assertEqual(status, 2, err)
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertIn(message, err)
        self.assertEqual(os.listdir(folder), [])
