"""Layers an inference twin puts in place of a trained model's for export: each is a subclass whose config
round-trips (`get_config`), swapped in by class when the twin is rebuilt (`convert.inference_twin`)."""
import keras
import tensorflow as tf

from rnnkit.models.layers import HashedNgramBag


def share_mean(vectors, weights):
    """The mean of `vectors` `(batch, slots, dim)` over the slots `weights` `(batch, slots)` marks, for int8.

    A sum of the vectors grows with the count, so its int8 range, calibrated on typical inputs, clips longer ones
    (the names bag from about 9 letters). Each slot's share (1 / count, the count pinned to an int8 grid of step 1)
    goes into one BATCH_MATMUL instead: it accumulates in int32 and its output has the mean's range at any count.
    """
    count = tf.maximum(tf.reduce_sum(weights, axis=1, keepdims=True), 1.0)
    count = tf.quantization.fake_quant_with_min_max_args(count, min=0.0, max=float(max(255, weights.shape[1])))
    return tf.matmul((weights / count)[:, None, :], vectors)[:, 0, :]


@keras.saving.register_keras_serializable(package="rnnkit_export")
class ShareMeanNgramBag(HashedNgramBag):
    """A HashedNgramBag that takes its mean as `share_mean` (int8 exports: a sum of vectors clips in int8)."""

    def call(self, tokens, training=False):
        """The bag's mean vector, as `share_mean` computes it."""
        ids, present = self.ngram_ids(tokens)
        return share_mean(self.table(ids), tf.cast(present, self.compute_dtype))


# What the int8 LiteRT export swaps in: class name → (class, extra config).
INT8_LAYERS = {"HashedNgramBag": (ShareMeanNgramBag, {})}
