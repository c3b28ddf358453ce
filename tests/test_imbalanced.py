"""Imbalanced real data: per-class figures equal scikit-learn's, class weights, the names loader's report."""
import csv
import json
import os
import subprocess
import sys
import types

import keras
import numpy as np
from sklearn.metrics import balanced_accuracy_score, f1_score
import tensorflow as tf

import rnnkit
from rnnkit import training
from rnnkit.core.errors import UsageError
from rnnkit.engine import steps
from rnnkit.models.class_metrics import NO_TEST_EXAMPLES, BalancedAccuracy, class_report, per_class_table
from rnnkit.tasks import TASKS
from rnnkit.tasks import names as names_task
from rnnkit.tasks.arrays import stratified_split
from tests.clitools import call, fresh_dir
from tests.test_cli import run_cli
from tuning import search
from tuning.seeds.spec import Experiment, Runs, SeedReport
from tuning.seeds.write import run_table

CLASSES = ("ant", "bee", "cat", "dog")
Y_TRUE = np.array([0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 0])  # no "dog" in the test set
Y_PRED = np.array([0, 0, 0, 1, 0, 3, 1, 0, 2, 0, 2, 0])  # ... but one predicted
TINY = ["--units", "4", "--embed-dim", "2", "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "8",
        "--show-samples", "0", "--no-ngrams"]


def write_folder(folder, lists):
    """A tutorial-layout names folder: one <Language>.txt per entry of `lists`."""
    for language, names in lists.items():
        with open(os.path.join(folder, f"{language}.txt"), "w", encoding="utf-8") as handle:
            handle.write("\n".join(names) + "\n")
    return folder


class ClassReportTest(tf.test.TestCase):
    def test_balanced_accuracy_and_macro_f1_equal_scikit_learns(self):
        report = class_report(Y_TRUE, Y_PRED, CLASSES)
        self.assertAllClose(report["balanced_accuracy"], balanced_accuracy_score(Y_TRUE, Y_PRED))
        self.assertAllClose(report["balanced_accuracy"], (5 / 7 + 1 / 2 + 2 / 3) / 3)
        self.assertAllClose(report["macro_f1"], f1_score(Y_TRUE, Y_PRED, average="macro", zero_division=0))
        self.assertEqual(report["per_class"]["ant"]["support"], 7)
        self.assertAllClose(report["per_class"]["ant"]["precision"], 5 / 7)
        self.assertAllClose(report["per_class"]["bee"]["recall"], 0.5)

    def test_a_class_absent_from_test_is_null_never_zero(self):
        report = class_report(Y_TRUE, Y_PRED, CLASSES)
        self.assertEqual(report["per_class"]["dog"], {"precision": None, "recall": None, "f1": None, "support": 0,
                                                      "note": NO_TEST_EXAMPLES})
        table = per_class_table(report).splitlines()
        self.assertEqual([line.split()[0] for line in table[1:]], ["ant", "cat", "bee", "dog"])  # by support
        self.assertIn(NO_TEST_EXAMPLES, table[-1])

    def test_keras_balanced_accuracy_streams_to_the_same_value(self):
        metric = BalancedAccuracy(len(CLASSES))
        probabilities = np.eye(len(CLASSES))[Y_PRED]
        for start in range(0, len(Y_TRUE), 5):  # three batches
            metric.update_state(Y_TRUE[start:start + 5], probabilities[start:start + 5])
        self.assertAllClose(metric.result(), balanced_accuracy_score(Y_TRUE, Y_PRED))
        metric.reset_state()
        self.assertAllClose(metric.result(), 0.0)


class ClassWeightTest(tf.test.TestCase):
    def test_balanced_weights_reach_the_loss_as_specified(self):
        folder = write_folder(fresh_dir(self), {"Polish": [f"Nowak{c}" for c in "abcdefghijklmnopqrstuvwx"],
                                                "Greek": ["Papas", "Georgiou", "Pappas", "Nikolaou", "Dimas",
                                                          "Alexiou"]})
        cfg = rnnkit.configure("names", source="folder", data_dir=folder, class_weight="balanced", batch_size=32,
                               units=(4,), embed_dim=2, ngrams=())
        task = TASKS["names"]
        y_train = task.splits(cfg).train[1]
        counts = np.bincount(y_train)
        x, y, w = next(iter(task.build_inputs(cfg, "train")))
        expected_weights = len(y_train) / (2 * counts[y.numpy()])  # n / (classes × n_class)
        self.assertAllClose(w, expected_weights)
        keras.utils.set_random_seed(0)
        model = training.compiled_model(cfg)
        probabilities = model(x).numpy()
        per_example = -np.log(probabilities[np.arange(len(y)), y.numpy()])
        by_hand = np.sum(expected_weights * per_example) / len(y)  # Keras: weighted sum over the batch size
        self.assertAllClose(model.compute_loss(x=x, y=y, y_pred=probabilities, sample_weight=w), by_hand, rtol=1e-5)
        logs = steps.train_step(model, (x, y, w))  # the step every loop shares uses the weights too
        self.assertAllClose(logs["loss"], by_hand, rtol=1e-5)
        self.assertNotAllClose(by_hand, np.mean(per_example), rtol=1e-3)

    def test_numpy_backend_refuses_class_weights_with_one_line(self):
        status, _, err = run_cli(["--task", "moons", "--backend", "numpy", "--class-weight", "balanced"])
        self.assertEqual((status, err.count("\n")), (2, 1))
        self.assertIn("--backend keras", err)
        status, _, err = run_cli(["--task", "adder", "--class-weight", "balanced"])
        self.assertEqual(status, 2)
        self.assertIn("--class-weight does not apply to task adder", err)


