"""Shared functional model builders: recurrent stacks for the sequence tasks."""
import contextlib

import keras

from rnnkit.engine import steps
from rnnkit.models.layers import ChronoBias, HashedNgramBag, TokenValues, UpdateGateBias

CELLS = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
TAKES_EPSILON = ("adam", "rmsprop", "adagrad")  # SGD has no denominator to add it to
OPTIMIZERS = {
    "adam": keras.optimizers.Adam,
    "sgd": keras.optimizers.SGD,
    "rmsprop": keras.optimizers.RMSprop,
    "adagrad": keras.optimizers.Adagrad,
}


@keras.saving.register_keras_serializable(package="rnnkit")
class RnnkitModel(keras.Model):
    """A functional model whose `fit` runs rnnkit's shared `steps.train_step`."""

    def train_step(self, data):
        """Delegate to the step function the custom loops use too."""
        return steps.train_step(self, data)


def recurrent_stack(x, *, cell, units, bidirectional=False, dropout=0.0, l2=0.0, return_sequences=True,
                    chrono=None, update_gate_bias=None):
    """Stacked recurrent layers; all but the last return sequences, the last as asked.

    `chrono` (a sequence length) gives LSTMs the chrono bias initialisation for lags up to that length;
    `update_gate_bias` gives GRUs that update-gate bias at initialisation (layers.UpdateGateBias).
    """
    if cell not in CELLS:
        raise ValueError(f"Could not interpret cell {cell!r}: expected one of {', '.join(CELLS)}")
    regularizer = keras.regularizers.L2(l2) if l2 else None
    gates = {"unit_forget_bias": False, "bias_initializer": ChronoBias(chrono)} if chrono and cell == "lstm" else {}
    if update_gate_bias is not None and cell == "gru":
        gates = {"bias_initializer": UpdateGateBias(update_gate_bias)}
    for i, size in enumerate(units):
        last = i == len(units) - 1
        layer = CELLS[cell](
            size,
            return_sequences=return_sequences or not last,
            dropout=dropout,
            kernel_regularizer=regularizer,
            recurrent_regularizer=regularizer,
            name=f"{cell}_{i + 1}",
            **gates,
        )
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{cell}_{i + 1}")
        x = layer(x)
    return x


def build_recurrent_model(*, name, cell, units, num_classes, output_activation="softmax", vocab_size=None,
                          embed_dim=32, operands=1, features=None, mask_zero=False, bidirectional=False,
                          dropout=0.0, l2=0.0, return_sequences=True, length=None,
                          embeddings_initializer="uniform", ngram_orders=(), ngram_dim=64, chrono=None,
                          update_gate_bias=None, token_values=False):
    """Inputs → (shared Embedding | raw features) → recurrent stack → Dense head, as an RnnkitModel.

    With `vocab_size`, inputs are integer tokens: `(batch, time)` for one operand, or
    `(batch, time, operands)` where one Embedding is shared by the operands and their vectors are
    concatenated per position. Without it, inputs are float `(batch, time, features)`.
    `length=None` leaves the time axis free so one model serves every length. `embeddings_initializer`
    "normal" draws N(0, 1) vectors as PyTorch's nn.Embedding does (Keras' default is U(±0.05)).
    `ngram_orders` (one token operand, one output per sequence) adds a `HashedNgramBag` of those orders beside
    the last recurrent state: a wide, memorising view next to the deep, sequential one. `chrono` (a length)
    initialises LSTM gates for lags up to that length (layers.ChronoBias), `update_gate_bias` a GRU's update gate
    (layers.UpdateGateBias). `token_values` feeds one operand's tokens as their numeric values (layers.TokenValues)
    instead of embedding them.
    """
    if ngram_orders and not (vocab_size and operands == 1 and not return_sequences):
        raise ValueError("n-gram features need one token operand and one output per sequence")
    if vocab_size:
        shape = (length,) if operands == 1 else (length, operands)
        inputs = keras.Input(shape=shape, dtype="int32", name="tokens")
        if token_values:
            x = TokenValues(name="token_values")(inputs)
        initializer = keras.initializers.RandomNormal(stddev=1.0) if embeddings_initializer == "normal" else "uniform"
        if not token_values:
            x = keras.layers.Embedding(vocab_size, embed_dim, mask_zero=mask_zero,
                                       embeddings_initializer=initializer, name="embedding")(inputs)
        if operands > 1:
            x = keras.layers.Reshape((-1 if length is None else length, operands * embed_dim), name="concat")(x)
    else:
        inputs = keras.Input(shape=(length, features), dtype="float32", name="features")
        x = inputs
    x = recurrent_stack(x, cell=cell, units=units, bidirectional=bidirectional, dropout=dropout, l2=l2,
                        return_sequences=return_sequences, chrono=chrono, update_gate_bias=update_gate_bias)
    if ngram_orders:
        bag = HashedNgramBag(vocab_size, ngram_orders, ngram_dim, name="ngram_bag")(inputs)
        x = keras.layers.Concatenate(name="state_and_ngrams")([x, bag])
    regularizer = keras.regularizers.L2(l2) if l2 else None
    outputs = keras.layers.Dense(num_classes, activation=output_activation, kernel_regularizer=regularizer,
                                 name="head")(x)
    return RnnkitModel(inputs, outputs, name=name)


