"""The synthetic data generators produce right answers."""
import numpy as np
import tensorflow as tf

from rnnkit.core.config import make_config
from rnnkit.core.errors import UsageError
from rnnkit.tasks import TASKS, get_task
from rnnkit.tasks.sequence import digits_to_int


def config(name, **overrides):
    return make_config(TASKS[name], overrides)


class AdderDataTest(tf.test.TestCase):
    def test_sums_equal_python_integer_addition(self):
        task, cfg = TASKS["adder"], config("adder")
        for length in (1, 2, 7, 40):
            x, y = task.make_arrays(cfg, np.random.default_rng(length), 200, length)
            self.assertEqual(x.shape, (200, length + 1, 2))
            self.assertEqual(y.shape, (200, length + 1))
            for i in range(200):
                a, b = digits_to_int(x[i, :, 0]), digits_to_int(x[i, :, 1])
                self.assertEqual(digits_to_int(y[i]), a + b)

    def test_carry_out_of_the_top_digit_and_length_one(self):
        task, cfg = TASKS["adder"], config("adder")
        x, y = task.make_arrays(cfg, np.random.default_rng(0), 2000, 1)
        self.assertTrue(np.all(x[:, -1, :] == 0), "the carry slot of the operands is zero")
        overflow = (x[:, 0, 0] + x[:, 0, 1]) >= 10
        self.assertTrue(overflow.any() and (~overflow).any())
        np.testing.assert_array_equal(y[:, 1], overflow.astype(int))
        np.testing.assert_array_equal(y[:, 0], (x[:, 0, 0] + x[:, 0, 1]) % 10)

    def test_splits_use_different_random_streams(self):
        task, cfg = TASKS["adder"], config("adder", length=12)
        train = next(iter(task.build_inputs(cfg, "train")))[0].numpy()
        test = next(iter(task.build_inputs(cfg, "test", n=64)))[0].numpy()
        self.assertFalse(np.array_equal(train, test))


class BinaryAddDataTest(tf.test.TestCase):
    def test_sums_equal_python_integer_addition(self):
        task = TASKS["binary_add"]
        for loss in ("bce", "ce"):
            cfg = config("binary_add", loss=loss)
            x, y = task.make_arrays(cfg, np.random.default_rng(1), 300, 6)
            for i in range(300):
                self.assertTrue(np.all(np.abs(x[i]) == 1), "bits are fed as -1/+1")
                a, b = digits_to_int(x[i, :, 0] > 0, 2), digits_to_int(x[i, :, 1] > 0, 2)
                self.assertEqual(digits_to_int(np.ravel(y[i]), 2), a + b)

    def test_range_of_train_lengths_gives_batches_of_each_length(self):
        task, cfg = TASKS["binary_add"], config("binary_add", train_len=(1, 4), batch_size=8)
        widths = {int(x.shape[1]) for x, _ in task.build_inputs(cfg, "train").take(60)}
        self.assertEqual(widths, {2, 3, 4, 5})


class AdderCurriculumTest(tf.test.TestCase):
    def test_default_training_length_depends_on_the_cell_and_never_exceeds_len(self):
        task = TASKS["adder"]
        got = {(cell, length): task.train_lengths(config("adder", cell=cell, length=length))
               for cell in ("rnn", "lstm", "gru") for length in (5, 100, 1000)}
        self.assertEqual(got, {("rnn", 5): [5], ("rnn", 100): [40], ("rnn", 1000): [40],
                               ("lstm", 5): [5], ("lstm", 100): [20], ("lstm", 1000): [20],
                               ("gru", 5): [5], ("gru", 100): [40], ("gru", 1000): [40]})
        self.assertEqual(task.train_lengths(config("adder", cell="gru", length=100, train_len=(7, 8))), [7, 8])
        cfg = config("adder", length=100, batch_size=4, cell="lstm")
        self.assertEqual({int(x.shape[1]) for x, _ in task.build_inputs(cfg, "train").take(3)}, {21})
        self.assertEqual(config("adder").cell, "rnn")  # the default cell trains on 40-digit sums
        self.assertEqual({int(x.shape[1]) for x, _ in task.build_inputs(config("adder", batch_size=4), "train")
                          .take(2)}, {41})
        self.assertEqual({int(x.shape[1]) for x, _ in task.build_inputs(config("adder", batch_size=4, cell="gru"),
                                                                        "train").take(2)}, {41})
        self.assertEqual({int(x.shape[1]) for x, _ in task.build_inputs(cfg, "test", n=8)}, {101})

    def test_the_default_rnn_clips_damps_and_trains_longer_the_gru_too_with_its_update_gate_shut(self):
        rnn = config("adder")
        self.assertEqual((rnn.clipnorm, rnn.epsilon, rnn.epochs, rnn.restarts, rnn.lr), (1.0, 1e-4, 30, 1, 1e-2))
        self.assertIsNone(rnn.update_gate_bias)
        gru = config("adder", cell="gru")
        self.assertEqual((gru.clipnorm, gru.epsilon, gru.epochs, gru.update_gate_bias), (1.0, 1e-4, 30, -10.0))
        lstm = config("adder", cell="lstm")
        self.assertEqual((lstm.clipnorm, lstm.epsilon, lstm.epochs, lstm.update_gate_bias), (None, None, 10, None))
        self.assertEqual(config("adder", cell="gru", epochs=4, clipnorm=2.0).clipnorm, 2.0)  # flags still win
        self.assertEqual(config("adder", cell="gru", update_gate_bias=0.0).update_gate_bias, 0.0)


class RecallDataTest(tf.test.TestCase):
    def test_label_is_kth_digit_and_padding_is_zero(self):
        task, cfg = TASKS["recall"], config("recall", k=3, min_len=3, max_len=9)
        x, y = task.make_arrays(cfg, np.random.default_rng(2), 500, 0)
        lengths = (x != 0).sum(axis=1)
        self.assertGreaterEqual(lengths.min(), 3)
        self.assertLessEqual(lengths.max(), 9)
        self.assertGreater(len(set(lengths)), 3, "one batch mixes lengths")
        np.testing.assert_array_equal(y, x[:, 2] - 1)
        for row, length in zip(x, lengths):
            self.assertTrue(np.all(row[:length] > 0) and np.all(row[length:] == 0))

    def test_k_must_fit_the_shortest_sequence(self):
        with self.assertRaisesRegex(UsageError, "--k"):
            get_task("recall").validate(config("recall", k=4, min_len=3))
        with self.assertRaisesRegex(UsageError, "--min-len"):
            get_task("recall").validate(config("recall", min_len=8, max_len=4))


class PalindromeDataTest(tf.test.TestCase):
    def test_hidden_digit_completes_a_palindrome(self):
        task = TASKS["palindrome"]
        for length in (2, 3, 10, 21):
            cfg = config("palindrome", length=length)
            x, y = task.make_arrays(cfg, np.random.default_rng(length), 100, length)
            self.assertEqual(x.shape, (100, length - 1))
            full = np.concatenate([x, y[:, None]], axis=1)
            np.testing.assert_array_equal(full, full[:, ::-1])


class RegistryTest(tf.test.TestCase):
    def test_unknown_task_lists_the_valid_names(self):
        with self.assertRaisesRegex(UsageError, "adder, binary_add, recall, palindrome"):
            get_task("subtractor")
