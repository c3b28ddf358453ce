"""--restarts: stop at the first attempt exact on validation, else keep the best; the run folder says so."""
import csv
import json
import os

import tensorflow as tf

from rnnkit.core.config import make_config
from rnnkit.engine import restarts
from rnnkit.runs import artifacts
from rnnkit.tasks import TASKS
from rnnkit.train import main
from tests.clitools import call

TINY = ["--units", "3", "--epochs", "2", "--steps-per-epoch", "2", "--batch-size", "8", "--val-samples", "16",
        "--test-samples", "16", "--eval-samples", "8", "--stress-samples", "2", "--show-samples", "0"]


class FakeTask:
    """Scores each model by a number fixed in advance (no training)."""

    def selection_score(self, model, cfg):
        return model, f"fake {model}"


def scripted(scores):
    """A train_once that returns the next score as its 'model' (None: diverged, no model)."""
    seen = []

    def train_once(cfg, index):
        seen.append(cfg.seed)
        return restarts.Attempt(cfg.seed, scores[index], {"loss": [1.0] * (index + 1)}, scores[index] is None,
                                [], None)

    return train_once, seen


class BestOfTest(tf.test.TestCase):
    def best_of(self, scores, tries, seed=3):
        cfg = make_config(TASKS["binary_add"], dict(restarts=tries, seed=seed))
        train_once, seeds = scripted(scores)
        kept, attempts = restarts.best_of(cfg, FakeTask(), train_once, report=lambda *a, **k: None)
        return kept, attempts, seeds

    def test_stops_at_the_first_exact_attempt(self):
        kept, attempts, seeds = self.best_of([0.5, 1.0, 0.9], tries=3)
        self.assertLen(attempts, 2)
        self.assertIs(kept, attempts[1])
        self.assertEqual(seeds, [3, 3 + restarts.SEED_STRIDE])

    def test_keeps_the_best_and_skips_diverged_attempts(self):
        kept, attempts, _ = self.best_of([0.2, None, 0.7, 0.4], tries=4)
        self.assertLen(attempts, 4)
        self.assertEqual(kept.score, 0.7)
        self.assertEqual(restarts.summary(kept, attempts)["kept"], 3)
        self.assertIsNone(restarts.summary(kept, attempts)["attempts"][1]["validation"])

    def test_all_diverged_keeps_the_last_which_has_no_model(self):
        kept, attempts, _ = self.best_of([None, None], tries=2)
        self.assertIsNone(kept.model)
        self.assertIs(kept, attempts[-1])

    def test_seeds_stay_in_range(self):
        self.assertEqual(restarts.attempt_seed(2**31 - 1, 1), restarts.SEED_STRIDE - 1)


class RestartsRunTest(tf.test.TestCase):
    def test_run_folder_records_every_attempt_and_keeps_the_best(self):
        out = os.path.join(self.get_temp_dir(), "restarts")
        status, stdout, stderr = call(main, ["--task", "binary_add", "--len", "6", "--train-len", "2-4",
                                             "--restarts", "2", *TINY, "--out", out])
        self.assertEqual(status, 0, stderr)
        with open(os.path.join(out, "metrics.json")) as handle:
            summary = json.load(handle)["restarts"]
        scores = [a["validation"] for a in summary["attempts"]]
        self.assertEqual([a["seed"] for a in summary["attempts"]], [0, restarts.SEED_STRIDE][: len(scores)])
        self.assertEqual(summary["kept"], scores.index(max(scores)) + 1)
        self.assertIn(f"{len(scores)} attempts; kept attempt {summary['kept']}", stdout)
        self.assertIn("rnnkit: attempt 1/2 (seed 0): validation", stdout)
        for index in range(len(scores)):
            self.assertTrue(os.path.isdir(os.path.join(out, "tensorboard", f"attempt-{index + 1}")))
        self.assertLen(artifacts.read_history(os.path.join(out, "history.csv"))["loss"], 2)
        with open(os.path.join(out, "config.json")) as handle:
            self.assertEqual(json.load(handle)["restarts"], 2)

    def test_history_of_the_kept_attempt_round_trips(self):
        path = os.path.join(self.get_temp_dir(), "history.csv")
        history = {"loss": [0.5, 0.25], "val_loss": [0.75, 0.125]}
        artifacts.write_history(path, history)
        self.assertEqual(artifacts.read_history(path), history)
        with open(path, newline="") as handle:
            self.assertEqual(next(csv.reader(handle)), ["epoch", "loss", "val_loss"])

    def test_binary_add_defaults_to_five_and_other_tasks_refuse_the_flag(self):
        self.assertEqual(make_config(TASKS["binary_add"], {}).restarts, 5)
        self.assertEqual(make_config(TASKS["adder"], {}).restarts, 1)
        for argv, expected in ((["--task", "mnist", "--restarts", "2"], "--restarts does not apply"),
                               (["--task", "binary_add", "--restarts", "0"], "--restarts")):
            status, _, stderr = call(main, argv)
            with self.subTest(argv=argv):
                self.assertEqual(status, 2)
                self.assertLen(stderr.strip().splitlines(), 1)
                self.assertIn(expected, stderr)

    def test_a_run_with_restarts_cannot_be_resumed(self):
        run_dir = os.path.join(self.get_temp_dir(), "interrupted")
        os.makedirs(run_dir)
        cfg = make_config(TASKS["binary_add"], dict(restarts=3, out=run_dir))
        artifacts.write_text(os.path.join(run_dir, "config.json"), cfg.to_json())
        status, _, stderr = call(main, ["--resume", run_dir])
        self.assertEqual(status, 2)
        self.assertLen(stderr.strip().splitlines(), 1)
        self.assertIn("--restarts 3, which cannot be resumed", stderr)
