"""`recall`: a digit sequence of length --min-len..--max-len → its --k-th digit (1-based)."""
import numpy as np

from rnnkit.models import build_recurrent_model
from rnnkit.tasks.base import mark, require
from rnnkit.tasks.sequence import DigitClassificationTask

PAD = 0  # token 0 is padding; digit d is token d + 1


class Recall(DigitClassificationTask):
    """Variable-length sequences padded at the end and masked, so padding never reaches the answer."""

    name = "recall"
    summary = "remember the --k-th digit of a variable-length sequence"
    defaults = dict(min_len=3, max_len=10, k=1, cell="lstm", units=(32,), embed_dim=16, optimizer="adam", lr=1e-2,
                    epochs=10, steps_per_epoch=100, batch_size=64, eval_lens=(20, 50))
    flags = ("min_len", "max_len", "k")
    codec, example_input = "recall", "3 5 8 6 8"

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

    def eval_lengths(self, cfg):
        """The mix, every single length of the range, then --eval-lens."""
        return sorted({0, *range(cfg.min_len, cfg.max_len + 1), *cfg.eval_lens})

    def length_label(self, cfg, length):
        """`3-10` for the mixed test set, the number otherwise."""
        return str(length) if length else f"{cfg.min_len}-{cfg.max_len}"

    def make_arrays(self, cfg, rng, n, length):
        """x: (n, width) tokens padded with 0; y: (n,) the k-th digit. length 0 means mixed lengths."""
        if length:
            lengths = np.full(n, length)
        else:
            lengths = rng.integers(cfg.min_len, cfg.max_len + 1, n)
        width = int(lengths.max())
        digits = rng.integers(0, 10, (n, width), dtype=np.int32)
        x = np.where(np.arange(width)[None, :] < lengths[:, None], digits + 1, PAD).astype(np.int32)
        return x, digits[:, cfg.k - 1].copy()

    def build_model(self, cfg):
        """Masked Embedding → recurrent stack (last valid state) → Dense(10)."""
        return build_recurrent_model(name="recall", cell=cfg.cell, units=cfg.units, num_classes=10, vocab_size=11,
                                     embed_dim=cfg.embed_dim, mask_zero=True, bidirectional=cfg.bidirectional,
                                     dropout=cfg.dropout, l2=cfg.l2, return_sequences=False)

    def codec_info(self, cfg):
        """Which digit the model answers."""
        return {**super().codec_info(cfg), "k": cfg.k}

    def render(self, cfg, x, y_true, y_pred):
        """`3 5 8 6 8 [k=2] → 5 ✓`."""
        seq = " ".join(str(t - 1) for t in x if t != PAD)
        return f"{seq} [k={cfg.k}] → {int(y_pred)} {mark(int(y_pred) == int(y_true), int(y_true))}"


TASK = Recall()
