"""GRU and SimpleRNN layers as TensorFlow Lite Micro wants them: a static WHILE loop, one int8 bias, no step mask.

The micro export's inference twin swaps these in for every GRU and SimpleRNN (it runs them at a fixed length).
They compute what Keras' layers compute, arranged for the int8 converter and TFLM:

- The steps run as one WHILE loop whose every loop variable changes each iteration (`_while`), which the int8
  calibrator survives, so the file holds one step for any length (export/micro_loops.py then carries the loop
  variables in int8); with `loop = "unrolled"` (`--unroll`) they are unrolled instead, one set of ops (and int8
  scales) per step.

- The input projection `x W + b` of every step is one matmul over the whole sequence, before the loop. Keras'
  cell projects each step's input with its own FULLY_CONNECTED.
- The recurrent matmul `h U` has no bias. Keras adds the GRU's recurrent bias inside it; the converter folds that
  into each step's FULLY_CONNECTED, and as each step's state has its own int8 scale, every step then stores its
  own int32 copy of the bias with its own per-channel scales: most of an unrolled GRU's file. The update and
  reset gates' recurrent biases move into the input projection's bias (both are added to the same sums); the
  candidate's, which the reset gate multiplies, is added to its slice of `h U` after the split.
- A GRU step is written `h + (1 - z)(hh - h)`, with `1 - z` computed directly as the sigmoid of the negated
  update gate (its weights negated), so a step takes fewer ops, and so fewer tensors, arena and file.
- A mask is read as `end_padding` reads it: the steps run over the padding, the last output is read at each
  sequence's last real step and a backward layer meets its real steps reversed, padding after them. Keras'
  unrolled loop instead splits a boolean mask with UNPACK and chooses with SELECT in every step, and TFLM cannot
  UNPACK booleans; blending each step by a float mask ran, but cost three ops a step.
"""
import keras
import tensorflow as tf

from export import end_padding
from rnnkit.core.errors import UsageError
from rnnkit.engine import keras_adapter


class _MicroUnrolled(keras_adapter.SequenceLoop):
    """The fixed-length loop shared by the GRU and SimpleRNN below; each says how one step goes.

    `loop`: "while" (one static-shape WHILE loop) or "unrolled" (one set of ops per step).
    """

    def __init__(self, *args, loop="while", **kwargs):
        if loop not in ("while", "unrolled"):
            raise ValueError(f"loop must be 'while' or 'unrolled', got {loop!r}")
        super().__init__(*args, **kwargs)
        self.loop = loop

    def get_config(self):
        """The layer's config with its loop."""
        return {**super().get_config(), "loop": self.loop}

    @staticmethod
    def fits(layer_config):
        """Every GRU / SimpleRNN config fits."""
        return True

    def run_sequence(self, sequences, initial_state, mask, training=False):
        """(last output, outputs, states) over a fixed number of steps; a mask is read at each sequence's end."""
        if training:
            raise UsageError("micro unrolled layers are for inference export only")
        width = sequences.shape[1]
        if width is None:
            raise UsageError("a GRU or SimpleRNN runs on a microcontroller only at a fixed length")
        sequences, ends, reversal = end_padding.enter(sequences, mask, self.go_backwards)
        batch, _, features = sequences.shape
        kernel, bias, step_weights = self._weights()  # once: every step reads the same
        projected = tf.reshape(tf.reshape(sequences, (batch * width, features)) @ kernel + bias, (batch, width, -1))
        state = initial_state[0] if isinstance(initial_state, (list, tuple)) else initial_state
        if self.loop == "while" and width > 1:
            state, outputs = self._while(projected, state, step_weights, ends is not None or self.return_sequences)
        else:
            outputs = []
            for x in tf.unstack(projected, axis=1):
                state = self._step(x, state, step_weights)
                outputs.append(state)  # a GRU's and a SimpleRNN's output is their state
            outputs = self._stack(outputs)
        last, outputs = end_padding.leave(state, outputs, ends, reversal, self.return_sequences)
        return last, outputs, [last]

    def _while(self, projected, state, step_weights, keep_outputs):
        """(last state, outputs) from a WHILE loop over the fixed steps in which every loop variable changes.

        The int8 calibrator crashes on a WHILE body that passes a loop variable through unchanged
        (tensorflow#75140), so the projected inputs rotate by one step each iteration (the step reads the first),
        and the outputs are a (batch, steps, units) buffer shifted left with the new state appended: after the
        last step it holds every step's output in order, and its last column is the state. Without `keep_outputs`
        only the state is carried, and the outputs returned are that state as one step.
        """
        width = projected.shape[1]

        def advance(t, inputs, carried):
            first, rest = tf.split(inputs, [1, width - 1], axis=1)  # one SPLIT_V, not three slices
            if keep_outputs:
                carried = self._pin(carried)  # read on the grid it is written on: no requantizing
                h = self._step(tf.squeeze(first, 1), carried[:, -1], step_weights)
                carried = self._pin(tf.concat([carried[:, 1:], tf.expand_dims(h, 1)], axis=1))
            else:
                carried = self._step(tf.squeeze(first, 1), carried, step_weights)
            return t + 1, tf.concat([rest, first], axis=1), carried

        carried = state
        if keep_outputs:
            # The first columns are shifted out unread. Zeros made from the input: a constant would store a
            # sequence-sized tensor in the file.
            blank = projected[:, 1:, : state.shape[-1]] * 0.0
            carried = tf.concat([blank, tf.expand_dims(state, 1)], axis=1)
        _, _, carried = tf.while_loop(lambda t, *_: t < width, advance, (tf.constant(0), projected, carried))
        return (carried[:, -1], carried) if keep_outputs else (carried, tf.expand_dims(carried, 1))

    def _pin(self, outputs):
        """Outputs as the loop carries them (see MicroSimpleRNN)."""
        return outputs

    def _stack(self, outputs):
        """The steps' outputs as one (batch, steps, units) tensor."""
        return tf.stack(outputs, axis=1)


