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
import tensorflow as tf

from export import end_padding
from rnnkit.core.errors import UsageError
from rnnkit.engine import keras_adapter

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
class FusedLSTM(keras_adapter.SequenceLoop, keras.layers.LSTM):
    """An LSTM for inference export: the loop is one fusable function call.

    The fused op takes no mask. A mask that only pads the end of each sequence (rnnkit's token tasks) is honoured
    by `end_padding`: the last output is read at each sequence's last real step, and the backward pass of a
    bidirectional layer reads the real steps reversed, padding after them.
    """

    @staticmethod
    def fits(layer_config):
        """Whether an LSTM config is the fused op's LSTM: tanh, sigmoid gates, a bias."""
        return (layer_config.get("activation", "tanh") == "tanh"
                and layer_config.get("recurrent_activation", "sigmoid") == "sigmoid"
                and layer_config.get("use_bias", True))

    def run_sequence(self, sequences, initial_state, mask, training=False):
        """(last output, full sequence, [h, c]) from the fusable function."""
        if training:
            raise UsageError("FusedLSTM is for inference export only")
        batch, units = sequences.shape[0], self.cell.units
        if batch is None:
            raise UsageError("the fused LSTM needs a static batch size")
        if mask is not None and sequences.shape[1] is None:
            raise UsageError("a masked LSTM becomes the fused op only at a fixed length")
        sequences, ends, reversal = end_padding.enter(sequences, mask, self.go_backwards)
        h0, c0 = (tf.reshape(state, (batch, units)) for state in initial_state)
        weights = (tf.convert_to_tensor(w) for w in (self.cell.kernel, self.cell.recurrent_kernel, self.cell.bias))
        last, outputs, _, c, _ = fused_sequence(sequences, h0, c0, *weights)
        last, outputs = end_padding.leave(last, outputs, ends, reversal, self.return_sequences)
        return last, outputs, [last, c]  # c: the state after the padding too (rnnkit never returns states)

