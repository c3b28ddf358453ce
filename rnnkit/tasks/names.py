"""`names`: a surname → its language, read character by character (the PyTorch tutorial's task)."""
import os
import sys

import numpy as np

from rnnkit.core import codecs
from rnnkit.core.errors import UsageError
from rnnkit.core.lazy import LazyModule
from rnnkit.core.options import Option
from rnnkit.tasks.arrays import ArrayTask, Splits, source_options, stratified_split
from rnnkit.tasks.base import require
from rnnkit.tasks.names_data import ALLOWED, clean, faker_surnames, folder_surnames

models = LazyModule("rnnkit.models.builders")

TEST_FRACTION = 0.1
VAL_FRACTION = 0.1
MIN_TRAIN = 5  # fewer training names than this for a language gets a warning


class NamesCodec(codecs.Codec):
    """A surname in any script in, its likeliest languages out."""

    name = "names"

    def encode(self, metadata, text):
        """A name, romanized and folded to the training alphabet → character tokens."""
        alphabet = metadata["input"]["alphabet"]
        name = self._romanize(text, alphabet)
        if not name:
            raise UsageError(f"{text!r} has no letters the model knows (it reads {alphabet!r})")
        return codecs.tokens(metadata, [alphabet.index(c) + 1 for c in name], "characters")

    def _romanize(self, text, alphabet):
        """Latin letters for any script, accents stripped, anything outside `alphabet` dropped."""
        from unidecode import unidecode
        return "".join(c for c in unidecode(text) if c in alphabet).strip()

    def read_cases(self, metadata, path):
        """Every name of a folder of `<Language>.txt` files, read as `--source folder` reads one."""
        return labelled_tokens(self, metadata, path, folder_surnames(path)) if os.path.isdir(path) else None

    def describe(self, metadata, text, x, output):
        """`Nguyen → Vietnamese 0.97, Chinese 0.02, Korean 0.01`."""
        alphabet = metadata["input"]["alphabet"]
        return f"{''.join(alphabet[t - 1] for t in x if t)} → {codecs.ranked(metadata, output, codecs.TOP)}"


def labelled_tokens(codec, metadata, path, texts):
    """(tokens (cases, width) padded with 0, labels, the texts) of {label: [texts]} read from `path`, each text
    encoded as `codec` encodes a typed one; blank lines are skipped."""
    rows, labels, names = [], [], []
    for label, items in texts.items():
        for item in (item for item in items if item.strip()):
            try:
                rows.append(codec.encode(metadata, item.strip())[0])
            except UsageError as error:
                raise UsageError(f"{path}: {label}: {error}") from None
            labels.append(label)
            names.append(item.strip()[:40])
    if not rows:
        raise UsageError(f"{path} holds no texts")
    tokens = np.zeros((len(rows), max(len(row) for row in rows)), dtype=np.int32)
    for index, row in enumerate(rows):
        tokens[index, : len(row)] = row
    return tokens, labels, names


