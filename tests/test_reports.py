"""The seed reports: each lists its seed's experiments with the seed's settings; a tiny report runs end to end
with a verdict per claim; a claim without its run is never judged."""
import json
import os
import types

import keras
import numpy as np
import tensorflow as tf

from rnnkit import training
from rnnkit.models.layers import RandomStrokeWidth, SometimesUnchanged
from rnnkit.predict import labelled_images
from rnnkit.tasks.arrays import layer_seeds
from rnnkit.tasks.digit_photos import write_digit_photos
from rnnkit.tasks.mnist import WIDEST_STROKE, MnistCodec, stroke_width, thin_strokes
from tests.clitools import call, fresh_dir
from tuning import report
from tuning.seeds import REPORTS, runs
from tuning.seeds.spec import (CANNOT, DOES_NOT, REPRODUCES, Claim, Experiment, Figure, Runs, SeedReport, judge_claim,
                               reaches, stays_below)

TINY_RECALL = dict(units=(4,), embed_dim=4, k=1, epochs=2, steps_per_epoch=10, val_samples=32, test_samples=64,
                   eval_lens=(), stress_samples=0, log_every=5)


def settings(report_name, experiment):
    """The settings one experiment of a shipped report runs with."""
    return REPORTS[report_name].experiment(experiment).settings