def build_conv_recurrent_model(*, name, length, channels, num_classes, mean, variance, filters, cell, units,
                               bidirectional=False, dropout=0.0, l2=0.0, max_steps=128, state_dropout=0.0):
    """Series (length, channels) → per-channel Normalization (the training split's mean and variance, stored in the
    model so every export applies it) → three convolution blocks (Conv1D, BatchNorm, ReLU; the first max-pooled to
    at most `max_steps` steps) → [recurrent stack's last state ⊕ the last block's mean over time] → softmax.

    The convolutions read local shape and shorten long series for the recurrent layers; the mean over time is
    LSTM-FCN's global-average-pooling branch, which carries what a recurrent state forgets over long series.
    `filters=0` leaves both out: the normalized steps go straight into the recurrent stack, a model that reads one
    step at a time and so can stream. `state_dropout` drops that fraction of the recurrent state in training, so
    the head cannot lean on the state alone to tell a few training cases apart.
    """
    regularizer = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input(shape=(length, channels), name="series")
    x = keras.layers.Normalization(axis=-1, mean=mean, variance=variance, name="normalize")(inputs)
    if not filters:
        state = recurrent_stack(x, cell=cell, units=units, bidirectional=bidirectional, dropout=dropout, l2=l2,
                                return_sequences=False)
        state = _dropped(state, state_dropout)
        outputs = keras.layers.Dense(num_classes, activation="softmax", kernel_regularizer=regularizer,
                                     name="head")(state)
        return RnnkitModel(inputs, outputs, name=name)
    for block, (width, kernel) in enumerate(((filters, 7), (2 * filters, 5), (filters, 3)), 1):
        x = keras.layers.Conv1D(width, kernel, padding="same", kernel_regularizer=regularizer,
                                name=f"conv_{block}")(x)
        x = keras.layers.BatchNormalization(name=f"norm_{block}")(x)
        x = keras.layers.ReLU(name=f"relu_{block}")(x)
        pool = -(-length // max_steps)
        if block == 1 and pool > 1:
            x = keras.layers.MaxPooling1D(pool, padding="same", name="pool")(x)
    state = recurrent_stack(x, cell=cell, units=units, bidirectional=bidirectional, dropout=dropout, l2=l2,
                            return_sequences=False)
    state = _dropped(state, state_dropout)
    pooled = keras.layers.GlobalAveragePooling1D(name="mean_over_time")(x)
    x = keras.layers.Concatenate(name="state_and_mean")([state, pooled])
    outputs = keras.layers.Dense(num_classes, activation="softmax", kernel_regularizer=regularizer, name="head")(x)
    return RnnkitModel(inputs, outputs, name=name)


def _dropped(state, rate):
    """`state` through a Dropout layer of `rate` (identity at inference; none at 0)."""
    return keras.layers.Dropout(rate, name="state_dropout")(state) if rate else state


def build_image_recurrent_model(*, name, height, width, filters, cell, units, num_classes, bidirectional=False,
                                dropout=0.0, l2=0.0):
    """Images (height, width) → two convolution blocks (3×3 Conv2D of `filters` then 2 × `filters`, each with
    BatchNorm and ReLU; the first pooled across columns, the second across rows and columns) → the recurrent stack
    reads the image top to bottom, one band of two rows per step → softmax.

    The convolutions see a stroke wherever it lies on the row, which a recurrent layer fed raw pixels must learn
    at every column apart. `filters=0` is the plain row reader: the raw rows, one per step.
    """
    if not filters:
        return build_recurrent_model(name=name, cell=cell, units=units, features=width, length=height,
                                     num_classes=num_classes, bidirectional=bidirectional, dropout=dropout, l2=l2,
                                     return_sequences=False)
    regularizer = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input(shape=(height, width), name="image")
    x = keras.layers.Reshape((height, width, 1), name="one_channel")(inputs)
    for block, (size, pool) in enumerate(((filters, (1, 2)), (2 * filters, (2, 2))), 1):
        x = keras.layers.Conv2D(size, 3, padding="same", use_bias=False, kernel_regularizer=regularizer,
                                name=f"conv_{block}")(x)
        x = keras.layers.BatchNormalization(name=f"norm_{block}")(x)
        x = keras.layers.ReLU(name=f"relu_{block}")(x)
        x = keras.layers.MaxPooling2D(pool, name=f"pool_{block}")(x)
    x = keras.layers.Reshape((x.shape[1], x.shape[2] * x.shape[3]), name="bands")(x)
    x = recurrent_stack(x, cell=cell, units=units, bidirectional=bidirectional, dropout=dropout, l2=l2,
                        return_sequences=False)
    outputs = keras.layers.Dense(num_classes, activation="softmax", kernel_regularizer=regularizer, name="head")(x)
    return RnnkitModel(inputs, outputs, name=name)


def build_optimizer(cfg, total_steps=None):
    """The optimizer named by `cfg.optimizer` with the config's learning rate, momentum, decay, epsilon, clipping.

    With `--lr-schedule cosine` the rate follows a cosine from --lr down to --lr / 100 over `total_steps`.
    """
    kwargs = {"learning_rate": cfg.lr}
    if cfg.lr_schedule == "cosine":
        kwargs["learning_rate"] = keras.optimizers.schedules.CosineDecay(cfg.lr, total_steps, alpha=0.01)
    if cfg.clipnorm:
        kwargs["clipnorm"] = cfg.clipnorm
    if cfg.weight_decay:
        kwargs["weight_decay"] = cfg.weight_decay
    if cfg.epsilon is not None and cfg.optimizer in TAKES_EPSILON:  # a task's default is skipped where it cannot apply
        kwargs["epsilon"] = cfg.epsilon
    if cfg.optimizer in ("sgd", "rmsprop"):
        kwargs["momentum"] = cfg.momentum
    if cfg.optimizer == "adam":
        kwargs.update({name: value for name, value in (("beta_1", cfg.beta_1), ("beta_2", cfg.beta_2))
                       if value is not None})
    return OPTIMIZERS[cfg.optimizer](**kwargs)


def build_mlp(*, name, input_shape, hidden, num_classes, dropout=0.0, l2=0.0):
    """Inputs (flattened if needed) → Dense(ReLU) per `hidden` size → softmax, as an RnnkitModel."""
    regularizer = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input(shape=input_shape, name="inputs")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    for i, size in enumerate(hidden):
        x = keras.layers.Dense(size, activation="relu", kernel_regularizer=regularizer, name=f"dense_{i + 1}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{i + 1}")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", kernel_regularizer=regularizer, name="head")(x)
    return RnnkitModel(inputs, outputs, name=name)


# The seed's CIFAR-10 network: 3×3 convolutions (stride 1, 'same'), each with BatchNorm + ReLU; "pool" is a
# 3×3 max-pool of stride 2 with 'same' padding.
CNN8_PLAN = (64, "pool", 128, "pool", 256, 256, "pool", 512, 512, "pool", 512, 512, "pool")


def build_cnn8(*, name, input_shape, num_classes, l2=0.0, dropout=0.0):
    """The 8-conv CNN of the seed report, then one Dense(num_classes) softmax."""
    regularizer = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input(shape=input_shape, name="images")
    x = inputs
    convs = 0
    for step in CNN8_PLAN:
        if step == "pool":
            x = keras.layers.MaxPooling2D(3, strides=2, padding="same")(x)
            continue
        convs += 1
        x = keras.layers.Conv2D(step, 3, padding="same", use_bias=False, kernel_regularizer=regularizer,
                                name=f"conv_{convs}")(x)
        x = keras.layers.BatchNormalization(name=f"bn_{convs}")(x)
        x = keras.layers.ReLU(name=f"relu_{convs}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if dropout:
        x = keras.layers.Dropout(dropout)(x)
    # float32 output keeps the softmax stable under a mixed-precision policy.
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", kernel_regularizer=regularizer,
                                 name="head")(x)
    return RnnkitModel(inputs, outputs, name=name)


@contextlib.contextmanager
def mixed_precision(enabled=True):
    """Within the block, new layers compute in float16 with float32 variables; the previous policy comes back."""
    if not enabled:
        yield
        return
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
