"""`adder`: two --len-digit decimal numbers → their sum, one digit per step, least significant first."""
import numpy as np

from rnnkit.core import codecs
from rnnkit.core.lazy import LazyModule
from rnnkit.core.options import Option
from rnnkit.tasks.base import mark, require
from rnnkit.tasks.sequence import (CARRY_MIX, AdditionTask, DigitClassificationTask, add_digits, digits_to_int,
                                   length_option, train_len_option)

models = LazyModule("rnnkit.models.builders")


# Digits per training sum when --train-len is not given, by cell: the vanilla RNN, and the GRU started as one, learn
# the carry from 40-digit sums; the LSTM learns it from 20-digit ones, and longer sums only slow it.
CURRICULUM_LENGTH = {"rnn": 40, "lstm": 20, "gru": 40}
# Why the default is what it is (figures: benchmarks/README.md, "The headline"):
# - half the training sums carry one long chain (carries.enriched_operands): random sums alone almost never hold
#   a carry for long, so a model trained on them fails 99…9 + 1;
# - gradients clipped to norm 1 let a vanilla RNN hold a carry over 10 000 digits, where a GRU from Keras'
#   initialisation drifts after about 1 000;
# - Adam's epsilon at 1e-4 (Keras: 1e-7) damps the late loss spikes that threw some seeds into imprecise minima;
# - one RNN layer of 64 suffices (a tanh layer can hold the position's sum and carry) and trains faster than two.
# The GRU starts with its update gate shut (bias -10: a vanilla RNN with a reset gate); the GRU and LSTM keep two
# layers and the set-ups they were tuned with.
LSTM_SETUP = dict(units=(64, 64), epochs=10, clipnorm=None, epsilon=None)
GRU_SETUP = dict(units=(64, 64), update_gate_bias=-10.0)


class AdderCodec(codecs.Codec):
    """`31415+27182` in, the sum out."""

    name = "adder"

    def encode(self, metadata, text):
        """`31415+27182` → (1, L+1, 2) int32 digits."""
        return codecs.operands(metadata, text, "0123456789", "decimal")

    def describe(self, metadata, text, x, output):
        """`31415 + 27182 = 58597`."""
        a, b = (codecs.sum_text(x[:, i], 10) for i in (0, 1))
        return f"{a} + {b} = {codecs.sum_text(output.argmax(-1), 10)}"


class Adder(AdditionTask, DigitClassificationTask):
    """Per-position 10-way classification over aligned LSB-first operands plus one carry position."""

    name = "adder"
    summary = "add two --len-digit decimal numbers digit by digit"
    defaults = dict(length=100, cell="rnn", carry_mix=0.5, units=(64,), embed_dim=32, optimizer="adam", lr=1e-2,
                    clipnorm=1.0, epsilon=1e-4, epochs=30, steps_per_epoch=50, batch_size=64, eval_lens=(10, 1000))
    cell_defaults = {"gru": GRU_SETUP, "lstm": LSTM_SETUP}
    options = (length_option(100, "digits per operand"),
               train_len_option("train on this length or range, e.g. 5 or 1-20 (default: min(--len, 40 for rnn and "
                                "gru, 20 for lstm))"),
               CARRY_MIX,
               Option("update_gate_bias", None, "--cell gru: the update gate's bias at initialisation (-10 starts the "
                      "GRU as a vanilla RNN; none is Keras' 0)", kind="float", bounds=(-30.0, 30.0), metavar="B"),
               *AdditionTask.options)
    codec, example_input = AdderCodec(), "31415+27182"

    def validate(self, cfg):
        """Lengths must be positive; --update-gate-bias is for a GRU."""
        require(cfg.length >= 1, f"--len must be at least 1, got {cfg.length}")
        require(cfg.update_gate_bias is None or cfg.cell == "gru",
                f"--update-gate-bias applies to --cell gru, not {cfg.cell}")

    def train_lengths(self, cfg):
        """--train-len (a length or a range) if given, else min(--len, the cell's CURRICULUM_LENGTH).

        Digit addition is the same at every position, so a model trained on 20-digit sums adds 100- or
        10 000-digit ones; a step at 21 positions costs a fifth of one at 101. Test results are always
        measured at --len.
        """
        if cfg.train_len is None:
            return [min(cfg.length, CURRICULUM_LENGTH[cfg.cell])]
        low, high = cfg.train_len
        return list(range(low, high + 1))

    def encode(self, cfg, a, b):
        """x: (n, length+1, 2) operand digits with a zero carry slot; y: (n, length+1) sum digits."""
        n, length = a.shape
        y = add_digits(a, b, base=10)
        x = np.zeros((n, length + 1, 2), dtype=np.int32)
        x[:, :length, 0], x[:, :length, 1] = a, b
        return x, y

    def build_model(self, cfg):
        """Shared digit Embedding, the operands concatenated per position, recurrent stack, Dense(10)."""
        return models.build_recurrent_model(name="adder", cell=cfg.cell, units=cfg.units, num_classes=10, vocab_size=10,
                                            embed_dim=cfg.embed_dim, operands=2, embeddings_initializer="normal",
                                            bidirectional=cfg.bidirectional, dropout=cfg.dropout, l2=cfg.l2,
                                            update_gate_bias=cfg.update_gate_bias)

    def render(self, cfg, x, y_true, y_pred):
        """`a + b = predicted ✓` (or `✗ (true …)`), written most significant digit first."""
        a, b = digits_to_int(x[:-1, 0]), digits_to_int(x[:-1, 1])
        got, want = digits_to_int(y_pred), digits_to_int(y_true)
        return f"{a} + {b} = {got} {mark(got == want, want)}"


TASK = Adder()
