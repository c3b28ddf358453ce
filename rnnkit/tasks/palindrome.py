"""`palindrome`: a digit palindrome of length --len with its last digit hidden → that digit."""
import numpy as np

from rnnkit.models import build_recurrent_model
from rnnkit.tasks.base import mark, require
from rnnkit.tasks.sequence import DigitClassificationTask


class Palindrome(DigitClassificationTask):
    """The model reads the first --len − 1 digits and names the last one (which equals the first)."""

    name = "palindrome"
    summary = "finish a digit palindrome (vanilla RNN, RMSprop, clipnorm 10, as the seed)"
    defaults = dict(length=20, cell="rnn", units=(128,), embed_dim=16, optimizer="rmsprop", lr=1e-3, clipnorm=10.0,
                    epochs=10, steps_per_epoch=100, batch_size=64)
    flags = ("length",)
    codec, example_input = "palindrome", "3 1 4 1 5 9 2 6 5 3 3 5 6 2 9 5 1 4 1"

    def validate(self, cfg):
        """A palindrome needs at least two digits for one to be hidden."""
        require(cfg.length >= 2, f"--len must be at least 2 for palindrome, got {cfg.length}")

    def make_arrays(self, cfg, rng, n, length):
        """x: (n, length−1) visible digits; y: (n,) the hidden last digit."""
        half = rng.integers(0, 10, (n, (length + 1) // 2), dtype=np.int32)
        full = np.concatenate([half, half[:, : length // 2][:, ::-1]], axis=1)
        return full[:, :-1].copy(), full[:, -1].copy()

    def build_model(self, cfg):
        """Embedding → recurrent stack (last state) → Dense(10)."""
        return build_recurrent_model(name="palindrome", cell=cfg.cell, units=cfg.units, num_classes=10,
                                     vocab_size=10, embed_dim=cfg.embed_dim, bidirectional=cfg.bidirectional,
                                     dropout=cfg.dropout, l2=cfg.l2, return_sequences=False)

    def render(self, cfg, x, y_true, y_pred):
        """`3 1 4 4 1 ? → 3 ✓`."""
        return f"{' '.join(map(str, x))} ? → {int(y_pred)} {mark(int(y_pred) == int(y_true), int(y_true))}"


TASK = Palindrome()