class GroupedSplitTest(tf.test.TestCase):
    def test_rows_of_a_group_stay_together_and_singletons_split_as_before(self):
        rng = np.random.default_rng(3)
        y = rng.integers(0, 5, 600)
        singletons = stratified_split(y, 0.2, seed=0, groups=np.arange(600))
        for plain, grouped in zip(stratified_split(y, 0.2, seed=0), singletons):
            self.assertAllEqual(plain, grouped)
        groups = np.repeat(np.arange(300), 2)  # every key listed twice, under two labels drawn at random
        kept, taken = stratified_split(y, 0.2, seed=0, groups=groups)
        self.assertEqual(set(groups[kept]) & set(groups[taken]), set())
        self.assertAllEqual(np.sort(np.concatenate([kept, taken])), np.arange(600))
        ungrouped = stratified_split(y, 0.2, seed=0)
        self.assertNotEqual(set(groups[ungrouped[0]]) & set(groups[ungrouped[1]]), set())  # what grouping prevents

    def test_a_group_is_drawn_under_its_rarest_label(self):
        y = np.array([0] * 50 + [1] * 10 + [0] * 10)
        groups = np.concatenate([np.arange(50), np.arange(50, 60), np.arange(50, 60)])  # label 1's keys also 0's
        kept, taken = stratified_split(y, 0.2, seed=0, groups=groups)
        self.assertEqual(int((y[taken] == 1).sum()), 2)  # a fifth of label 1's ten groups, not of label 0's 60 rows