class SeedListsTest(tf.test.TestCase):
    def test_five_reports_each_named_after_its_seed_file(self):
        self.assertEqual(list(REPORTS), [f"seed-00{i}" for i in range(5)])
        seeds = sorted(os.listdir(os.path.join(os.path.dirname(__file__), "..", "..", "shared", "seeds"))) \
            if os.path.isdir(os.path.join(os.path.dirname(__file__), "..", "..", "shared", "seeds")) else None
        for index, seed in enumerate(REPORTS.values()):
            self.assertTrue(seed.source.startswith(f"00{index}_"))
            if seeds:
                self.assertIn(seed.source, seeds)

    def test_every_experiment_configures_in_full_and_quick_and_claims_name_real_runs(self):
        for seed in REPORTS.values():
            names = {e.name for e in seed.experiments}
            self.assertLen(names, len(seed.experiments))
            for experiment in seed.experiments:
                for quick in (False, True):
                    with self.subTest(report=seed.name, experiment=experiment.name, quick=quick):
                        cfg = runs.experiment_config(experiment, quick, "/data" if experiment.needs_data else None,
                                                     0)
                        self.assertEqual(cfg.task, experiment.task)
            for claim in seed.claims:
                self.assertTrue(set(claim.experiments) <= names, claim.text)
                if claim.default:
                    self.assertIn(claim.default[0], names)
            for figure in seed.figures:
                self.assertTrue(set(figure.experiments) <= names, figure.title)

    def test_seed_000_runs_three_cells_three_sizes_both_directions_with_coupled_decay(self):
        mnist = [e for e in REPORTS["seed-000"].experiments if e.task == "mnist"]
        self.assertLen(mnist, 18)
        self.assertEqual({(e.settings["cell"], e.settings["units"], e.settings["bidirectional"]) for e in mnist},
                         {(c, u, b) for c in ("rnn", "lstm", "gru") for u in ((64,), (128,), (64, 64))
                          for b in (False, True)})
        cfg = runs.experiment_config(mnist[0], False, None, 0)
        self.assertEqual((cfg.optimizer, cfg.lr, cfg.coupled_weight_decay, cfg.augment, cfg.lr_schedule),
                         ("adam", 1e-3, 0.01, False, "none"))
        self.assertEqual({e.settings["filters"] for e in mnist}, {0})  # the seed's RNNs read raw rows
        recall = runs.experiment_config(REPORTS["seed-000"].experiment("recall-h5"), False, None, 0)
        self.assertEqual((recall.cell, recall.units, recall.lr, recall.beta_1, recall.beta_2), ("lstm", (5,), 0.01,
                                                                                                0.9, 0.99))

    def test_seed_001_is_the_tutorial_lstm_one_name_per_step_and_batches_10_and_30(self):
        cfg = runs.experiment_config(REPORTS["seed-001"].experiment("names-2x128"), False, None, 0)
        self.assertEqual((cfg.units, cfg.bidirectional, cfg.ngrams, cfg.optimizer, cfg.lr, cfg.batch_size),
                         ((128, 128), False, (), "sgd", 0.01, 1))
        self.assertEqual(cfg.epochs * cfg.steps_per_epoch, 100_000)
        self.assertEqual(settings("seed-001", "names-1x64-batch30")["batch_size"], 30)
        folder = runs.experiment_config(REPORTS["seed-001"].experiment("names-1x64"), False, "/names", 0)
        self.assertEqual((folder.source, folder.data_dir), ("folder", "/names"))

    def test_seed_002_mnist_set_ups_recall_on_1000_sequences_binary_on_10000(self):
        sgd = settings("seed-002", "mnist-lstm-sgd-2.7")
        self.assertEqual((sgd["cell"], sgd["units"], sgd["optimizer"], sgd["momentum"], sgd["epochs"]),
                         ("lstm", (128,), "sgd", 0.9, 20))
        self.assertAllClose(sgd["lr"], 10 ** -2.7)
        self.assertEqual({e.settings.get("filters") for e in REPORTS["seed-002"].experiments
                          if e.task == "mnist" and not e.default}, {0})
        recall = runs.experiment_config(REPORTS["seed-002"].experiment("recall-h2"), False, None, 0)
        self.assertEqual((recall.k, recall.min_len, recall.max_len, recall.train_samples, recall.lr,
                          recall.coupled_weight_decay), (3, 3, 10, 1000, 1e-4, 1e-4))
        binary = runs.experiment_config(REPORTS["seed-002"].experiment("binary-train5-h5"), False, None, 0)
        self.assertEqual((binary.train_len, binary.train_samples, binary.epochs, binary.bit_inputs, binary.loss),
                         ((5, 5), 10_000, 10, "01", "mse"))

    def test_seed_003_palindrome_cifar_and_toy_settings(self):
        for n in (5, 10, 15, 20):
            cfg = runs.experiment_config(REPORTS["seed-003"].experiment(f"palindrome-{n}"), False, None, 0)
            self.assertEqual((cfg.cell, cfg.units, cfg.digit_input, cfg.optimizer, cfg.lr, cfg.clipnorm,
                              cfg.batch_size, cfg.epochs * cfg.steps_per_epoch, cfg.length),
                             ("rnn", (128,), "number", "rmsprop", 1e-2, 10.0, 128, 10_000, n))
        cnn = {e.name: e for e in REPORTS["seed-003"].experiments if e.name.startswith("cifar10-cnn")}
        self.assertEqual({(e.settings["optimizer"], e.settings["lr"]) for e in cnn.values()},
                         {("adam", 1e-4), ("adam", 1e-2), ("adam", 1e-6), ("sgd", 1e-4), ("adagrad", 1e-4)})
        self.assertTrue(all(e.needs_data and e.settings["epochs"] == 200 for e in cnn.values()))
        self.assertIsNone(runs.experiment_config(cnn["cifar10-cnn-adam-1e-4"], True, None, 0))

    def test_seed_004_lengths_depths_and_rates(self):
        names = {e.name for e in REPORTS["seed-004"].experiments}
        self.assertTrue({f"rnn3-len{n}" for n in (11, 50, 100, 150, 200)} <= names)
        self.assertTrue({f"rnn{d}-len11" for d in (1, 2, 3, 5, 10)} <= names)
        lr = runs.experiment_config(REPORTS["seed-004"].experiment("rnn3-lr0.2-len200"), False, None, 0)
        self.assertEqual((lr.units, lr.embed_dim, lr.lr, lr.clipnorm, lr.length), ((64, 64, 64), 32, 0.2, None, 200))


