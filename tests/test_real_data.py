"""Real-data tasks: embedded data, the tfds and folder loaders, masking of names, the NumPy MLP."""
import json
import os
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from rnnkit import predict as rnnkit_predict
from rnnkit.core.config import make_config
from rnnkit.models.numpy_mlp import NumpyMLP
from rnnkit.tasks import TASKS
from rnnkit.tasks.names import decode, encode
from rnnkit.tasks.names_data import ALLOWED, clean, to_ascii
from rnnkit.training import fit_model
from tests.clitools import call, fresh_dir
from tests.test_cli import run_cli

TINY = ["--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "4", "--show-samples", "2"]


def run_ok(test, argv):
    out = os.path.join(fresh_dir(test), "run")
    status, stdout, stderr = run_cli([*argv, "--out", out])
    test.assertEqual(status, 0, stderr)
    with open(os.path.join(out, "metrics.json")) as handle:
        return out, json.load(handle), stdout


class MnistTest(tf.test.TestCase):
    def test_embedded_split_is_fixed_and_stratified(self):
        task = TASKS["mnist"]
        data = task.splits(make_config(task, {}))
        self.assertEqual(data.test[0].shape, (1000, 28, 28))
        self.assertAllEqual(np.bincount(data.test[1]), [100] * 10)
        self.assertEqual(len(data.train[1]) + len(data.val[1]), 4000)
        self.assertAllEqual(np.bincount(data.val[1]), [40] * 10)
        self.assertBetween(float(data.train[0].max()), 0.99, 1.0)
        again = task.load_splits(make_config(task, dict(seed=5)))
        self.assertAllEqual(again.test[1], data.test[1], "the split does not move with --seed")

    def test_tfds_source_runs_end_to_end_on_mock_data(self):
        with tfds.testing.mock_data(num_examples=60):
            out, metrics, _ = run_ok(self, ["--task", "mnist", "--source", "tfds", "--data-dir",
                                            fresh_dir(self), "--units", "8", "--no-augment", *TINY])
        self.assertIn("tensorflow-datasets mnist", metrics["source"])
        self.assertEqual(sum(metrics["class_counts"]["test"].values()), 60)
        for name in ("confusion_matrix.png", "test_digits.png", "model.keras"):
            self.assertTrue(os.path.isfile(os.path.join(out, name)), name)

    def test_augmentation_changes_training_images_only(self):
        task = TASKS["mnist"]
        cfg = make_config(task, dict(batch_size=8))
        x, y = next(iter(task.build_inputs(cfg, "train")))
        self.assertEqual(x.shape, (8, 28, 28))
        self.assertIsNone(task.preprocess(cfg, training=False))
        plain = next(iter(task.build_inputs(cfg.replace(augment=False), "train")))[0]
        self.assertFalse(np.allclose(x.numpy(), plain.numpy()))


class NamesTest(tf.test.TestCase):
    def test_embedded_names_are_romanized_and_unambiguous(self):
        task = TASKS["names"]
        data = task.splits(make_config(task, {}))
        self.assertGreaterEqual(len(data.class_names), 15)
        self.assertNotIn("Scottish", data.class_names)
        names = [decode(row) for split in (data.train, data.val, data.test) for row in split[0]]
        self.assertTrue(all(name and set(name) <= set(ALLOWED) for name in names))
        self.assertEqual(len({n.lower() for n in names}), len(names), "no name appears twice")
        self.assertIn("Smirnov", names)  # Смирнов, romanized

    def test_cleaning_folds_to_ascii_and_drops_names_of_two_languages(self):
        self.assertEqual(to_ascii("Ślusàrski"), "Slusarski")
        cleaned, report = clean({"A": ["Ann", "ann", "Bob"], "B": ["Bob", "Cid"]})
        self.assertEqual(cleaned, {"A": ["Ann"], "B": ["Cid"]})
        self.assertEqual(report, {"A": {"read": 3, "duplicates": 1, "shared": 1, "kept": 1},
                                  "B": {"read": 2, "duplicates": 0, "shared": 1, "kept": 1}})
        kept, _ = clean({"A": ["Ann", "ann", "Bob"], "B": ["Bob", "Cid"]}, overlap="keep")
        self.assertEqual(kept, {"A": ["Ann", "Bob"], "B": ["Bob", "Cid"]})

    def test_folder_source_reads_tutorial_layout(self):
        folder = fresh_dir(self)
        words = {"Polish": ["Nowak", "Kowalski", "Wiśniewski", "Wójcik"] * 3,
                 "Italian": ["Rossi", "Russo", "Ferrari", "Esposito"] * 3}
        for language, names in words.items():
            with open(os.path.join(folder, f"{language}.txt"), "w", encoding="utf-8") as handle:
                handle.write("\n".join(names) + "\n")
        out, metrics, stdout = run_ok(self, ["--task", "names", "--source", "folder", "--data-dir", folder,
                                             "--units", "4", *TINY])
        self.assertEqual(set(metrics["per_class_accuracy"]), {"Italian", "Polish"})
        data = TASKS["names"].load_splits(make_config(TASKS["names"], dict(source="folder", data_dir=folder)))
        names = sorted(decode(row) for split in (data.train, data.val, data.test) for row in split[0])
        self.assertEqual(names, sorted(["Nowak", "Kowalski", "Wisniewski", "Wojcik", "Rossi", "Russo", "Ferrari",
                                        "Esposito"]), "folded to ASCII and deduplicated")
        self.assertIn("→", stdout)
        self.assertTrue(os.path.isfile(os.path.join(out, "confusion_matrix.png")))
        # The folder itself, given to predict: every line answered (24), a summary and a confusion matrix.
        status, answer, err = call(rnnkit_predict.main, [out, folder])
        self.assertEqual(status, 0, err)
        self.assertRegex(answer.splitlines()[0],
                         rf"^{re.escape(folder)}: 24 cases, accuracy [01]\.\d{{4}} \(\d+ right\)$")
        self.assertEqual(answer.splitlines()[-3].split(), ["Italian", "Polish"])

    def test_padding_width_does_not_change_the_answer(self):
        task = TASKS["names"]
        cfg = make_config(task, dict(units=(6,), embed_dim=4))
        keras.utils.set_random_seed(0)
        model = task.build_model(cfg)
        names = ["Li", "Nguyen", "Papadopoulos"]
        tight = model.predict(encode(names), verbose=0)
        wide = model.predict(encode(names, width=40), verbose=0)
        self.assertAllClose(tight, wide, atol=1e-6)

    def test_a_padded_batch_scores_like_its_names_one_by_one(self):
        task = TASKS["names"]
        cfg = make_config(task, dict(units=(6,), embed_dim=4))
        keras.utils.set_random_seed(0)
        model = task.build_model(cfg)
        model.compile(loss=task.loss(cfg))
        x, y = task.splits(cfg).test
        x, y = x[:32], y[:32]
        batched = model.evaluate(x, y, batch_size=32, verbose=0)
        one_by_one = np.mean([model.evaluate(x[i:i + 1], y[i:i + 1], verbose=0) for i in range(32)])
        self.assertAllClose(batched, one_by_one, rtol=1e-5)

    @pytest.mark.slow
    def test_batches_of_1_32_and_256_all_train(self):
        task = TASKS["names"]
        majority = np.bincount(task.splits(make_config(task, {})).val[1]).max() / len(task.splits(
            make_config(task, {})).val[1])
        # The RNN alone, so no n-gram bag can hide a batching bug; then the default model with its bag.
        for batch, steps, ngrams in ((1, 400, ()), (32, 60, ()), (256, 30, ()), (256, 30, (1, 2, 3, 4))):
            cfg = make_config(task, dict(units=(16,), embed_dim=8, epochs=1, steps_per_epoch=steps, batch_size=batch,
                                         lr=3e-3 if batch == 1 else 1e-2, ngrams=ngrams))
            model, history = fit_model(cfg)
            self.assertTrue(np.isfinite(history["loss"][-1]), batch)
            self.assertGreater(history["val_accuracy"][-1], majority + 0.1,
                               f"batch {batch} (n-grams {ngrams}) learns well past the majority class ({majority:.2f})")


class NumpyMLPTest(tf.test.TestCase):
    def setUp(self):
        rng = np.random.default_rng(0)
        self.x, self.y = rng.normal(size=(16, 2)), rng.integers(0, 2, 16)
        self.mlp = NumpyMLP((2, 5, 4, 2), seed=3)

    def test_gradients_match_finite_differences(self):
        _, gradients = self.mlp.loss_and_gradients(self.x, self.y)
        for param, gradient in zip(self.mlp.params, gradients):
            numeric = np.zeros_like(param)
            for index in np.ndindex(param.shape):
                saved = param[index]
                param[index] = saved + 1e-6
                plus = self.mlp.loss_and_gradients(self.x, self.y)[0]
                param[index] = saved - 1e-6
                minus = self.mlp.loss_and_gradients(self.x, self.y)[0]
                param[index] = saved
                numeric[index] = (plus - minus) / 2e-6
            scale = np.maximum(np.abs(numeric), np.abs(gradient)).max()
            self.assertLessEqual(np.abs(numeric - gradient).max() / scale, 1e-6)

    def test_gradients_match_keras(self):
        keras_mlp = keras.Sequential([keras.Input((2,), dtype="float64")]
                                     + [keras.layers.Dense(n, activation=a, dtype="float64")
                                        for n, a in ((5, "relu"), (4, "relu"), (2, "softmax"))])
        keras_mlp.set_weights(self.mlp.params)
        x = tf.constant(self.x)
        with tf.GradientTape() as tape:
            loss = keras.losses.sparse_categorical_crossentropy(self.y, keras_mlp(x))
            loss = tf.reduce_mean(loss)
        expected = tape.gradient(loss, keras_mlp.trainable_variables)
        ours_loss, ours = self.mlp.loss_and_gradients(self.x, self.y)
        self.assertAllClose(float(loss), ours_loss, rtol=1e-6)
        for want, got in zip(expected, ours):
            self.assertLessEqual(np.abs(want.numpy() - got).max() / np.abs(want.numpy()).max(), 1e-6)

    def test_save_and_load_round_trip(self):
        path = os.path.join(fresh_dir(self), "model.npz")
        self.mlp.save(path)
        self.assertAllClose(NumpyMLP.load(path).predict(self.x), self.mlp.predict(self.x))


class Toy2DTest(tf.test.TestCase):
    def test_both_backends_separate_the_moons(self):
        for backend in ("keras", "numpy"):
            out, metrics, stdout = run_ok(self, ["--task", "moons", "--backend", backend, "--epochs", "25"])
            self.assertGreaterEqual(metrics["test"]["accuracy"], 0.99, backend)
            for name in ("data.png", "decision_boundary.png", "confusion_matrix.png", "history.csv"):
                self.assertTrue(os.path.isfile(os.path.join(out, name)), (backend, name))
            # The NumPy MLP's weights are saved in the identical Keras MLP: one model file for every backend.
            self.assertTrue(os.path.isfile(os.path.join(out, "model.keras")), backend)


class Cifar10Test(tf.test.TestCase):
    @pytest.mark.slow
    def test_cnn_and_mlp_run_end_to_end_on_mock_data(self):
        with tfds.testing.mock_data(num_examples=40):
            for arch in ("cnn", "mlp"):
                out, metrics, _ = run_ok(self, ["--task", "cifar10", "--data-dir", fresh_dir(self), "--model",
                                                arch, "--units", "16", *TINY])
                self.assertIn("airplane", metrics["per_class_accuracy"])
                self.assertTrue(os.path.isfile(os.path.join(out, "test_images.png")))

    def test_cnn_has_the_seed_layout(self):
        task = TASKS["cifar10"]
        model = task.build_model(make_config(task, dict(data_dir="x")))
        convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
        self.assertEqual([c.filters for c in convs], [64, 128, 256, 256, 512, 512, 512, 512])
        self.assertLen([layer for layer in model.layers if isinstance(layer, keras.layers.MaxPooling2D)], 5)
        self.assertEqual(model.output_shape, (None, 10))


class RealDataBadInputTest(tf.test.TestCase):
    def test_each_bad_input_is_one_line_and_exit_2(self):
        empty = fresh_dir(self)
        no_txt = fresh_dir(self)
        with open(os.path.join(no_txt, "README.md"), "w") as handle:
            handle.write("x")
        latin1 = fresh_dir(self)
        with open(os.path.join(latin1, "Czech.txt"), "wb") as handle:
            handle.write("Dvořák".encode("utf-16"))
        cases = [
            (["--task", "mnist", "--source", "folder"], "argument --source: invalid choice: 'folder'"),
            (["--task", "mnist", "--source", "tfds"], "needs --data-dir"),
            (["--task", "mnist", "--source", "tfds", "--data-dir", empty, *TINY], "prepare it"),
            (["--task", "cifar10"], "needs --data-dir"),
            (["--task", "cifar10", "--data-dir", empty, *TINY], "no prepared tensorflow-datasets 'cifar10'"),
            (["--task", "names", "--source", "folder"], "needs --data-dir"),
            (["--task", "names", "--source", "folder", "--data-dir", os.path.join(empty, "nope"), *TINY],
             "is not a folder"),
            (["--task", "names", "--source", "folder", "--data-dir", no_txt, *TINY], "no <Language>.txt"),
            (["--task", "names", "--source", "folder", "--data-dir", latin1, *TINY], "is not UTF-8"),
            (["--task", "moons", "--backend", "numpy", "--optimizer", "adam"], "--optimizer sgd"),
            (["--task", "moons", "--source", "tfds"], "--source does not apply"),
            (["--task", "adder", "--backend", "numpy"], "--backend does not apply"),
        ]
        for argv, expected in cases:
            status, stdout, stderr = run_cli([*argv, "--out", os.path.join(fresh_dir(self), "run")])
            with self.subTest(argv=argv):
                self.assertEqual(status, 2, stderr)
                lines = stderr.strip().splitlines()
                self.assertLen(lines, 1, stderr)
                self.assertIn(expected, lines[0])
