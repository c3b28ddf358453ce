"""Model builders, masking, and saving round trips."""
import os
import tempfile

import keras
import numpy as np
import tensorflow as tf

from rnnkit.config import make_config
from rnnkit.models import build_optimizer
from rnnkit.tasks import TASKS


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
            path = os.path.join(tempfile.mkdtemp(), "model.keras")
            model.save(path)
            loaded = keras.saving.load_model(path, safe_mode=True)
            np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