@keras.saving.register_keras_serializable(package="rnnkit_export")
class MicroGRU(_MicroUnrolled, keras.layers.GRU):
    """A GRU unrolled for TFLM (see the module)."""

    def _sign(self):
        """+1 for every gate column, -1 for the update gate's when it is a sigmoid: σ(-a) = 1 - σ(a) is `1 - z`."""
        units = self.cell.units
        flip = -1.0 if self.cell.recurrent_activation is keras.activations.sigmoid else 1.0
        return tf.concat([tf.fill((units,), flip), tf.ones((2 * units,))], axis=0)

    def _weights(self):
        """(input kernel, input bias, (recurrent kernel, candidate kernel, candidate bias)) with the update gate's
        columns signed; the input bias holds the gates' recurrent bias too (reset_after)."""
        cell, units, sign = self.cell, self.cell.units, self._sign()
        bias, candidate_bias = tf.zeros((3 * units,)), None
        if cell.use_bias:
            bias = cell.bias if not cell.reset_after else cell.bias[0] + tf.concat(
                [cell.bias[1, : 2 * units], tf.zeros((units,))], axis=0)
            candidate_bias = cell.bias[1, 2 * units:] if cell.reset_after else None
        if cell.reset_after:  # the candidate's recurrent matmul is part of the gates' one
            recurrent, candidate = cell.recurrent_kernel * sign, None
        else:
            recurrent = cell.recurrent_kernel[:, : 2 * units] * sign[: 2 * units]
            candidate = cell.recurrent_kernel[:, 2 * units:]
        return cell.kernel * sign, bias * sign, (recurrent, candidate, candidate_bias)

    def _step(self, x, h, weights):
        """One GRU step as Keras' GRUCell computes it, written `h + (1 - z)(hh - h)`."""
        cell = self.cell
        recurrent, candidate, candidate_bias = weights
        x_u, x_r, x_h = tf.split(x, 3, axis=-1)
        if candidate is None:
            a_u, a_r, a_h = tf.split(h @ recurrent, 3, axis=-1)
        else:
            a_u, a_r = tf.split(h @ recurrent, 2, axis=-1)
        update = cell.recurrent_activation(x_u + a_u)
        if cell.recurrent_activation is not keras.activations.sigmoid:
            update = 1 - update
        r = cell.recurrent_activation(x_r + a_r)
        if candidate is not None:
            recurrent_h = (r * h) @ candidate
        else:
            recurrent_h = r * (a_h + candidate_bias) if candidate_bias is not None else r * a_h
        return h + update * (cell.activation(x_h + recurrent_h) - h)


@keras.saving.register_keras_serializable(package="rnnkit_export")
class MicroSimpleRNN(_MicroUnrolled, keras.layers.SimpleRNN):
    """A SimpleRNN unrolled for TFLM (see the module)."""

    def _weights(self):
        """(input kernel, input bias (zeros without one), recurrent kernel)."""
        cell = self.cell
        return cell.kernel, cell.bias if cell.bias is not None else tf.zeros((cell.units,)), cell.recurrent_kernel

    def __init__(self, *args, pin_to_tanh_grid=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.pin_to_tanh_grid = pin_to_tanh_grid  # for the int8 conversion only: in float the pin rounds

    def get_config(self):
        """The layer's config with its pin."""
        return {**super().get_config(), "pin_to_tanh_grid": self.pin_to_tanh_grid}

    def _stack(self, outputs):
        """The steps' outputs stacked; with `pin_to_tanh_grid`, pinned to the int8 grid of TFLite's TANH.

        PACK needs every input on its output's int8 scale. Calibration gives the stack the range it saw, [-1, 1]
        (scale 2/255), while an int8 TANH always answers on the grid of scale 1/128 from -1 to 127/128; the
        converter then requantizes every step's output (a QUANTIZE op and a tensor a step). Pinning the stack's
        range to that grid with a fake-quant makes the two the same scale: the TANH outputs are stacked as they
        are. In float the pin rounds to that grid, so it is set only for the int8 conversion.
        """
        return self._pin(super()._stack(outputs))

    def _pin(self, outputs):
        """`outputs` on TANH's int8 grid when `pin_to_tanh_grid` is set (see `_stack`)."""
        if not self.pin_to_tanh_grid or self.cell.activation is not keras.activations.tanh:
            return outputs
        return tf.quantization.fake_quant_with_min_max_args(outputs, min=-1.0, max=127 / 128)

    def _step(self, x, h, recurrent):
        """One SimpleRNN step."""
        output = x + h @ recurrent
        return self.cell.activation(output) if self.cell.activation is not None else output
