"""Model builders, masking, and saving round trips."""
import os

import keras
import numpy as np
import tensorflow as tf

from rnnkit.core.config import make_config
from rnnkit.engine import evaluate
from rnnkit.models.builders import build_optimizer
from rnnkit.models.layers import HashedNgramBag
from rnnkit.tasks import TASKS
from rnnkit.tasks.names import encode
from tests.clitools import fresh_dir


def compiled(name, **overrides):
    task = TASKS[name]
    cfg = make_config(task, overrides)
    keras.utils.set_random_seed(cfg.seed)
    model = task.build_model(cfg)
    model.compile(optimizer=build_optimizer(cfg), loss=task.loss(cfg), metrics=task.metrics(cfg))
    return task, cfg, model


class RecurrentModelTest(tf.test.TestCase):
    def test_every_cell_stacked_and_bidirectional_builds_and_runs_any_length(self):
        for cell in ("rnn", "lstm", "gru"):
            for bidirectional in (False, True):
                _, _, model = compiled("adder", cell=cell, units=(4, 3), bidirectional=bidirectional, embed_dim=2)
                for length in (1, 9):
                    out = model(np.zeros((2, length + 1, 2), np.int32))
                    self.assertEqual(out.shape, (2, length + 1, 10))

    def test_one_step_changes_every_parameter(self):
        task, cfg, model = compiled("adder", length=3, units=(4, 4), embed_dim=3, batch_size=8)
        before = [w.numpy().copy() for w in model.trainable_weights]
        model.fit(task.build_inputs(cfg, "train"), epochs=1, steps_per_epoch=1, verbose=0)
        for old, new in zip(before, model.trainable_weights):
            self.assertFalse(np.allclose(old, new.numpy()), new.path)

    def test_hidden_size_one(self):
        _, _, model = compiled("binary_add", units=(1,))
        self.assertEqual(model(np.zeros((1, 6, 2), np.float32)).shape, (1, 6, 1))


class MaskingTest(tf.test.TestCase):
    def test_padding_never_reaches_the_answer(self):
        task, cfg, model = compiled("recall", units=(6, 5), embed_dim=4, bidirectional=True)
        x, _ = task.make_arrays(cfg, np.random.default_rng(0), 16, 0)
        reference = model.predict(x, verbose=0)
        wider = np.pad(x, ((0, 0), (0, 7)))  # seven more padding steps
        np.testing.assert_allclose(model.predict(wider, verbose=0), reference, atol=1e-6)
        # A different mix of lengths in the same batch gives each row the same answer.
        single = np.concatenate([model.predict(row[None, : int((row > 0).sum())], verbose=0) for row in x])
        np.testing.assert_allclose(single, reference, atol=1e-5)


class SaveLoadTest(tf.test.TestCase):
    def test_reloaded_model_predicts_the_same(self):
        for name in ("adder", "binary_add", "recall", "palindrome"):
            task, cfg, model = compiled(name, units=(5,))
            x, _ = task.make_arrays(cfg, np.random.default_rng(0), 4, task.main_length(cfg) or 0)
            path = os.path.join(fresh_dir(self), "model.keras")
            model.save(path)
            loaded = keras.saving.load_model(path, safe_mode=True)
            np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


class NgramBagTest(tf.test.TestCase):
    def test_bag_averages_the_table_rows_of_each_names_marked_ngrams(self):
        layer = HashedNgramBag(vocab_size=5, orders=(1, 2), dim=3)  # tokens 1..4; 5 marks the start, 6 the end
        out = layer(np.array([[1, 2, 0, 0], [3, 0, 0, 0]], np.int32)).numpy()
        table = layer.table.embeddings.numpy()
        bigram = lambda a, b: 7 + a + 7 * b  # noqa: E731  (after the 7 unigram rows, numbered in base 7)
        first = [5, 1, 2, 6, bigram(5, 1), bigram(1, 2), bigram(2, 6)]  # ^ a b $ ^a ab b$
        second = [5, 3, 6, bigram(5, 3), bigram(3, 6)]
        self.assertAllClose(out, np.stack([table[first].mean(0), table[second].mean(0)]), atol=1e-6)

    def test_orders_beyond_the_buckets_fold_into_them(self):
        layer = HashedNgramBag(vocab_size=57, orders=(3, 4), dim=2, buckets=101)
        self.assertEqual(layer.table.input_dim, 202)
        x = encode(["Papadopoulos", "Li", "Nguyen"])
        self.assertEqual(layer(x).shape, (3, 2))  # a code past 202 rows would fail the lookup
        self.assertFalse(np.allclose(layer(x[:1]), layer(x[1:2])))

    def test_ngram_dropout_acts_in_training_only(self):
        keras.utils.set_random_seed(0)
        layer = HashedNgramBag(vocab_size=57, orders=(1, 2, 3), dim=4, dropout=0.5, seed=1)
        x = encode(["Papadopoulos", "Nguyen"])
        plain = HashedNgramBag.from_config({**layer.get_config(), "dropout": 0.0})
        layer.build(x.shape)
        plain.build(x.shape)
        plain.table.embeddings.assign(layer.table.embeddings)
        self.assertAllClose(layer(x, training=False), plain(x))
        self.assertNotAllClose(layer(x, training=True), plain(x))

    def test_names_model_with_ngrams_reloads_and_predicts_the_same(self):
        _, cfg, model = compiled("names", units=(5,), embed_dim=4, ngrams=(1, 2, 3))
        self.assertEqual(model.get_layer("ngram_bag").orders, (1, 2, 3))
        x = encode(["Li", "Nguyen", "Papadopoulos"])
        path = os.path.join(fresh_dir(self), "model.keras")
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
        np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
        _, _, plain = compiled("names", units=(5,), embed_dim=4, ngrams=())
        self.assertNotIn("ngram_bag", [layer.name for layer in plain.layers])


class PredictTest(tf.test.TestCase):
    def test_one_batch_and_many_batches_answer_as_keras_predict(self):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((5,), dtype="int32")
        hidden = keras.layers.GRU(4)(keras.layers.Embedding(10, 3)(inputs))
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(hidden))
        x = np.random.default_rng(0).integers(0, 10, (7, 5)).astype(np.int32)
        expected = model.predict(x, verbose=0, batch_size=4)
        for batch_size in (7, 16, 3):  # one batch (straight to the predict step), then three batches
            with self.subTest(batch_size=batch_size):
                got = evaluate.predict(model, x, batch_size)
                self.assertIsInstance(got, np.ndarray)
                self.assertAllClose(got, expected, atol=1e-6, rtol=0)
