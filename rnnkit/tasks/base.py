"""The small interface every task implements, plus the tf.data plumbing the synthetic tasks share."""
import keras
import numpy as np
import tensorflow as tf

from rnnkit.errors import UsageError
from rnnkit.metrics import classification_metrics

# Seeds for the three splits are derived from --seed so that they never share a random stream.
SPLIT_OFFSETS = {"train": 0, "val": 1_000_003, "test": 2_000_029}
TRAIN_POSITIONS = 20_000_000


class Task:
    """A named problem: its data, default model, loss, metrics and how to show one sample.

    Subclasses set `name`, `summary`, `defaults` (config overrides) and `flags` (the task-specific
    config fields the task reads), and implement `make_arrays`, `build_model`, `loss`, `metrics`,
    `decode` and `render`.
    """

    name = ""
    summary = ""
    defaults = {}
    flags = ()

    # ----- configuration -------------------------------------------------------------------------
    def validate(self, cfg):
        """Raise UsageError when `cfg` asks for something this task cannot do."""

    def main_length(self, cfg):
        """The length the task is trained for and tested at."""
        return cfg.length

    def train_lengths(self, cfg):
        """Sequence lengths drawn from during training."""
        return [self.main_length(cfg)]

    def eval_lengths(self, cfg):
        """Lengths reported in metrics.json's `by_length`, ascending."""
        return sorted({self.main_length(cfg), *cfg.eval_lens})

    def length_label(self, cfg, length):
        """How a length is named in reports and metrics.json."""
        return str(length)

    # ----- data ----------------------------------------------------------------------------------
    def make_arrays(self, cfg, rng, n, length):
        """`n` examples of the given length as NumPy `(x, y)`."""
        raise NotImplementedError

    def build_inputs(self, cfg, split, length=None, n=None):
        """A batched, prefetched tf.data pipeline for `split` ('train' repeats forever, shuffled)."""
        rng = np.random.default_rng(cfg.seed + SPLIT_OFFSETS[split])
        if split != "train":
            length = self.main_length(cfg) if length is None else length
            n = cfg.val_samples if split == "val" else (cfg.test_samples if n is None else n)
            x, y = self.make_arrays(cfg, rng, n, length)
            batch = eval_batch_size(cfg, length)
            return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch).prefetch(tf.data.AUTOTUNE)
        lengths = self.train_lengths(cfg)
        # About one fresh example per training draw, but at most TRAIN_POSITIONS positions in memory.
        widths = [length or cfg.max_len for length in lengths]  # recall's mixed pool (0) is --max-len wide
        wanted = -(-min(cfg.epochs * cfg.steps_per_epoch * cfg.batch_size, 200_000) // len(lengths))
        count = max(cfg.batch_size, min(wanted, TRAIN_POSITIONS // sum(widths)))
        per_length = []
        for length in lengths:
            x, y = self.make_arrays(cfg, rng, count, length)
            ds = tf.data.Dataset.from_tensor_slices((x, y))
            ds = ds.shuffle(min(len(x), 20_000), seed=cfg.seed, reshuffle_each_iteration=True).repeat()
            per_length.append(ds.batch(cfg.batch_size, drop_remainder=True))
        if len(per_length) == 1:
            return per_length[0].prefetch(tf.data.AUTOTUNE)
        # Each batch has one length, chosen at random: no padding is needed for per-position tasks.
        choice = tf.data.Dataset.random(seed=cfg.seed).map(lambda r: tf.cast(r % len(per_length), tf.int64))
        return tf.data.Dataset.choose_from_datasets(per_length, choice).prefetch(tf.data.AUTOTUNE)

    # ----- model and objective ---------------------------------------------------------------------
    def build_model(self, cfg):
        """The task's default Keras model for `cfg`."""
        raise NotImplementedError

    def loss(self, cfg):
        """The loss to train with."""
        raise NotImplementedError

    def metrics(self, cfg):
        """Keras metrics reported during training; must include `accuracy` and `exact_match`."""
        raise NotImplementedError

    def decode(self, cfg, y_pred):
        """Model outputs (NumPy) → predicted labels with the shape of `y`."""
        raise NotImplementedError

    def render(self, cfg, x, y_true, y_pred):
        """One example as a line of text, e.g. `31415 + 27182 = 58597`."""
        raise NotImplementedError


class DigitClassificationTask(Task):
    """A task whose head is a 10-way softmax (per position or per sequence) trained with cross-entropy."""

    def loss(self, cfg):
        """Sparse categorical cross-entropy."""
        return keras.losses.SparseCategoricalCrossentropy()

    def metrics(self, cfg):
        """Accuracy and exact match for a softmax head."""
        return classification_metrics("softmax")

    def decode(self, cfg, y_pred):
        """Most likely class."""
        return np.argmax(y_pred, axis=-1)


def eval_batch_size(cfg, length):
    """A batch size that keeps evaluation at long lengths within memory (about 2M positions a batch)."""
    return int(max(1, min(1000, 2_000_000 // max(1, length))))


def require(condition, message):
    """Raise UsageError(message) unless `condition` holds."""
    if not condition:
        raise UsageError(message)


def digits_to_int(digits, base=10):
    """Least-significant-first digit sequence → Python int."""
    return sum(int(d) * base**i for i, d in enumerate(digits))


def add_digits(a, b, base):
    """Digit-wise sum of LSB-first operand arrays `(n, L)` with one extra carry position → `(n, L+1)`."""
    n, length = a.shape
    out = np.zeros((n, length + 1), dtype=np.int32)
    carry = np.zeros(n, dtype=np.int32)
    for i in range(length):
        total = a[:, i] + b[:, i] + carry
        out[:, i], carry = total % base, total // base
    out[:, length] = carry
    return out
