"""Custom Keras layers shared by the model builders."""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="rnnkit")
class HashedNgramBag(keras.layers.Layer):
    """fastText-style features: every character n-gram of `^name$` looked up in a table, averaged over the name.

    Inputs are token ids `(batch, time)` with 0 as trailing padding, which is ignored, so a padded name gives
    the same vector as the name alone. N-grams of order n are numbered in base `vocab_size + 2` (the two extra
    symbols mark the start and end); orders with more n-grams than `buckets` are folded into `buckets` by a modulus
    (integer ops only, so the layer converts to builtin TFLite ops). 16 381 (a prime) buckets hold the embedded
    names' 8 770 distinct 3-grams and 26 769 4-grams with some sharing, at a quarter of 65 521 buckets' size and
    the same accuracy (README, "Names").
    """

    def __init__(self, vocab_size, orders=(1, 2, 3, 4), dim=64, buckets=16381, dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.dropout, self.seed = dropout, seed
        self.seed_generator = keras.random.SeedGenerator(seed) if dropout else None
        if not orders or min(orders) < 1 or (vocab_size + 2) ** max(orders) >= 2**31:
            raise ValueError(f"n-gram orders must be ≥ 1 and fit int32 codes; got {orders} for vocab {vocab_size}")
        self.vocab_size, self.orders, self.dim, self.buckets = vocab_size, tuple(orders), dim, buckets
        self.base = vocab_size + 2
        sizes = [min(self.base**n, buckets) for n in self.orders]
        self.offsets = [sum(sizes[:i]) for i in range(len(sizes))]
        self.table = keras.layers.Embedding(sum(sizes), dim, name="ngram_table")

    def build(self, input_shape):
        """Create the n-gram table."""
        self.table.build((None, None))

    def call(self, tokens, training=False):
        """Tokens → the mean of their n-grams' vectors, `(batch, dim)`; training drops n-grams at `dropout`."""
        ids, present = self.ngram_ids(tokens, training)
        weights = ops.cast(present, self.compute_dtype)[..., None]
        total = ops.sum(self.table(ids) * weights, axis=1)
        return total / ops.maximum(ops.sum(weights, axis=1), 1.0)

    def ngram_ids(self, tokens, training=False):
        """(ids, present): every n-gram slot's table row `(batch, slots)` (0 where absent) and whether it counts."""
        tokens = ops.cast(tokens, "int32")
        width = ops.shape(tokens)[1] + 2
        length = ops.sum(ops.cast(tokens > 0, "int32"), axis=1)
        edge = ops.zeros_like(tokens[:, :1])
        marked = ops.concatenate([edge + self.base - 2, tokens, edge], axis=1)
        is_end = ops.arange(width)[None, :] == (length + 1)[:, None]
        marked = ops.where(is_end, self.base - 1, marked)
        ids, present = [], []
        for n, offset in zip(self.orders, self.offsets):
            windows = [marked[:, k : width - n + 1 + k] for k in range(n)]
            code = sum(window * self.base**k for k, window in enumerate(windows))
            if self.base**n > self.buckets:
                code = ops.mod(code, self.buckets)
            ids.append(code + offset)
            present.append(ops.all(ops.stack([window > 0 for window in windows], axis=-1), axis=-1))
        present = ops.concatenate(present, axis=1)
        ids = ops.where(present, ops.concatenate(ids, axis=1), 0)
        if training and self.dropout:  # drop whole n-gram occurrences, so no single n-gram decides alone
            kept = keras.random.uniform(ops.shape(present), seed=self.seed_generator) >= self.dropout
            present = ops.logical_and(present, kept)
        return ids, present

    def compute_output_shape(self, input_shape):
        """`(batch, dim)`."""
        return (input_shape[0], self.dim)

    def get_config(self):
        """Constructor arguments, for saving."""
        return {**super().get_config(), "vocab_size": self.vocab_size, "orders": list(self.orders),
                "dim": self.dim, "buckets": self.buckets, "dropout": self.dropout, "seed": self.seed}


@keras.saving.register_keras_serializable(package="rnnkit")
class ChronoBias(keras.initializers.Initializer):
    """Chrono initialisation of an LSTM bias (Tallec & Ollivier, 2018): forget gate log(U(1, max_lag - 1)).

    The input gate gets the negative of it and the other gates zero (Keras' gate order: i, f, c, o). The forget
    gates then start with time constants spread up to `max_lag` steps, so a signal from the first step still
    reaches the last one, where Keras' forget bias of 1 halves it about every step.
    """

    def __init__(self, max_lag, seed=None, open_input=True):
        self.max_lag, self.seed, self.open_input = max_lag, seed, open_input

    def __call__(self, shape, dtype=None):
        units = shape[0] // 4
        forget = ops.log(keras.random.uniform((units,), 1.0, max(2.0, self.max_lag - 1.0), seed=self.seed))
        zeros = ops.zeros((2 * units,))
        bias = ops.concatenate([zeros[:units] if self.open_input else -forget, forget, zeros])
        return ops.cast(bias, dtype or "float32")

    def get_config(self):
        """Round-trips through saving."""
        return {"max_lag": self.max_lag, "seed": self.seed, "open_input": self.open_input}


@keras.saving.register_keras_serializable(package="rnnkit")
class UpdateGateBias(keras.initializers.Initializer):
    """A GRU bias whose update gate starts at `total` and every other gate at 0 (Keras' gate order: z, r, h).

    Keras' GRU computes h = z·h_prev + (1 − z)·candidate, so a very negative update bias starts it as a vanilla
    RNN with a reset gate: it takes the candidate every step. A GRU with `reset_after` keeps an input and a
    recurrent bias, which are added in the gate; each gets half of `total`.
    """

    def __init__(self, total):
        self.total = total

    def __call__(self, shape, dtype=None):
        units = shape[-1] // 3
        rows = shape[0] if len(shape) == 2 else 1
        gate = ops.concatenate([ops.full((units,), self.total / rows), ops.zeros((2 * units,))])
        return ops.cast(ops.reshape(ops.tile(gate, (rows,)), shape), dtype or "float32")

    def get_config(self):
        """Round-trips through saving."""
        return {"total": self.total}


@keras.saving.register_keras_serializable(package="rnnkit")
class TokenValues(keras.layers.Layer):
    """Integer tokens `(batch, time)` → their values as one float feature a step, `(batch, time, 1)`: a digit
    read as a number, as the seed's palindrome RNN reads it, instead of an embedding."""

    def call(self, tokens):
        """The tokens as float32 values with a feature axis."""
        return ops.expand_dims(ops.cast(tokens, "float32"), -1)

    def compute_output_shape(self, input_shape):
        """One feature per step."""
        return (*input_shape, 1)


@keras.saving.register_keras_serializable(package="rnnkit")
class RandomStrokeWidth(keras.layers.Layer):
    """Training-time augmentation of (batch, h, w, 1) ink images: each image's strokes are kept, or grown by one
    or two pixels on every side (3×3 max filters), so a model meets pens of several widths."""

    def __init__(self, probabilities=(0.45, 0.3, 0.25), seed=None, **kwargs):
        super().__init__(**kwargs)
        self.probabilities, self.seed = tuple(probabilities), seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        """Images with per-example widened strokes (unchanged when not training)."""
        if not training:
            return images
        once = ops.max_pool(images, 3, strides=1, padding="same")
        twice = ops.max_pool(once, 3, strides=1, padding="same")
        draw = keras.random.uniform((ops.shape(images)[0], 1, 1, 1), seed=self.generator)
        keep, grow_once = self.probabilities[0], self.probabilities[0] + self.probabilities[1]
        return ops.where(draw < keep, images, ops.where(draw < grow_once, once, twice))

    def get_config(self):
        """Constructor arguments for saving."""
        return {**super().get_config(), "probabilities": self.probabilities, "seed": self.seed}


@keras.saving.register_keras_serializable(package="rnnkit")
class RandomTimeShift(keras.layers.Layer):
    """Training-time augmentation of (batch, time, channels) series: each series moves by up to `fraction` of its
    length, earlier or later, the steps it uncovers repeating its first or last value (a recording started a
    little early or late)."""

    def __init__(self, fraction, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.fraction, self.seed = float(fraction), seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, series, training=True):
        """Series shifted in time, each by its own whole number of steps (unchanged when not training)."""
        length = series.shape[1]
        most = int(self.fraction * length)
        if not training or most == 0:
            return series
        shift = keras.random.randint((ops.shape(series)[0], 1), -most, most + 1, seed=self.generator)
        steps = ops.clip(ops.arange(length)[None, :] - shift, 0, length - 1)
        return ops.take_along_axis(series, ops.expand_dims(steps, -1), axis=1)

    def get_config(self):
        """Constructor arguments for saving."""
        return {**super().get_config(), "fraction": self.fraction, "seed": self.seed}


@keras.saving.register_keras_serializable(package="rnnkit")
class SometimesUnchanged(keras.layers.Layer):
    """Training-time wrapper of an augmentation: each example goes through `augmentation`, except a random
    `fraction` of them that pass as they were, so the model still meets the data undistorted."""

    def __init__(self, augmentation, fraction, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.augmentation, self.fraction, self.seed = augmentation, float(fraction), seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=True):
        """Inputs with all but about `fraction` of the examples augmented (unchanged when not training)."""
        if not training:
            return inputs
        changed = self.augmentation(inputs, training=True)
        draw = keras.random.uniform((ops.shape(inputs)[0],) + (1,) * (len(inputs.shape) - 1), seed=self.generator)
        return ops.where(draw < self.fraction, inputs, changed)

    def get_config(self):
        """Constructor arguments for saving (the augmentation serialized)."""
        return {**super().get_config(), "augmentation": keras.saving.serialize_keras_object(self.augmentation),
                "fraction": self.fraction, "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        """The layer back from `get_config`."""
        config = dict(config)
        config["augmentation"] = keras.saving.deserialize_keras_object(config["augmentation"])
        return cls(**config)