def tiny_report(missing_reason=None):
    """Two tiny recall runs, one that needs absent data, and claims over them."""
    experiments = (
        Experiment("wide", "recall", TINY_RECALL, dict(epochs=1)),
        Experiment("narrow", "recall", dict(TINY_RECALL, units=(2,)), dict(epochs=1)),
        Experiment("on-real-data", "cifar10", dict(arch="mlp", units=(4,), epochs=1), needs_data=True),
    )
    claims = (
        Claim("wide reaches 0%", "0%", ("wide",), "accuracy ≥ 0", reaches("wide", 0.0, 0.0)),
        Claim("narrow stays below 0%", "0%", ("narrow",), "accuracy < 0", stays_below("narrow", 0.0)),
        Claim("real data works", "80%", ("on-real-data",), "accuracy ≥ 77%", reaches("on-real-data", 0.8, 0.03)),
    )
    return SeedReport("seed-tiny", "tiny", "000_tiny.txt", experiments, claims,
                      (Figure("curves", "curves", ("wide", "narrow")),), ("a choice: why",), "no data")


def fake_run(accuracy=None, status="completed", steps=None):
    """A finished run as the verdict rules read it."""
    test = None if accuracy is None else {"accuracy": accuracy, "exact_match": accuracy}
    return types.SimpleNamespace(metrics={"test": test, "status": status}, steps=steps, history={}, probes={})


def claim(report_name, text_start):
    """The claim of a shipped report whose text starts so."""
    return next(c for c in REPORTS[report_name].claims if c.text.startswith(text_start))


class VerdictRuleTest(tf.test.TestCase):
    def test_convergence_by_length_is_judged_from_the_logged_steps(self):
        rule = claim("seed-003", "Convergence slows")
        steps = {n: {"step": [500, 1000, 3000, 5500], "test_accuracy": a} for n, a in
                 ((5, [0.5, 1.0, 1.0, 1.0]), (10, [0.1, 0.5, 1.0, 1.0]), (15, [0.1, 0.1, 0.5, 1.0]))}
        runs = Runs({f"palindrome-{n}": fake_run(1.0, steps=steps[n]) for n in steps}, {})
        self.assertEqual(judge_claim(rule, runs)[0], REPRODUCES)
        steps[10]["test_accuracy"] = [0.1] * 4  # length 10 never gets there: not "slower", not judged as such
        steps[15]["test_accuracy"] = [1.0] * 4
        self.assertEqual(judge_claim(rule, runs)[0], DOES_NOT)

    def test_mse_against_cross_entropy_needs_a_five_point_gap(self):
        rule = claim("seed-000", "For binary addition MSE")
        runs = Runs({"binary-mse-train5": fake_run(0.99), "binary-ce-train5": fake_run(0.6)}, {})
        self.assertEqual(judge_claim(rule, runs), (REPRODUCES, "99.0% vs 60.0%"))
        runs = Runs({"binary-mse-train5": fake_run(0.99), "binary-ce-train5": fake_run(0.97)}, {})
        self.assertEqual(judge_claim(rule, runs)[0], DOES_NOT)

    def test_a_diverged_run_counts_as_exploding_and_a_missing_one_is_not_judged(self):
        rule = claim("seed-004", "Rate 0.2 explodes")
        names = [f"rnn3-lr0.2-len{n}" for n in (100, 150, 200)]
        runs = Runs({names[0]: fake_run(status="diverged"), names[1]: fake_run(0.1), names[2]: fake_run(0.2)}, {})
        verdict, measured = judge_claim(rule, runs)
        self.assertEqual(verdict, REPRODUCES)
        self.assertIn("len 100: diverged", measured)
        runs = Runs({names[1]: fake_run(0.1), names[2]: fake_run(0.99)}, {})
        self.assertEqual(judge_claim(rule, runs)[0], CANNOT)

    def test_seed_002_figures_allow_one_of_its_sixteen_test_digits(self):
        rule = claim("seed-002", "An LSTM (128) with SGD 10^-2.5")
        self.assertEqual(judge_claim(rule, Runs({"mnist-lstm-sgd-2.5": fake_run(0.876)}, {}))[0], REPRODUCES)
        self.assertEqual(judge_claim(rule, Runs({"mnist-lstm-sgd-2.5": fake_run(0.87)}, {}))[0], DOES_NOT)