class Names(ArrayTask):
    """Names as character tokens (0 = padding, masked), one batch mixing lengths, → one of the languages."""

    name = "names"
    summary = "a surname → its language (embedded Faker lists, or --source folder --data-dir DIR)"
    defaults = dict(source="embedded", cell="lstm", units=(128,), bidirectional=True, embed_dim=32,
                    ngrams=(1, 2, 3, 4), optimizer="adam", lr=1e-2, epochs=40, steps_per_epoch=None, batch_size=256,
                    lr_schedule="plateau", patience=10)
    options = (*source_options("embedded", ("embedded", "folder"), "one <Language>.txt file of names per language"),
               Option("ngrams", (1, 2, 3, 4), "also average hashed character n-grams of these orders beside the "
                      "recurrent state", kind="ints", bounds=(1, 5), metavar="N[,N...]", negative="--no-ngrams"),
               Option("overlap", None, "a name listed under two languages is dropped from both, or kept in each "
                      "(none: drop for the embedded lists, keep for a --source folder)", kind="choice",
                      choices=("drop", "keep")),
               *ArrayTask.options)
    codec, example_input = NamesCodec(), "Nguyen"

    def validate(self, cfg):
        """--source embedded or folder (folder needs --data-dir)."""
        require(cfg.source in ("embedded", "folder"), f"--source for names must be embedded or folder, "
                                                      f"got {cfg.source!r}")
        require(cfg.source != "folder" or cfg.data_dir, "--source folder needs --data-dir DIR of <Language>.txt files")

    DATA_FIELDS = ("source", "data_dir", "overlap")

    def derived_defaults(self, values):
        """--overlap: drop for the embedded lists (curated), keep for a user's folder (the user's own labels)."""
        return {**super().derived_defaults(values), "overlap": "drop" if values.get("source") == "embedded" else "keep"}

    def load_splits(self, cfg):
        """Clean the names, encode them, and split 80 / 10 / 10 stratified by language (fixed, seed 0); every
        listing of one name lands in the same split.

        The per-language report (read, duplicates, shared, kept, and names per split) goes to metrics.json;
        a language with no training name at all is refused (`announce` warns about thin ones).
        """
        if cfg.source == "folder":
            raw, source = folder_surnames(cfg.data_dir), f"folder {cfg.data_dir}"
        else:
            raw = faker_surnames()
            source = "embedded: surname lists inside Faker's person providers, romanized with unidecode"
        names_by_language, report = clean(raw, cfg.overlap)
        languages = tuple(sorted(names_by_language))
        names = [name for language in languages for name in names_by_language[language]]
        y = np.array([i for i, language in enumerate(languages) for _ in names_by_language[language]], np.int32)
        x = encode(names) if names else np.zeros((0, 1), np.int32)
        # A name kept under several languages (--overlap keep) goes to one split with all its listings.
        train, val, test = grouped_split(y, names, languages, report)
        check_languages(report, cfg.overlap)
        shared = sum(row["shared"] for row in report.values())
        source += (f"; {len(names)} names kept; {shared} listings of names that two or more languages share "
                   f"{'dropped' if cfg.overlap == 'drop' else 'kept in each'} (--overlap {cfg.overlap})")
        return Splits((x[train], y[train]), (x[val], y[val]), (x[test], y[test]), languages, source, report)

    def announce(self, cfg, data):
        """Warn about thin languages."""
        warn_thin(data.report)

    def results_table(self, results):
        """The classification figures, then what the loader did per language."""
        return super().results_table(results) + "\n\n" + data_table(results["data"])

    def build_model(self, cfg):
        """Masked character Embedding → recurrent stack (state at each name's last letter) [⊕ n-gram bag] → softmax."""
        return models.build_recurrent_model(name="names", cell=cfg.cell, units=cfg.units,
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


def grouped_split(y, texts, classes, report):
    """(train, val, test) indices, 80 / 10 / 10 stratified by class (fixed, seed 0), every copy of one text (case
    ignored) in one split; each class's count per split goes into `report`."""
    keys = np.array([text.lower() for text in texts])
    rest, test = stratified_split(y, TEST_FRACTION, seed=0, groups=keys)
    train, val = stratified_split(y[rest], VAL_FRACTION / (1 - TEST_FRACTION), seed=0, groups=keys[rest])
    train, val = rest[train], rest[val]
    for split, index in (("train", train), ("val", val), ("test", test)):
        for i, count in enumerate(np.bincount(y[index], minlength=len(classes))):
            report[classes[i]][split] = int(count)
    return train, val, test


def check_languages(report, overlap, what="names"):
    """Refuse a class with no training example, in one line saying why. `what` names the examples (names,
    texts)."""
    for language, row in report.items():
        if row["train"] == 0:
            why = (f"all {row['shared']} of its names are listed under other languages too and --overlap drop "
                   "removes them (--overlap keep keeps them)" if row["kept"] == 0 and row["shared"] and
                   overlap == "drop" else f"{row['kept']} usable {what} are too few to split")
            raise UsageError(f"{what}: {language} has no training example: {why}")


def warn_thin(report, what="names"):
    """A warning line on stderr for each class with few training examples or none to validate or test on."""
    for language, row in report.items():
        missing = [split for split in ("val", "test") if row[split] == 0]
        if row["train"] < MIN_TRAIN or missing:
            thin = f"only {row['train']} training {what}" if row["train"] < MIN_TRAIN else ""
            none = f"no {' and no '.join(missing)} {what} (its figures there are null)" if missing else ""
            print(f"rnnkit: warning: {what}: {language} has {'; '.join(p for p in (thin, none) if p)}",
                  file=sys.stderr)


def data_table(report, heading="language"):
    """Per language (or `heading`: each label), largest first: names read, duplicates, shared with other labels,
    kept, and per split."""
    lines = [f"{heading:<14}{'read':>7}{'dupes':>7}{'shared':>8}{'kept':>7}{'train':>7}{'val':>6}{'test':>6}"]
    for language, row in sorted(report.items(), key=lambda item: (-item[1]["kept"], item[0])):
        lines.append(f"{language[:13]:<14}{row['read']:>7}{row['duplicates']:>7}{row['shared']:>8}{row['kept']:>7}"
                     f"{row['train']:>7}{row['val']:>6}{row['test']:>6}")
    return "\n".join(lines)


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
