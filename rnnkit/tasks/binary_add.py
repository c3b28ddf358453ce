"""`binary_add`: two binary strings → their sum, bit by bit, least significant first."""
import numpy as np

from rnnkit.core import codecs
from rnnkit.core.lazy import LazyModule
from rnnkit.core.options import Option
from rnnkit.tasks.base import NO_EMBEDDING, mark, require
from rnnkit.tasks.sequence import CARRY_MIX, AdditionTask, add_digits, digits_to_int, length_option, train_len_option

keras = LazyModule("keras")
keras_metrics = LazyModule("rnnkit.models.metrics")
models = LazyModule("rnnkit.models.builders")

LOSSES = ("mse", "bce", "ce")


class BinaryAddCodec(codecs.Codec):
    """`1011+110` in, the binary sum out."""

    name = "binary_add"

    def encode(self, metadata, text):
        """`1011+110` → (1, L+1, 2) float32 bits as −1/+1, or 0/1 for a model trained on `--bit-inputs 01` (the
        carry slot holds a 0 bit)."""
        bits = codecs.operands(metadata, text, "01", "binary")
        return (bits if metadata["input"].get("bit_inputs") == "01" else 2 * bits - 1).astype(np.float32)

    def describe(self, metadata, text, x, output):
        """`1011 + 110 = 10001`."""
        bits = (output[:, 0] > 0.5) if output.shape[-1] == 1 else output.argmax(-1)
        a, b = (codecs.sum_text(x[:, i] > 0, 2) for i in (0, 1))
        return f"{a} + {b} = {codecs.sum_text(bits, 2)}"


class BinaryAdd(AdditionTask):
    """Per-bit prediction from the two operand bits; `--loss` picks a sigmoid (mse/bce) or softmax (ce) head."""

    name = "binary_add"
    summary = "add two binary strings bit by bit (train on short, test on long)"
    unread = NO_EMBEDDING
    defaults = dict(length=20, train_len=(1, 10), carry_mix=0.5, loss="bce", cell="rnn", units=(8,), optimizer="adam",
                    lr=3e-2,
                    epochs=30, steps_per_epoch=100, batch_size=64, eval_lens=(100, 1000), restarts=5)
    options = (length_option(20, "bits per operand at test time"),
               train_len_option("train on this length or range of bits, e.g. 5 or 1-20"),
               Option("loss", "bce", "the loss: mse or bce on a sigmoid bit, ce on a two-way softmax", kind="choice",
                      choices=LOSSES, searchable=True),
               Option("bit_inputs", "pm1", "how an operand bit is fed: pm1 (-1/+1, centred) or 01 (0/1, as the seed "
                      "reports)", kind="choice", choices=("pm1", "01"), searchable=True),
               CARRY_MIX, *AdditionTask.options)
    base = 2
    codec, example_input = BinaryAddCodec(), "1011+110"

    def validate(self, cfg):
        """Lengths positive, loss known."""
        require(cfg.length >= 1, f"--len must be at least 1, got {cfg.length}")
        require(cfg.loss in LOSSES, f"--loss must be one of {', '.join(LOSSES)}, got {cfg.loss!r}")

    def train_lengths(self, cfg):
        """Every length in --train-len."""
        low, high = cfg.train_len
        return list(range(low, high + 1))

    def eval_lengths(self, cfg):
        """1..--len (as the seeds reported), then --eval-lens."""
        return sorted({*range(1, cfg.length + 1), *cfg.eval_lens})

    def encode(self, cfg, a, b):
        """x: (n, length+1, 2) operand bits as -1/+1 with a zero-bit carry slot; y: sum bits, (n, length+1[, 1]).

        Bits are fed as -1/+1 by default: centred inputs keep tanh units out of saturation, so a 3-unit vanilla
        RNN finds the carry far more often than from 0/1 (`--bit-inputs 01`, what the seed reports fed).
        """
        n, length = a.shape
        y = add_digits(a, b, base=2)
        bits = np.zeros((n, length + 1, 2), dtype=np.float32)
        bits[:, :length, 0], bits[:, :length, 1] = a, b
        x = bits.astype(np.float32) if cfg.bit_inputs == "01" else 2 * bits - 1
        if cfg.loss != "ce":
            y = y[..., None].astype(np.float32)
        return x, y

    def codec_info(self, cfg):
        """How the model takes its bits."""
        return {**super().codec_info(cfg), "bit_inputs": cfg.bit_inputs}

    def build_model(self, cfg):
        """Raw bits → recurrent stack → one sigmoid (mse, bce) or a 2-way softmax (ce) per position."""
        ce = cfg.loss == "ce"
        return models.build_recurrent_model(name="binary_add", cell=cfg.cell, units=cfg.units, features=2,
                                            num_classes=2 if ce else 1,
                                            output_activation="softmax" if ce else "sigmoid",
                                            bidirectional=cfg.bidirectional, dropout=cfg.dropout, l2=cfg.l2)

    def loss(self, cfg):
        """Mean squared error, binary or categorical cross-entropy, per --loss."""
        return {"mse": keras.losses.MeanSquaredError(), "bce": keras.losses.BinaryCrossentropy(),
                "ce": keras.losses.SparseCategoricalCrossentropy()}[cfg.loss]

    def metrics(self, cfg):
        """Per-bit accuracy and whole-sum exact match."""
        return keras_metrics.classification_metrics("softmax" if cfg.loss == "ce" else "sigmoid")

    def decode(self, cfg, y_pred):
        """Predicted bits, shaped like y."""
        if cfg.loss == "ce":
            return np.argmax(y_pred, axis=-1)
        return (y_pred > 0.5).astype(np.int32)

    def class_labels(self, cfg):
        """A bit."""
        return ("0", "1")

    def render(self, cfg, x, y_true, y_pred):
        """`1011 + 110 = 10001 ✓`, most significant bit first."""
        a, b = digits_to_int(x[:-1, 0] > 0, 2), digits_to_int(x[:-1, 1] > 0, 2)
        got, want = digits_to_int(np.ravel(y_pred), 2), digits_to_int(np.ravel(y_true), 2)
        width = len(x) - 1
        return f"{a:0{width}b} + {b:0{width}b} = {got:0{width + 1}b} {mark(got == want, f'{want:b}')}"


TASK = BinaryAdd()