class NamesLoaderReportTest(tf.test.TestCase):
    LISTS = {"Czech": ["Novak", "Svoboda", "Novak", "Dvorak", "Cerny", "Smith", "Prochazka", "Kucera", "Vesely",
                       "Horak", "Nemec", "Marek"],
             "English": ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Thomas", "Johnson", "Roberts",
                         "Walker", "Wright", "Smith", "Robinson"],
             "Scottish": ["Wilson", "Taylor"]}

    def test_the_report_counts_a_folder_exactly(self):
        folder = write_folder(fresh_dir(self), self.LISTS)
        for overlap, kept in (("keep", {"Czech": 11, "English": 12, "Scottish": 2}),
                              ("drop", {"Czech": 10, "English": 9, "Scottish": 0})):
            cfg = rnnkit.configure("names", source="folder", data_dir=folder, overlap=overlap)
            if overlap == "drop":
                with self.assertRaisesRegex(UsageError, "Scottish has no training example: all 2"):
                    TASKS["names"].splits(cfg)
                continue
            report = TASKS["names"].splits(cfg).report
            counts = {k: {f: v[f] for f in ("read", "duplicates", "shared", "kept")} for k, v in report.items()}
            self.assertEqual(counts,
                             {"Czech": {"read": 12, "duplicates": 1, "shared": 1, "kept": kept["Czech"]},
                              "English": {"read": 13, "duplicates": 1, "shared": 3, "kept": kept["English"]},
                              "Scottish": {"read": 2, "duplicates": 0, "shared": 2, "kept": kept["Scottish"]}})
            for language, row in report.items():
                self.assertEqual(row["train"] + row["val"] + row["test"], row["kept"], language)
            self.assertEqual((report["Scottish"]["train"], report["Scottish"]["val"], report["Scottish"]["test"]),
                             (1, 0, 1))

    def test_a_name_kept_under_two_languages_is_never_trained_under_one_and_tested_under_the_other(self):
        czech = [f"Novak{chr(97 + i)}{chr(97 + j)}" for i in range(8) for j in range(8)]
        lists = {"Czech": czech, "Slovak": czech[:40] + [f"Kovac{chr(97 + i)}" for i in range(20)]}
        cfg = rnnkit.configure("names", source="folder", data_dir=write_folder(fresh_dir(self), lists),
                               overlap="keep")
        splits = TASKS["names"].splits(cfg)
        seen = [{names_task.decode(row).lower() for row in part[0]} for part in (splits.train, splits.val, splits.test)]
        self.assertEqual(sum(len(part[1]) for part in (splits.train, splits.val, splits.test)), 64 + 60)
        self.assertEqual((seen[0] & seen[1], seen[0] & seen[2], seen[1] & seen[2]), (set(), set(), set()))
        self.assertEqual({k: splits.report["Slovak"][k] for k in ("train", "val", "test")},
                         {"train": 48, "val": 6, "test": 6})

    def test_cli_warns_about_thin_languages_and_stores_the_report(self):
        folder = write_folder(fresh_dir(self), self.LISTS)
        out = os.path.join(fresh_dir(self), "run")
        status, stdout, err = run_cli(["--task", "names", "--source", "folder", "--data-dir", folder, *TINY,
                                       "--out", out])
        self.assertEqual(status, 0, err)
        warnings = [line for line in err.splitlines() if "warning" in line]
        self.assertEqual(warnings, ["rnnkit: warning: names: Scottish has only 1 training names; no val names "
                                    "(its figures there are null)"])
        with open(os.path.join(out, "metrics.json")) as handle:
            metrics = json.load(handle)
        self.assertEqual(metrics["data"]["Scottish"]["kept"], 2)
        self.assertEqual(json.load(open(os.path.join(out, "config.json")))["overlap"], "keep")
        self.assertIn("shared", stdout)  # the loader's table after the results

    def test_no_training_example_exits_2_with_one_line_and_leaves_no_run_folder(self):
        folder = write_folder(fresh_dir(self), self.LISTS)
        out = os.path.join(fresh_dir(self), "run")
        status, _, err = run_cli(["--task", "names", "--source", "folder", "--data-dir", folder, "--overlap", "drop",
                                  *TINY, "--out", out])
        self.assertEqual((status, err.count("\n")), (2, 1), err)
        self.assertIn("Scottish has no training example", err)
        self.assertIn("--overlap keep", err)
        self.assertFalse(os.path.exists(out))

    def test_empty_tfds_folder_is_one_line_in_a_real_process(self):
        done = subprocess.run([sys.executable, "-m", "rnnkit.train", "--task", "mnist", "--source", "tfds",
                               "--data-dir", fresh_dir(self), "--out", os.path.join(fresh_dir(self), "run")],
                              capture_output=True, text=True, timeout=300)
        self.assertEqual(done.returncode, 2)
        self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
        self.assertIn("no prepared tensorflow-datasets 'mnist'", done.stderr)


class BalancedObjectiveTest(tf.test.TestCase):
    def test_search_maximises_balanced_accuracy_and_refuses_it_where_it_does_not_apply(self):
        folder = fresh_dir(self)
        status, out, err = call(search.main, ["--task", "moons", "--epochs", "1", "--space", "units=3,8", "layers=1",
                                              "lr=0.1", "optimizer=sgd", "batch_size=32", "--max-trials", "2",
                                              "--objective", "balanced_accuracy", "--no-retrain", "--dir", folder])
        self.assertEqual(status, 0, err)
        self.assertIn("objective val_balanced_accuracy", out)
        with open(os.path.join(folder, "results.csv")) as handle:
            rows = list(csv.DictReader(handle))
        scores = [float(row["val_balanced_accuracy"]) for row in rows]
        self.assertLen(scores, 2)
        self.assertEqual(scores, sorted(scores, reverse=True))
        status, _, err = call(search.main, ["--task", "recall", "--objective", "balanced_accuracy", "--dir", folder])
        self.assertEqual((status, err.count("\n")), (2, 1))
        self.assertIn("does not apply to task recall", err)

    def test_report_run_table_shows_balanced_accuracy_for_classifiers(self):
        experiments = (Experiment("names-run", "names", {"units": (64,)}), Experiment("recall-run", "recall", {}))
        seed = SeedReport("seed-x", "x", "x.txt", experiments, (), (), (), "none")
        test = {"accuracy": 0.9, "exact_match": 0.9, "balanced_accuracy": 0.6}
        record = types.SimpleNamespace(metrics={"test": test, "epochs_run": 2, "train_seconds": 1.0},
                                       config={"units": [64]})
        runs = Runs({"names-run": record}, {"recall-run": "not run yet"})
        lines = run_table(seed, runs)
        self.assertIn("balanced accuracy", lines[0])
        self.assertIn("| 90.0% | 60.0% balanced |", lines[2])
        self.assertIn("cannot be measured here: not run yet", lines[3])
