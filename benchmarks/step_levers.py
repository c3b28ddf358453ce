"""Levers measured for the adder's training step and not kept; each timed against the plain Keras layer.

    python benchmarks/step_levers.py [--cells rnn,lstm,gru] [--steps 30]

Same model as benchmarks/adder_speed.py (Embedding 32 on both digits, 2 x 64 units, Dense 10), 101 positions,
batch 64, Adam. Variant and plain steps are timed alternately in one process (median), so load affects both.
  hoisted:  Keras' layers subclassed so that `x W + b` is one product before the time loop (outputs and
            gradients are checked against the plain layer and printed)
  bf16:     the `mixed_bfloat16` policy
  k-step:   a hand-written LSTM whose WHILE loop runs k time steps per iteration
"""
import argparse
import statistics
import time

import keras
from keras import ops
import numpy as np
import tensorflow as tf

import rnnkit  # noqa: F401  (quiet TensorFlow import)

LENGTH, BATCH, UNITS, EMBED = 101, 64, 64, 32


class _Hoisted(keras.layers.RNN):
    """The generic-loop fallback of a Keras recurrent layer with the input projection before the loop."""

    def project(self, sequences):
        """`sequences @ kernel + bias` for every step at once."""
        projected = ops.matmul(sequences, self.cell.kernel)
        return projected if self.cell.bias is None else projected + self.cell.bias

    def inner_loop(self, sequences, initial_state, mask, training=False):
        """Project the whole (time-major) sequence, then run Keras' `backend.rnn` over the projections."""
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        last, outputs, states = keras.src.backend.rnn(
            self.projected_step, self.project(ops.transpose(sequences, (1, 0, 2))), states, mask=mask,
            unroll=self.unroll, input_length=sequences.shape[1], time_major=True,
            return_all_outputs=self.return_sequences)
        return last, ops.transpose(outputs, (1, 0, 2)), states


class HoistedSimpleRNN(keras.layers.SimpleRNN, _Hoisted):
    """SimpleRNN: h = tanh(xW + b + hU)."""

    def projected_step(self, projected, states):
        """One step from the projected input."""
        output = self.cell.activation(projected + ops.matmul(states[0], self.cell.recurrent_kernel))
        return output, [output]


class HoistedLSTM(keras.layers.LSTM, _Hoisted):
    """LSTM, gate order i, f, c, o."""

    def projected_step(self, projected, states):
        """One step from the projected input."""
        cell, (h, c) = self.cell, states
        z0, z1, z2, z3 = ops.split(projected + ops.matmul(h, cell.recurrent_kernel), 4, axis=-1)
        c = cell.recurrent_activation(z1) * c + cell.recurrent_activation(z0) * cell.activation(z2)
        h = cell.recurrent_activation(z3) * cell.activation(c)
        return h, [h, c]


class HoistedGRU(keras.layers.GRU, _Hoisted):
    """GRU with reset_after (Keras' default)."""

    def project(self, sequences):
        """Input half of the bias only."""
        return ops.matmul(sequences, self.cell.kernel) + self.cell.bias[0]

    def projected_step(self, projected, states):
        """One step from the projected input."""
        cell, units, h = self.cell, self.cell.units, states[0]
        x_z, x_r, x_h = ops.split(projected, 3, axis=-1)
        inner = ops.matmul(h, cell.recurrent_kernel) + cell.bias[1]
        z = cell.recurrent_activation(x_z + inner[:, :units])
        r = cell.recurrent_activation(x_r + inner[:, units: 2 * units])
        h = z * h + (1 - z) * cell.activation(x_h + r * inner[:, 2 * units:])
        return h, [h]


PLAIN = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
HOISTED = {"rnn": HoistedSimpleRNN, "lstm": HoistedLSTM, "gru": HoistedGRU}


def adder_model(layer_class):
    """The adder's network with `layer_class` as its two recurrent layers (seed 0)."""
    keras.utils.set_random_seed(0)
    tokens = keras.Input((None, 2), dtype="int32")
    x = keras.layers.Reshape((-1, 2 * EMBED))(keras.layers.Embedding(10, EMBED)(tokens))
    x = layer_class(UNITS, return_sequences=True)(layer_class(UNITS, return_sequences=True)(x))
    return keras.Model(tokens, keras.layers.Dense(10)(x))


def keras_step(model, x, y):
    """A tf.function training step (Adam) returning (loss, gradients)."""
    optimizer = keras.optimizers.Adam(1e-3)
    optimizer.build(model.trainable_variables)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, model(x, training=True),
                                                                               from_logits=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss, [tf.convert_to_tensor(g) for g in grads]
    return step


def first_calls(steps):
    """{name: (seconds of the first call, its result)}: the first call traces and optimises the graph."""
    first = {}
    for name, step in steps.items():
        start = time.perf_counter()
        result = step()
        result[0].numpy()
        first[name] = (time.perf_counter() - start, result)
    return first


