"""The seed reports' optimizer settings: Adam's betas, PyTorch's coupled weight decay, no clipping, the plateau."""
import csv
import json
import os

import keras
import numpy as np
import tensorflow as tf

import rnnkit
from rnnkit.core import codecs, flags
from rnnkit.core.errors import UsageError
from rnnkit.engine import steps
from rnnkit.models.builders import RnnkitModel, build_optimizer
from rnnkit.tasks import TASKS
from rnnkit.train import main as train_main
from rnnkit.training import compiled_model, plateau_callback
from tests.clitools import call, fresh_dir
from tuning import space


def one_layer(seed=0):
    """A 3 → 2 softmax layer with bias, as an RnnkitModel (rnnkit's shared train step)."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((3,))
    return RnnkitModel(inputs, keras.layers.Dense(2, activation="softmax")(inputs))


def stepped(model, x, y):
    """(weights before, plain loss gradients) of one rnnkit train step on (x, y), which `model` then takes."""
    before = [v.numpy().copy() for v in model.trainable_variables]
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, model(x)))
    gradients = [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]
    steps.train_step(model, (x, y))
    return before, gradients


class CoupledWeightDecayTest(tf.test.TestCase):
    def test_one_sgd_step_is_pytorchs_update_with_the_l2_gradient_added(self):
        x = np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]], np.float32)
        y = np.array([1, 0])
        lr, decay = 0.1, 0.01
        model = one_layer()
        model.compile(optimizer=keras.optimizers.SGD(lr), loss="sparse_categorical_crossentropy")
        model.coupled_weight_decay = decay
        before, gradients = stepped(model, x, y)
        for old, gradient, variable in zip(before, gradients, model.trainable_variables):
            # torch.optim.SGD(weight_decay=decay): d_p = grad + decay * p; p -= lr * d_p (biases included)
            self.assertAllClose(variable.numpy(), old - lr * (gradient + decay * old), atol=1e-6, rtol=0)

    def test_adams_first_step_divides_the_decayed_gradient_as_pytorch_does(self):
        x = np.array([[0.5, -1.0, 2.0]], np.float32)
        y = np.array([1])
        lr, decay, epsilon = 0.01, 0.5, 1e-8
        model = one_layer(1)
        model.compile(optimizer=keras.optimizers.Adam(lr, epsilon=epsilon), loss="sparse_categorical_crossentropy")
        model.coupled_weight_decay = decay
        before, gradients = stepped(model, x, y)
        for old, gradient, variable in zip(before, gradients, model.trainable_variables):
            decayed = gradient + decay * old  # torch.optim.Adam(weight_decay=decay) adds this before the moments
            # First step, bias-corrected: m̂ = g', v̂ = g'², so p -= lr · g' / (|g'| + ε).
            expected = old - lr * decayed / (np.abs(decayed) + epsilon)
            self.assertAllClose(variable.numpy(), expected, atol=1e-5, rtol=0)

    def test_the_flag_reaches_the_model_and_config_json(self):
        cfg = rnnkit.configure("moons", coupled_weight_decay=0.01, epochs=1)
        self.assertEqual(compiled_model(cfg).coupled_weight_decay, 0.01)
        self.assertEqual(compiled_model(rnnkit.configure("moons")).coupled_weight_decay, 0.0)
        parsed = flags.build_parser().parse_args(["--task", "moons", "--coupled-weight-decay", "1e-4"])
        self.assertEqual(parsed.coupled_weight_decay, 1e-4)
        out = os.path.join(fresh_dir(self), "run")
        status, _, err = call(train_main, ["--task", "moons", "--epochs", "1", "--steps-per-epoch", "2",
                                           "--coupled-weight-decay", "0.01", "--optimizer", "adam", "--beta1", "0.8",
                                           "--beta2", "0.99", "--show-samples", "0", "--out", out])
        self.assertEqual(status, 0, err)
        with open(os.path.join(out, "config.json")) as handle:
            saved = json.load(handle)
        self.assertEqual((saved["coupled_weight_decay"], saved["beta_1"], saved["beta_2"]), (0.01, 0.8, 0.99))


class AdamBetasTest(tf.test.TestCase):
    def test_betas_reach_adam_and_are_refused_for_other_optimizers(self):
        optimizer = build_optimizer(rnnkit.configure("recall", beta_1=0.8, beta_2=0.99))
        self.assertAllClose((optimizer.beta_1, optimizer.beta_2), (0.8, 0.99))
        plain = build_optimizer(rnnkit.configure("recall"))
        self.assertAllClose((plain.beta_1, plain.beta_2), (0.9, 0.999))  # Keras' (and PyTorch's) defaults
        with self.assertRaisesRegex(UsageError, "--beta1 / --beta2 apply to --optimizer adam, not sgd"):
            rnnkit.configure("recall", optimizer="sgd", beta_2=0.99)
        status, _, err = call(train_main, ["--task", "recall", "--beta2", "1.5"])
        self.assertEqual((status, err.count("\n")), (2, 1), err)

    def test_the_tuner_can_search_them(self):
        parsed = space.parse_space(["beta_2=0.99,0.999", "coupled_weight_decay=0,0.0001"])
        cfg = space.apply(rnnkit.configure("recall"), {"beta_2": 0.99, "coupled_weight_decay": 1e-4})
        self.assertEqual(parsed["beta_2"], [0.99, 0.999])
        self.assertEqual((cfg.beta_2, cfg.coupled_weight_decay), (0.99, 1e-4))
        with self.assertRaisesRegex(UsageError, "outside"):
            space.parse_space(["beta_1=1.5"])


class ClippingAndPlateauTest(tf.test.TestCase):
    def test_no_clipnorm_turns_off_a_task_default(self):
        self.assertEqual(rnnkit.configure("palindrome").clipnorm, 10.0)  # the seed report's max_norm
        cfg = rnnkit.configure("palindrome", clipnorm=None)
        self.assertIsNone(cfg.clipnorm)
        self.assertIsNone(build_optimizer(cfg).clipnorm)
        parsed = flags.build_parser().parse_args(["--task", "palindrome", "--no-clipnorm"])
        self.assertIsNone(parsed.clipnorm)

    def test_plateau_factor_patience_and_floor_reach_the_callback(self):
        cfg = rnnkit.configure("adder", lr_schedule="plateau", lr=0.02, plateau_factor=0.2, plateau_patience=5,
                               plateau_min_lr=0.001)
        callback = plateau_callback(cfg, verbose=0)
        self.assertAllClose((callback.factor, callback.patience, callback.min_lr), (0.2, 5, 0.001))
        default = plateau_callback(rnnkit.configure("adder", lr_schedule="plateau", lr=0.02), verbose=0)
        self.assertAllClose((default.factor, default.patience, default.min_lr), (0.5, 3, 0.02 / 64))
        with self.assertRaisesRegex(UsageError, "apply to --lr-schedule plateau"):
            rnnkit.configure("adder", lr_schedule="none", plateau_factor=0.2)


class TrainSamplesTest(tf.test.TestCase):
    def test_a_fixed_training_set_is_cycled_one_pass_an_epoch(self):
        cfg = rnnkit.configure("recall", train_samples=40, batch_size=16, units=(4,), epochs=2)
        task = TASKS["recall"]
        self.assertEqual(task.epoch_steps(cfg), 3)  # ceil(40 / 16)
        seen = [tuple(row) for x, _ in task.build_inputs(cfg, "train").take(12) for row in x.numpy()]
        self.assertLen(seen, 12 * 16)  # the set repeats: batches never run out
        self.assertLen(set(seen), 40)  # and it is the same 40 examples
        self.assertEqual(cfg.to_dict()["train_samples"], 40)
        fresh = rnnkit.configure("recall", batch_size=16, units=(4,), epochs=2, steps_per_epoch=3)
        rows = [tuple(row) for x, _ in task.build_inputs(fresh, "train").take(6) for row in x.numpy()]
        self.assertGreater(len(set(rows)), 90)  # without it: a fresh example for (almost) every draw of the run

    def test_bad_train_samples_are_refused(self):
        with self.assertRaisesRegex(UsageError, "train_samples must be in"):
            rnnkit.configure("adder", train_samples=0)
        with self.assertRaisesRegex(UsageError, "--train-samples does not apply to task mnist"):
            rnnkit.configure("mnist", train_samples=10)


class BitInputsTest(tf.test.TestCase):
    def test_bits_are_fed_centred_or_as_0_and_1_and_predict_encodes_them_alike(self):
        task = TASKS["binary_add"]
        rng = np.random.default_rng(0)
        for setting, values in (("pm1", {-1.0, 1.0}), ("01", {0.0, 1.0})):
            cfg = rnnkit.configure("binary_add", bit_inputs=setting)
            x, _ = task.make_arrays(cfg, rng, 8, 5)
            self.assertEqual(set(np.unique(x)), values)
            metadata = {"codec": "binary_add", "input": {"shape": [1, -1, 2], **task.codec_info(cfg)},
                        "labels": ["0", "1"]}
            self.assertEqual(set(np.unique(codecs.encode(metadata, "1011+110"))), values)
        with self.assertRaisesRegex(UsageError, "bit_inputs must be one of"):
            rnnkit.configure("binary_add", bit_inputs="bool")


class DigitInputTest(tf.test.TestCase):
    def test_a_palindrome_digit_can_be_read_as_one_number_per_step(self):
        model = compiled_model(rnnkit.configure("palindrome", digit_input="number", units=(4,)))
        self.assertFalse([layer for layer in model.layers if isinstance(layer, keras.layers.Embedding)])
        self.assertEqual(model.get_layer("token_values").compute_output_shape((None, 7)), (None, 7, 1))
        self.assertEqual(model.get_layer("rnn_1").input.shape[-1], 1)  # one feature a step reaches the RNN
        tokens = np.array([[3, 1, 4]], np.int32)
        self.assertAllEqual(model.get_layer("token_values")(tokens), [[[3.0], [1.0], [4.0]]])
        embedded = compiled_model(rnnkit.configure("palindrome", units=(4,)))
        self.assertIsInstance(embedded.get_layer("embedding"), keras.layers.Embedding)


class ToySetOptionsTest(tf.test.TestCase):
    def test_size_noise_and_split_reach_the_generated_points(self):
        task = TASKS["moons"]
        default = task.splits(rnnkit.configure("moons"))
        self.assertEqual(sum(len(split[1]) for split in (default.train, default.val, default.test)), 1000)
        self.assertLen(default.test[1], 200)  # the seed's 80 / 20
        small = task.splits(rnnkit.configure("moons", samples=200, test_fraction=0.5))
        self.assertLen(small.test[1], 100)
        self.assertEqual(len(small.train[1]) + len(small.val[1]), 100)
        clean, noisy = (task.splits(rnnkit.configure("moons", noise=value)).train[0] for value in (0.0, 0.3))
        self.assertGreater(np.abs(noisy - clean).max(), 0.1)  # the same points, jittered
        self.assertEqual(rnnkit.configure("circles").noise, 0.05)  # each set keeps its own default
        with self.assertRaisesRegex(UsageError, "samples must be in"):
            rnnkit.configure("moons", samples=5)


class LogEveryTest(tf.test.TestCase):
    def test_every_n_steps_train_and_test_figures_are_logged_without_changing_training(self):
        root = fresh_dir(self)
        flags = ["--task", "recall", "--units", "4", "--embed-dim", "2", "--epochs", "2", "--steps-per-epoch", "10",
                 "--val-samples", "32", "--test-samples", "64", "--eval-lens", "5", "--stress-samples", "2"]
        for name, extra in (("plain", []), ("logged", ["--log-every", "5"])):
            status, _, err = call(train_main, [*flags, *extra, "--out", os.path.join(root, name)])
            self.assertEqual(status, 0, err)
        with open(os.path.join(root, "logged", "steps.csv")) as handle:
            rows = list(csv.DictReader(handle))
        self.assertEqual([(int(r["step"]), int(r["epoch"])) for r in rows], [(5, 1), (10, 1), (15, 2), (20, 2)])
        self.assertTrue(all(0.0 <= float(r["test_accuracy"]) <= 1.0 and float(r["test_loss"]) > 0 for r in rows))
        for name in ("steps.png", os.path.join("tensorboard", "steps")):
            self.assertTrue(os.path.exists(os.path.join(root, "logged", name)), name)
        for name in ("history.csv", "metrics.json"):  # scoring the test examples changed no training figure
            with open(os.path.join(root, "plain", name)) as a, open(os.path.join(root, "logged", name)) as b:
                first, second = a.read(), b.read()
            if name == "metrics.json":
                first, second = ({k: v for k, v in json.loads(text).items() if k != "train_seconds"}
                                 for text in (first, second))
            self.assertEqual(first, second, name)
        status, _, err = call(train_main, [*flags, "--log-every", "5", "--strategy", "mirrored",
                                           "--out", os.path.join(root, "never")])
        self.assertEqual((status, err.count("\n")), (2, 1))
        self.assertIn("--log-every runs on one device", err)
