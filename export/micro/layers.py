"""Layers the micro twin puts in place of a trained model's so that TFLM's kernels run them (see
`export.twin_layers`: subclasses whose config round-trips, swapped in by class)."""
import functools

import keras
import tensorflow as tf

from export.twin_layers import ShareMeanNgramBag, share_mean


@keras.saving.register_keras_serializable(package="rnnkit_export")
class PlainLookupEmbedding(keras.layers.Embedding):
    """An Embedding that gathers without Keras' negative-index wrap (LESS, ADD, SELECT on int32: TFLM's
    SELECT_V2 cannot run it); token ids are never negative."""

    def call(self, inputs):
        """The rows of `inputs`' token ids."""
        return tf.gather(self.embeddings, tf.cast(inputs, "int32"))


@keras.saving.register_keras_serializable(package="rnnkit_export")
class IntegerNgramBag(ShareMeanNgramBag):
    """The n-gram bag (rnnkit.models.layers.HashedNgramBag) in integer arithmetic TFLM runs.

    The layer's own call marks the name's end with `where(arange == length + 1)`, which the converter turns into
    ONE_HOT (no TFLM kernel), chooses ids with an int32 SELECT and folds them with FLOOR_MOD (TFLM's SELECT_V2,
    SUM and FLOOR_MOD take no int32). Here the end marker is where a real symbol meets the padding (a difference
    of neighbours; names pad only at the end), absent n-grams are multiplied by 0 and the fold is a long
    division; the answer is the same. The mean is `share_mean`'s, as in the int8 LiteRT export: the
    layer's sum of vectors clipped in int8 from about 9 letters on (a GRU's class probabilities up to 0.66 off).
    """

    def call(self, tokens, training=False):
        """The bag's mean vector, from integer n-gram ids."""
        tokens = tf.cast(tokens, tf.int32)
        width = tokens.shape[1] + 2
        edge = tf.zeros_like(tokens[:, :1])
        real = tf.concat([edge + 1, tf.minimum(tokens, 1), edge], axis=1)  # the start marker and letters: 1
        is_end = tf.concat([edge, real[:, :-1] - real[:, 1:]], axis=1)  # 1 where a real symbol meets padding
        marked = tf.concat([edge + self.base - 2, tokens, edge], axis=1) + is_end * (self.base - 1)
        ids, present = [], []
        for n, offset in zip(self.orders, self.offsets):
            windows = [marked[:, k: width - n + 1 + k] for k in range(n)]
            code = functools.reduce(tf.add, [window * self.base**k for k, window in enumerate(windows)])
            if self.base**n > self.buckets:
                code = _remainder(code, self.buckets, self.base**n - 1)
            ids.append(code + offset)
            present.append(functools.reduce(tf.minimum, [tf.minimum(window, 1) for window in windows]))
        present = tf.concat(present, axis=1)
        vectors = tf.gather(self.table.embeddings, tf.concat(ids, axis=1) * present)
        return share_mean(vectors, tf.cast(present, self.compute_dtype))


def _remainder(values, modulus, largest):
    """`values % modulus` for int32 values in [0, largest] by binary long division: TFLM's FLOOR_MOD, DIV and SUM
    take no int32, its comparisons, CAST, MUL and SUB do."""
    for bit in reversed(range((largest // modulus).bit_length())):
        step = modulus << bit
        values = values - step * tf.cast(values >= step, tf.int32)
    return values
