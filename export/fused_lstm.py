"""LSTM layers that the TFLite converter fuses into one UNIDIRECTIONAL_SEQUENCE_LSTM op.

The converter turns a function whose `api_implements` attribute starts with "lstm_" into the fused op when
its arguments are (inputs, initial h, initial c, kernel, recurrent kernel, bias) with static shapes and only
its first two results (last output, full sequence) are used: the contract Keras 2's LSTM kept and Keras 3's
does not (LiteRT#41), so a Keras 3 LSTM converts to its unrolled gate arithmetic. `FusedLSTM` is an LSTM whose
loop calls such a function; the micro export's inference twin swaps it in for every LSTM. The function only survives
to the converter through a SavedModel (freezing a concrete function inlines it), so `convert` goes through one.
The fused op stores each weight matrix once and runs the whole sequence in one kernel, which TFLite Micro has.
"""
import keras
import numpy as np
import tensorflow as tf

from rnnkit.errors import UsageError

API_NAME = "lstm_rnnkit_fused"  # the prefix "lstm_" is what the converter matches


def _lstm_sequence(inputs, init_h, init_c, kernel, recurrent_kernel, bias):
    """Keras' LSTM (sigmoid gates, tanh, gate order i, f, c, o) over a batch-major sequence; 5 results."""
    def step(state, x):
        h, c = state
        z = tf.matmul(x, kernel) + tf.matmul(h, recurrent_kernel) + bias
        i, f, g, o = tf.split(z, 4, axis=1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        return tf.sigmoid(o) * tf.tanh(c), c

    hs, cs = tf.scan(step, tf.transpose(inputs, [1, 0, 2]), initializer=(init_h, init_c))
    outputs = tf.transpose(hs, [1, 0, 2])
    return outputs[:, -1], outputs, hs[-1], cs[-1], tf.zeros([])


# The converter reads `time_major` and `go_backwards` from the function's attributes (as "tf.time_major" …).
fused_sequence = tf.function(_lstm_sequence, autograph=False, experimental_attributes={
    "api_implements": API_NAME, "api_preferred_device": "CPU", "time_major": False, "go_backwards": False})


@keras.saving.register_keras_serializable(package="rnnkit_export")
class FusedLSTM(keras.layers.LSTM):
    """An LSTM for inference export: the loop is one fusable function call.

    The fused op takes no mask. A mask that only pads the end of each sequence (rnnkit's token tasks) is honoured:
    the last output is read at each sequence's last real step, and the backward pass of a bidirectional layer
    reads the real steps reversed, padding after them.
    """

    @staticmethod
    def fits(layer_config):
        """Whether an LSTM config is the fused op's LSTM: tanh, sigmoid gates, a bias."""
        return (layer_config.get("activation", "tanh") == "tanh"
                and layer_config.get("recurrent_activation", "sigmoid") == "sigmoid"
                and layer_config.get("use_bias", True))

    def inner_loop(self, sequences, initial_state, mask, training=False):
        """(last output, full sequence, [h, c]) from the fusable function."""
        if training:
            raise UsageError("FusedLSTM is for inference export only")
        batch, units = sequences.shape[0], self.cell.units
        if batch is None:
            raise UsageError("the fused LSTM needs a static batch size")
        ends = reversal = None
        if mask is not None:
            if sequences.shape[1] is None:
                raise UsageError("a masked LSTM becomes the fused op only at a fixed length")
            mask = tf.cast(mask, sequences.dtype)
            ends = last_step_indicators(mask)
            if self.go_backwards:
                reversal = real_step_reversal(mask, ends)
                sequences = tf.matmul(reversal, sequences)
        elif self.go_backwards:
            sequences = tf.reverse(sequences, axis=[1])
        h0, c0 = (tf.reshape(state, (batch, units)) for state in initial_state)
        weights = (tf.convert_to_tensor(w) for w in (self.cell.kernel, self.cell.recurrent_kernel, self.cell.bias))
        last, outputs, h, c, _ = fused_sequence(sequences, h0, c0, *weights)
        if ends is not None:
            last = h = tf.reduce_sum(outputs * ends[:, :, None], axis=1)
            if reversal is not None and self.return_sequences:
                # Back to the real steps' order (the reversal is its own inverse), then flipped as Keras returns a
                # backward layer's outputs (Bidirectional flips them again). Padding steps hold values no masked
                # layer after this one reads.
                outputs = tf.reverse(tf.matmul(reversal, outputs), axis=[1])
        return last, outputs, [h, c]  # c: the state after the padding too (rnnkit never returns states)


def last_step_indicators(mask):
    """(batch, time) floats: 1 at each sequence's last real step (a mask of 1s then 0s), else 0."""
    return mask - tf.concat([mask[:, 1:], tf.zeros_like(mask[:, :1])], axis=1)


def real_step_reversal(mask, ends):
    """(batch, time, time) permutations that reverse each sequence's real steps and keep its padding after them.

    TFLM has no REVERSE_SEQUENCE. A real step `to` reads step `length - 1 - to`, i.e. the step `from` where
    `ends[to + from]` is 1 (a Hankel lookup of the indicators); a padding step reads itself. Applied with one
    matmul: slicing the sequence once per length instead left the int8 converter quantizing the LSTM after it
    not at all.
    """
    width = mask.shape[1]
    steps = np.arange(width)
    hankel = np.minimum(steps[:, None] + steps[None, :], width)  # width: the zero appended below
    padded = tf.concat([ends, tf.zeros_like(ends[:, :1])], axis=1)
    reads = tf.gather(padded, tf.constant(hankel, tf.int32), axis=1)  # (batch, to, from)
    real = mask[:, :, None]
    return real * reads + (1.0 - real) * tf.eye(width, dtype=mask.dtype)[None]
