"""The three loops share one step and give the same weights; a tiny adder really learns."""
import keras
import numpy as np
import tensorflow as tf

from rnnkit.core.config import make_config
from rnnkit.engine import steps
from rnnkit.engine.evaluate import evaluate
from rnnkit.tasks import TASKS
from rnnkit.training import compiled_model, fit_model


class LoopEquivalenceTest(tf.test.TestCase):
    def test_fit_eager_and_function_loops_give_the_same_weights(self):
        base = make_config(TASKS["adder"], dict(length=4, units=(6, 5), embed_dim=3, epochs=2, steps_per_epoch=3,
                                                batch_size=8, val_samples=16, lr=1e-2, seed=7))
        results = {loop: fit_model(base.replace(loop=loop)) for loop in ("fit", "eager", "function")}
        reference_model, reference_history = results["fit"]
        for loop in ("eager", "function"):
            model, history = results[loop]
            for expected, got in zip(reference_model.get_weights(), model.get_weights()):
                self.assertAllClose(expected, got, atol=1e-6, rtol=1e-5, msg=loop)
            self.assertAllClose(reference_history["loss"], history["loss"], atol=1e-6, msg=loop)
            self.assertAllClose(reference_history["val_exact_match"], history["val_exact_match"], msg=loop)

    def test_built_step_state_means_one_trace(self):
        task = TASKS["adder"]
        cfg = make_config(task, dict(length=3, units=(4,), embed_dim=2, batch_size=4))
        counts = {}
        for prebuilt in (False, True):
            model = compiled_model(cfg)
            dataset = task.build_inputs(cfg, "train")
            if prebuilt:
                steps.build_step_state(model, dataset.element_spec)
            step = tf.function(lambda batch, model=model: steps.train_step(model, batch))
            for batch in dataset.take(2):
                step(batch)
            counts[prebuilt] = step.experimental_get_tracing_count()
            keras.backend.clear_session()
        self.assertEqual(counts, {False: 2, True: 1})  # unbuilt: variables made on the first call force a retrace

    def test_different_seeds_give_different_weights(self):
        base = make_config(TASKS["adder"], dict(length=4, units=(6,), embed_dim=3, epochs=1, steps_per_epoch=2,
                                                batch_size=8, val_samples=16))
        first, _ = fit_model(base.replace(seed=1))
        second, _ = fit_model(base.replace(seed=2))
        self.assertFalse(np.allclose(first.get_weights()[0], second.get_weights()[0]))


class LearningTest(tf.test.TestCase):
    def test_tiny_adder_really_learns(self):
        # The default adder's recipe (a vanilla RNN, clipped gradients, half the sums carry-chain enriched) at a tiny
        # size. The GRU default before it needed 600-1 000 steps here, by machine (CPU kernels round differently:
        # 600 steps gave 94.6% exact on one 2-core box, 1 000 gave 100%); the old LSTM on random sums alone, 300.
        cfg = make_config(TASKS["adder"], dict(length=6, units=(32,), embed_dim=8, epochs=10, steps_per_epoch=100,
                                               batch_size=32, val_samples=200, test_samples=500, seed=0))
        model, history = fit_model(cfg)
        adder = TASKS["adder"]
        result = evaluate(model, adder.build_inputs(cfg, "test", length=6, n=500))
        self.assertGreaterEqual(result["exact_match"], 0.95)
        self.assertLess(history["loss"][-1], history["loss"][0] / 10)
        # The same model, never trained at length 20, still adds there.
        self.assertGreaterEqual(evaluate(model, adder.build_inputs(cfg, "test", length=20, n=200))["accuracy"], 0.95)


class UnrolledTrainingTest(tf.test.TestCase):
    def test_unrolled_step_has_no_loop_and_matches_the_looped_step(self):
        task = TASKS["adder"]
        cfg = make_config(task, dict(length=5, units=(4, 3), embed_dim=2, batch_size=8, bidirectional=True))
        batch = next(iter(task.build_inputs(cfg, "train")))
        results = {}
        for unroll in (False, True):
            keras.utils.set_random_seed(3)
            model = compiled_model(cfg.replace(unroll=unroll))
            steps.build_step_state(model, batch)
            step = tf.function(lambda data, model=model: steps.train_step(model, data))
            ops = {op.type for op in step.get_concrete_function(batch).graph.get_operations()}
            ops |= {node.op for f in step.get_concrete_function(batch).graph.as_graph_def().library.function
                    for node in f.node_def}
            logs = step(batch)
            results[unroll] = (any("While" in op for op in ops), float(logs["loss"]), model.get_weights())
            recurrent = steps.recurrent_layers(model)
            self.assertLen(recurrent, 4)  # two bidirectional layers: forward and backward each
            self.assertFalse(any(layer.unroll for layer in recurrent), "unroll is restored after the step")
            self.assertFalse(model.get_config()["layers"][3]["config"]["layer"]["config"]["unroll"])
        self.assertEqual((results[False][0], results[True][0]), (True, False))
        self.assertAllClose(results[False][1], results[True][1], atol=1e-6)
        for looped, unrolled in zip(results[False][2], results[True][2]):
            self.assertAllClose(looped, unrolled, atol=1e-5)

    def test_unroll_trains_short_and_evaluates_long(self):
        cfg = make_config(TASKS["adder"], dict(length=12, train_len=(4, 4), units=(8,), embed_dim=4, epochs=1,
                                               steps_per_epoch=3, batch_size=8, val_samples=16, unroll=True))
        model, history = fit_model(cfg)
        self.assertTrue(model.unroll_training)
        self.assertEqual(len(history["val_exact_match"]), 1)  # validation ran at 13 positions, through the loop
        self.assertEqual(model.predict(np.zeros((2, 40, 2), np.int32), verbose=0).shape, (2, 40, 10))
