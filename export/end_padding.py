"""Masks that only pad the end of each sequence (rnnkit's token tasks), read without per-step masking.

TFLM's fused LSTM takes no mask, and blending every unrolled step by the mask costs ops in every step. Since
rnnkit pads only at the end, a recurrent layer can instead run over the padding and read each sequence at its
last real step. The backward pass of a bidirectional layer must meet the real steps reversed and the padding
after them (Keras' backward layer starts from a zero state at the last real step): TFLM has no
REVERSE_SEQUENCE, so that reordering is one permutation matrix per sequence, applied with a matmul.
"""
import numpy as np
import tensorflow as tf


def enter(sequences, mask, go_backwards):
    """(sequences in the order the loop reads them, last-step indicators or None, reversal or None)."""
    if mask is None:
        return (tf.reverse(sequences, axis=[1]) if go_backwards else sequences), None, None
    mask = mask[0] if isinstance(mask, (list, tuple)) else mask
    ends = tf.cast(last_step_indicators(tf.cast(mask, tf.int32)), sequences.dtype)  # integer ops: no requantizing
    if not go_backwards:
        return sequences, ends, None
    reversal = real_step_reversal(tf.cast(mask, sequences.dtype), ends)
    return tf.matmul(reversal, sequences), ends, reversal


def leave(last, outputs, ends, reversal, return_sequences):
    """(last output, outputs) as Keras' masked layer returns them, from a loop that ran over the padding."""
    if ends is None:
        return last, outputs
    last = tf.reduce_sum(outputs * tf.expand_dims(ends, -1), axis=1)  # one RESHAPE (indexing adds a slice)
    if reversal is not None and return_sequences:
        # Back to the real steps' order (the reversal is its own inverse), then flipped as Keras returns a
        # backward layer's outputs (Bidirectional flips them again). Padding steps hold values no masked layer
        # after this one reads.
        outputs = tf.reverse(tf.matmul(reversal, outputs), axis=[1])
    return last, outputs


def last_step_indicators(mask):
    """(batch, time): 1 at each sequence's last real step (a mask of 1s then 0s), else 0, in the mask's dtype."""
    return mask - tf.concat([mask[:, 1:], tf.zeros_like(mask[:, :1])], axis=1)


def real_step_reversal(mask, ends):
    """(batch, time, time) permutations that reverse each sequence's real steps and keep its padding after them.

    A real step `to` reads step `length - 1 - to`, i.e. the step `from` where `ends[to + from]` is 1 (a Hankel
    lookup of the indicators); a padding step reads itself. Applied with one matmul: slicing the sequence once per
    length instead left the int8 converter quantizing the LSTM after it not at all.
    """
    width = mask.shape[1]
    steps = np.arange(width)
    hankel = np.minimum(steps[:, None] + steps[None, :], width)  # width: the zero appended below
    padded = tf.concat([ends, tf.zeros_like(ends[:, :1])], axis=1)
    reads = tf.gather(padded, tf.constant(hankel, tf.int32), axis=1)  # (batch, to, from)
    real = tf.expand_dims(mask, -1)
    return real * reads + (1.0 - real) * tf.eye(width, dtype=mask.dtype)[None]
