"""`recall`: a digit sequence of length --min-len..--max-len → its --k-th digit (1-based)."""
import numpy as np

from rnnkit.core import codecs
from rnnkit.core.errors import UsageError
from rnnkit.core.lazy import LazyModule
from rnnkit.core.options import Option
from rnnkit.tasks.base import mark, require
from rnnkit.tasks.sequence import MAX_LEN, DigitClassificationTask

models = LazyModule("rnnkit.models.builders")

PAD = 0  # token 0 is padding; digit d is token d + 1


class RecallCodec(codecs.Codec):
    """A digit sequence in, its k-th digit out."""

    name = "recall"

    def encode(self, metadata, text):
        """Digits → tokens d + 1 (0 is padding); the sequence must reach position k."""
        digits = codecs.digit_list(metadata, text)
        k = metadata["input"]["k"]
        if len(digits) < k:
            raise UsageError(f"this model answers digit k={k}, so the sequence needs at least {k} digits")
        return codecs.tokens(metadata, [d + 1 for d in digits], "digits")

    def describe(self, metadata, text, x, output):
        """`3 5 8 6 8 [k=2] → 5 (0.99)`."""
        seq = " ".join(str(t - 1) for t in x if t)
        return f"{seq} [k={metadata['input']['k']}] → {codecs.ranked(metadata, output, 1)}"


class Recall(DigitClassificationTask):
    """Variable-length sequences padded at the end and masked, so padding never reaches the answer."""

    name = "recall"
    summary = "remember the --k-th digit of a variable-length sequence"
    # 30 epochs: a 5-unit LSTM (the size the seed reports train) needs them to be exact at every seed.
    defaults = dict(min_len=3, max_len=10, k=1, cell="lstm", units=(32,), embed_dim=16, optimizer="adam", lr=1e-2,
                    epochs=30, steps_per_epoch=100, batch_size=64, eval_lens=(20, 50))
    options = (Option("min_len", 3, "shortest sequence", bounds=(1, MAX_LEN)),
               Option("max_len", 10, "longest sequence", bounds=(1, MAX_LEN)),
               Option("k", 1, "which digit to answer (1-based)", bounds=(1, MAX_LEN)),
               *DigitClassificationTask.options)
    codec, example_input = RecallCodec(), "3 5 8 6 8"

    def validate(self, cfg):
        """1 <= k <= min_len <= max_len."""
        require(cfg.min_len >= 1, f"--min-len must be at least 1, got {cfg.min_len}")
        require(cfg.min_len <= cfg.max_len,
                f"--min-len ({cfg.min_len}) must not be larger than --max-len ({cfg.max_len})")
        require(1 <= cfg.k <= cfg.min_len,
                f"--k must be between 1 and --min-len ({cfg.min_len}) so every sequence has it, got {cfg.k}")

    def main_length(self, cfg):
        """Tested on the whole --min-len..--max-len mix; 0 stands for 'mixed' in by_length."""
        return 0

    def train_lengths(self, cfg):
        """One pool of mixed lengths: batches mix lengths and rely on the mask."""
        return [0]

    def pool_width(self, cfg, length):
        """The mixed pool (length 0) is padded to --max-len."""
        return length or cfg.max_len

    def eval_lengths(self, cfg):
        """The mix, every single length of the range, then --eval-lens."""
        return sorted({0, *range(cfg.min_len, cfg.max_len + 1), *cfg.eval_lens})

    def length_label(self, cfg, length):
        """`3-10` for the mixed test set, the number otherwise."""
        return str(length) if length else f"{cfg.min_len}-{cfg.max_len}"

    def make_arrays(self, cfg, rng, n, length):
        """x: (n, width) tokens padded with 0; y: (n,) the k-th digit. length 0 means mixed lengths."""
        lengths = self._lengths(cfg, rng, n, length)
        return self._encode(cfg, rng.integers(0, 10, (n, int(lengths.max())), dtype=np.int32), lengths)

    def stress_arrays(self, cfg, rng, n, length):
        """The answer repeated in about half the other positions, all digits equal; on the mix also the
        shortest and the longest sequences."""
        lengths = self._lengths(cfg, rng, n, length)
        width = int(lengths.max())
        answer = rng.integers(0, 10, (n, 1))
        repeated = np.where(rng.random((n, width)) < 0.5, answer, rng.integers(0, 10, (n, width)))
        repeated[:, cfg.k - 1] = answer[:, 0]
        families = {"answer_repeated": self._encode(cfg, repeated, lengths),
                    "equal_digits": self._encode(cfg, np.repeat(answer, width, 1), lengths)}
        if not length:
            for label, size in (("min_length", cfg.min_len), ("max_length", cfg.max_len)):
                families[label] = self.make_arrays(cfg, rng, n, size)
        return families

    def _lengths(self, cfg, rng, n, length):
        """Every example `length` long, or (0) lengths drawn from --min-len..--max-len."""
        return np.full(n, length) if length else rng.integers(cfg.min_len, cfg.max_len + 1, n)

    def _encode(self, cfg, digits, lengths):
        """Digits `(n, width)` cut to `lengths` → (tokens padded with 0, the k-th digit)."""
        width = digits.shape[1]
        x = np.where(np.arange(width)[None, :] < lengths[:, None], digits + 1, PAD).astype(np.int32)
        return x, digits[:, cfg.k - 1].astype(np.int32)

    def build_model(self, cfg):
        """Masked Embedding → recurrent stack (last valid state) → Dense(10)."""
        return models.build_recurrent_model(name="recall", cell=cfg.cell, units=cfg.units, num_classes=10,
                                            vocab_size=11, embed_dim=cfg.embed_dim, mask_zero=True,
                                            bidirectional=cfg.bidirectional, dropout=cfg.dropout, l2=cfg.l2,
                                            return_sequences=False)

    def codec_info(self, cfg):
        """Which digit the model answers."""
        return {**super().codec_info(cfg), "k": cfg.k}

    def render(self, cfg, x, y_true, y_pred):
        """`3 5 8 6 8 [k=2] → 5 ✓`."""
        seq = " ".join(str(t - 1) for t in x if t != PAD)
        return f"{seq} [k={cfg.k}] → {int(y_pred)} {mark(int(y_pred) == int(y_true), int(y_true))}"


TASK = Recall()