class ReportRunTest(tf.test.TestCase):
    def test_a_tiny_quick_report_runs_end_to_end_with_a_verdict_per_claim_then_resumes(self):
        folder = fresh_dir(self)
        options = types.SimpleNamespace(quick=True, data_dir=None, seed=0)
        rows = report.run_report(tiny_report(), folder, options)
        self.assertEqual([row["verdict"] for row in rows], [REPRODUCES, DOES_NOT, CANNOT])
        self.assertIn("needs real data", rows[2]["measured"])
        with open(os.path.join(folder, "report.md")) as handle:
            text = handle.read()
        self.assertIn("**reproduces (quick run)**", text)
        self.assertIn("**cannot be measured here**", text)
        self.assertIn("a choice: why", text)
        self.assertGreater(os.path.getsize(os.path.join(folder, "figure-1.png")), 1000)
        with open(os.path.join(folder, "runs", "wide", "config.json")) as handle:
            self.assertEqual(json.load(handle)["epochs"], 1)  # --quick's budget, not the full one
        stamp = os.path.getmtime(os.path.join(folder, "runs", "wide", "metrics.json"))
        again = report.run_report(tiny_report(), folder, options)
        self.assertEqual(again, rows)
        self.assertEqual(os.path.getmtime(os.path.join(folder, "runs", "wide", "metrics.json")), stamp)

    def test_a_claim_whose_run_is_missing_cannot_be_measured(self):
        runs = Runs({}, {"wide": "not run yet"})
        verdict, why = judge_claim(tiny_report().claims[0], runs)
        self.assertEqual((verdict, why), (CANNOT, "run 'wide': not run yet"))
        no_test = Runs({"wide": types.SimpleNamespace(metrics={"status": "diverged"})}, {})
        self.assertEqual(judge_claim(tiny_report().claims[0], no_test)[0], CANNOT)

    def test_cli_lists_the_reports_and_refuses_bad_input_in_one_line(self):
        status, out, err = call(report.main, ["--list"])
        self.assertEqual(status, 0, err)
        self.assertEqual([line.split()[0] for line in out.splitlines() if not line.startswith(" ")], list(REPORTS))
        bad = ((["seed-999"], "invalid choice"), ([], "--list"), (["seed-000", "--seed", "-1"], "--seed"))
        for argv, message in bad:
            with self.subTest(argv=argv):
                status, _, err = call(report.main, argv)
                self.assertEqual((status, len(err.strip().splitlines())), (2, 1), err)
                self.assertIn(message, err)


