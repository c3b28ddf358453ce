"""GRU and SimpleRNN layers whose mask TensorFlow Lite Micro can run: unrolled steps that blend by a float mask.

Keras' unrolled loop splits a boolean mask with UNPACK and chooses with SELECT, and TFLM cannot UNPACK booleans.
Here each step's state is `h + m_t * (h_new - h)` with the mask cast to floats: on a padded step (m_t = 0) the
state and the output stay as they were, which is Keras' masking. The backward layer of a Bidirectional reads the
reversed sequence with its reversed mask, so its padding (now first) leaves the zero initial state alone, as in
Keras. The micro export's inference twin swaps these in for masked GRU and SimpleRNN layers.
"""
import keras
import tensorflow as tf

from rnnkit.errors import UsageError


class _MaskBlend:
    """The masked, unrolled `inner_loop` shared by the GRU and SimpleRNN below."""

    @staticmethod
    def fits(layer_config):
        """Every GRU / SimpleRNN config fits (the blend works with any activation)."""
        return True

    def inner_loop(self, sequences, initial_state, mask, training=False):
        """(last output, outputs, states), each step blended into the previous one by the mask."""
        if mask is None:
            return super().inner_loop(sequences, initial_state, mask, training=training)
        if training:
            raise UsageError("masked unrolled layers are for inference export only")
        width = sequences.shape[1]
        if width is None:
            raise UsageError("a masked GRU or SimpleRNN runs on a microcontroller only at a fixed length")
        mask = tf.cast(mask[0] if isinstance(mask, (list, tuple)) else mask, sequences.dtype)[:, :, None]
        if self.go_backwards:
            sequences, mask = tf.reverse(sequences, axis=[1]), tf.reverse(mask, axis=[1])
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        outputs = []
        for step in range(width):
            _, new_states = self.cell(sequences[:, step], states, training=False)
            new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
            keep = mask[:, step]
            states = [state + keep * (new - state) for state, new in zip(states, new_states)]
            outputs.append(states[0])  # a GRU's and a SimpleRNN's output is their state
        return outputs[-1], tf.stack(outputs, axis=1), states


@keras.saving.register_keras_serializable(package="rnnkit_export")
class MaskedUnrolledGRU(_MaskBlend, keras.layers.GRU):
    """A GRU whose masked loop TFLM can run (see the module)."""


@keras.saving.register_keras_serializable(package="rnnkit_export")
class MaskedUnrolledSimpleRNN(_MaskBlend, keras.layers.SimpleRNN):
    """A SimpleRNN whose masked loop TFLM can run (see the module)."""