def interleaved(steps, count):
    """{name: (first call s, median ms)} timing the steps alternately."""
    first, times = {name: seconds for name, (seconds, _) in first_calls(steps).items()}, {name: [] for name in steps}
    for _ in range(count):
        for name, step in steps.items():
            start = time.perf_counter()
            step()[0].numpy()
            times[name].append(time.perf_counter() - start)
    return {name: (first[name], 1000 * statistics.median(times[name])) for name in steps}


def k_step_lstm(k, x, y):
    """A two-layer LSTM written with tf.while_loop, k time steps per iteration; returns a training step."""
    rng = np.random.default_rng(0)
    shapes = [(2 * EMBED, 4 * UNITS), (UNITS, 4 * UNITS), (4 * UNITS,)] * 2 + [(UNITS, 10)]
    weights = [tf.Variable(rng.normal(size=s).astype(np.float32) * 0.1) for s in shapes]
    inputs = tf.constant(rng.normal(size=(LENGTH, BATCH, 2 * EMBED)).astype(np.float32))
    labels = tf.transpose(y)

    def layer(xs, kernel, recurrent, bias):
        projected = tf.TensorArray(tf.float32, size=LENGTH).unstack(tf.einsum("tbi,ij->tbj", xs, kernel) + bias)

        def cell(z, h, c):
            i, f, g, o = tf.split(z + tf.matmul(h, recurrent), 4, axis=1)
            c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            return tf.sigmoid(o) * tf.tanh(c), c

        def body(t, h, c, out):
            for j in range(k):
                h, c = cell(projected.read(t + j), h, c)
                out = out.write(t + j, h)
            return t + k, h, c, out

        full = LENGTH // k * k
        zeros = tf.zeros((BATCH, UNITS))
        t, h, c, out = tf.while_loop(lambda t, *_: t < full, body,
                                     (tf.constant(0), zeros, zeros, tf.TensorArray(tf.float32, size=LENGTH)))
        for j in range(full, LENGTH):
            h, c = cell(projected.read(j), h, c)
            out = out.write(j, h)
        return out.stack()

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            hidden = layer(layer(inputs, *weights[:3]), *weights[3:6])
            logits = tf.einsum("tbu,uj->tbj", hidden, weights[6])
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
        grads = tape.gradient(loss, weights)
        for weight, grad in zip(weights, grads):
            weight.assign_sub(1e-4 * grad)
        return loss, grads
    return step


def main():
    """Print one table row per lever and cell."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="rnn,lstm,gru")
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = tf.constant(rng.integers(0, 10, (BATCH, LENGTH, 2)), tf.int32)
    y = tf.constant(rng.integers(0, 10, (BATCH, LENGTH)), tf.int32)
    print(f"# tensorflow {tf.__version__}, keras {keras.__version__}; ms/step median of {args.steps}, "
          f"first call (trace + optimise + run) in s")
    print(f"{'lever':<10}{'cell':<6}{'plain ms':>10}{'lever ms':>10}{'plain 1st':>11}{'lever 1st':>11}  check")
    for cell in args.cells.split(","):
        steps = {"plain": keras_step(adder_model(PLAIN[cell]), x, y),
                 "lever": keras_step(adder_model(HOISTED[cell]), x, y)}
        first = first_calls(steps)
        (_, (_, plain_grads)), (_, (_, hoisted_grads)) = first["plain"], first["lever"]
        gap = max(float(tf.reduce_max(tf.abs(a - b))) for a, b in zip(plain_grads, hoisted_grads))
        timed = interleaved(steps, args.steps)
        timed = {name: (first[name][0], ms) for name, (_, ms) in timed.items()}
        print(f"{'hoisted':<10}{cell:<6}{timed['plain'][1]:>10.1f}{timed['lever'][1]:>10.1f}"
              f"{timed['plain'][0]:>11.2f}{timed['lever'][0]:>11.2f}  max |grad diff| {gap:.1e}", flush=True)
    for cell in args.cells.split(","):
        plain = keras_step(adder_model(PLAIN[cell]), x, y)
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        bf16 = keras_step(adder_model(PLAIN[cell]), x, y)
        keras.mixed_precision.set_global_policy("float32")
        timed = interleaved({"plain": plain, "lever": bf16}, args.steps)
        print(f"{'bf16':<10}{cell:<6}{timed['plain'][1]:>10.1f}{timed['lever'][1]:>10.1f}"
              f"{timed['plain'][0]:>11.2f}{timed['lever'][0]:>11.2f}", flush=True)
    if "lstm" in args.cells:
        timed = interleaved({k: k_step_lstm(k, x, y) for k in (1, 2, 4)}, args.steps)
        for k in (2, 4):
            print(f"{f'{k}-step':<10}{'lstm':<6}{timed[1][1]:>10.1f}{timed[k][1]:>10.1f}{timed[1][0]:>11.2f}"
                  f"{timed[k][0]:>11.2f}  (plain: the same loop, 1 step per iteration)", flush=True)


if __name__ == "__main__":
    main()