class HandwritingTest(tf.test.TestCase):
    def test_photos_are_a_labelled_folder_of_dark_ink_on_light_paper_the_same_for_a_seed(self):
        folder, again = fresh_dir(self), fresh_dir(self)
        self.assertEqual(write_digit_photos(folder, count=20, seed=3), 20)
        write_digit_photos(again, count=20, seed=3)
        files = labelled_images(folder, [str(d) for d in range(10)])
        self.assertEqual(sorted({label for _, label in files}), [str(d) for d in range(10)])
        from PIL import Image
        for path, _ in files:
            photo = np.asarray(Image.open(path))
            self.assertGreater(np.median(photo), 150)  # light paper
            self.assertLess(photo.min(), 110)  # dark ink
            with open(path, "rb") as mine, open(path.replace(folder, again), "rb") as theirs:
                self.assertEqual(mine.read(), theirs.read())

    def test_thinning_narrows_wide_strokes_keeps_pen_strokes_and_never_erases_a_digit(self):
        pen = np.zeros((28, 28), dtype="float32")
        pen[4:24, 13:15] = 1.0
        self.assertAllClose(stroke_width(pen), 2 * 40 / 44)
        self.assertAllEqual(thin_strokes(pen, WIDEST_STROKE), pen)
        marker = np.zeros((28, 28), dtype="float32")
        marker[4:24, 10:18] = 1.0
        thinned = thin_strokes(marker, WIDEST_STROKE)
        self.assertLessEqual(stroke_width(thinned), WIDEST_STROKE)
        self.assertTrue(np.all(thinned <= marker))
        self.assertGreaterEqual((thinned > 0.5).any(axis=1).sum(), 12)  # still a bar, not a dot
        # A step that would leave under a third of the ink is not taken: the digit stays readable.
        self.assertAllEqual(thin_strokes(pen, 0.5), pen)

    def test_the_reader_brings_marker_photos_near_mnist_width_and_leaves_a_pen_alone(self):
        from PIL import Image
        folder = fresh_dir(self)
        for pixels in (1, 5, 6, 7, 8):  # the bar's width once scaled to MNIST's 20-pixel box
            with self.subTest(pixels=pixels):
                page = np.full((200, 200), 235, dtype=np.uint8)
                page[40:160, 80: 80 + 6 * pixels] = 20  # a dark bar, 120 pixels tall, on light paper
                path = os.path.join(folder, f"bar{pixels}.png")
                Image.fromarray(page).save(path)
                width = stroke_width(MnistCodec().encode(None, path)[0])
                if pixels == 1:
                    self.assertLess(width, 1.5)
                else:  # thinned to about the limit, not to a hairline
                    self.assertBetween(width, 1.5, WIDEST_STROKE + 0.5)

    def test_an_augmentation_skips_a_random_fraction_of_examples_and_round_trips(self):
        images = np.zeros((2000, 4, 4, 1), dtype="float32")
        for fraction, low, high in ((0.0, 0.0, 0.0), (0.3, 0.27, 0.33), (1.0, 1.0, 1.0)):
            layer = SometimesUnchanged(keras.layers.Rescaling(1.0, offset=1.0), fraction, seed=2)
            out = keras.ops.convert_to_numpy(layer(images, training=True))
            unchanged = (out == 0).all(axis=(1, 2, 3))
            self.assertTrue(np.all((out == 0) | (out == 1)))  # each example whole: augmented or not
            self.assertBetween(unchanged.mean(), low, high)
            self.assertAllEqual(layer(images, training=False), images)
        again = SometimesUnchanged.from_config(layer.get_config())
        self.assertEqual((again.fraction, again.seed), (1.0, 2))
        self.assertIsInstance(again.augmentation, keras.layers.Rescaling)

    def test_each_random_layer_of_a_run_draws_its_own_numbers(self):
        def draw(seed):
            return keras.ops.convert_to_numpy(keras.random.uniform((8,), seed=keras.random.SeedGenerator(seed)))

        self.assertAllEqual(draw(3), draw(3))  # the reason: one seed, one stream, in every layer given it
        width, rotation = layer_seeds(3, 2)
        self.assertNotAllClose(draw(width), draw(rotation))
        self.assertLen({s for seed in range(4) for s in layer_seeds(seed, 5)}, 20)  # no two runs share one either

    def test_stroke_width_augmentation_only_widens_and_only_in_training(self):
        keras.utils.set_random_seed(0)
        images = np.zeros((64, 28, 28, 1), dtype="float32")
        images[:, 5:23, 13, 0] = 1.0  # a one-pixel stroke
        layer = RandomStrokeWidth(seed=1)
        widened = keras.ops.convert_to_numpy(layer(images, training=True))
        self.assertTrue(np.all(widened >= images))
        widths = sorted({int((w[14, :, 0] > 0).sum()) for w in widened})
        self.assertEqual(widths, [1, 3, 5])
        self.assertAllEqual(layer(images, training=False), images)
        self.assertEqual(training.configure("mnist").augment, True)
