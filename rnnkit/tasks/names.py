"""`names`: a surname → its language, read character by character (the PyTorch tutorial's task)."""
import numpy as np

from rnnkit.models import build_recurrent_model
from rnnkit.tasks.arrays import ArrayTask, Splits, stratified_split
from rnnkit.tasks.base import require
from rnnkit.tasks.names_data import ALLOWED, clean, faker_surnames, folder_surnames

TEST_FRACTION = 0.1
VAL_FRACTION = 0.1


class Names(ArrayTask):
    """Names as character tokens (0 = padding, masked), one batch mixing lengths, → one of the languages."""

    name = "names"
    summary = "a surname → its language (embedded Faker lists, or --source folder --data-dir DIR)"
    defaults = dict(source="embedded", cell="lstm", units=(128,), bidirectional=True, embed_dim=32,
                    ngrams=(1, 2, 3, 4), optimizer="adam", lr=1e-2, epochs=40, steps_per_epoch=None, batch_size=256,
                    lr_schedule="plateau", patience=10)
    flags = ("source", "data_dir", "ngrams")
    codec, example_input = "names", "Nguyen"

    def validate(self, cfg):
        """--source embedded or folder (folder needs --data-dir)."""
        require(cfg.source in ("embedded", "folder"), f"--source for names must be embedded or folder, "
                                                      f"got {cfg.source!r}")
        require(cfg.source != "folder" or cfg.data_dir, "--source folder needs --data-dir DIR of <Language>.txt files")

    def load_splits(self, cfg):
        """Clean the names, encode them, and split 80 / 10 / 10 stratified by language (fixed, seed 0)."""
        if cfg.source == "folder":
            raw, source = folder_surnames(cfg.data_dir), f"folder {cfg.data_dir}"
        else:
            raw = faker_surnames()
            source = "embedded: surname lists inside Faker's person providers, romanized with unidecode"
        names_by_language, dropped = clean(raw)
        languages = tuple(sorted(names_by_language))
        names = [name for language in languages for name in names_by_language[language]]
        y = np.array([i for i, language in enumerate(languages) for _ in names_by_language[language]], np.int32)
        x = encode(names)
        rest, test = stratified_split(y, TEST_FRACTION, seed=0)
        train, val = stratified_split(y[rest], VAL_FRACTION / (1 - TEST_FRACTION), seed=0)
        train, val = rest[train], rest[val]
        source += f"; {len(names)} unique names, {dropped} names found in two languages dropped"
        return Splits((x[train], y[train]), (x[val], y[val]), (x[test], y[test]), languages, source)

    def build_model(self, cfg):
        """Masked character Embedding → recurrent stack (state at each name's last letter) [⊕ n-gram bag] → softmax."""
        return build_recurrent_model(name="names", cell=cfg.cell, units=cfg.units,
                                     num_classes=len(self.splits(cfg).class_names), vocab_size=len(ALLOWED) + 1,
                                     embed_dim=cfg.embed_dim, mask_zero=True, bidirectional=cfg.bidirectional,
                                     dropout=cfg.dropout, l2=cfg.l2, return_sequences=False,
                                     ngram_orders=cfg.ngrams)

    def codec_info(self, cfg):
        """The character alphabet (token i + 1 is ALLOWED[i])."""
        return {**super().codec_info(cfg), "alphabet": ALLOWED}

    def show(self, cfg, x):
        """The name itself."""
        return decode(x)


def encode(names, width=None):
    """Names → (n, width) int32 tokens, character i of ALLOWED as i + 1, padded with 0 at the end."""
    width = width or max(len(name) for name in names)
    tokens = np.zeros((len(names), width), dtype=np.int32)
    for row, name in enumerate(names):
        tokens[row, : len(name)] = [ALLOWED.index(c) + 1 for c in name[:width]]
    return tokens


def decode(tokens):
    """Tokens → the name."""
    return "".join(ALLOWED[t - 1] for t in np.asarray(tokens) if t > 0)


TASK = Names()
