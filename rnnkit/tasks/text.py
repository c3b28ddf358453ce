"""`text`: a user's labelled short texts (a folder of `<label>.txt` files or a `text,label` CSV) → the label,
read character by character with the names model (the names task generalised)."""
import csv
import os
import string

import numpy as np

from rnnkit.core import codecs
from rnnkit.core.errors import UsageError
from rnnkit.core.lazy import LazyModule
from rnnkit.core.options import Option
from rnnkit.tasks.arrays import ArrayTask, Splits
from rnnkit.tasks.base import require
from rnnkit.tasks.names import NamesCodec, check_languages, data_table, grouped_split, labelled_tokens, warn_thin
from rnnkit.tasks.names_data import clean
from rnnkit.tasks.user_files import ENCODING, first_line, separator

models = LazyModule("rnnkit.models.builders")

TABLES = (".csv", ".tsv")  # a labelled-text table's extensions; its separator is read from its header
ALPHABET = string.ascii_letters + string.digits + string.punctuation + " "  # after unidecode: any script


class TextCodec(NamesCodec):
    """A text in any script in (romanized, cut to the model's length), its likeliest labels out."""

    name = "text"

    def read_cases(self, metadata, path):
        """Every text of a labelled folder of `<label>.txt` files or a text,label CSV, read as --data reads one."""
        if not (os.path.isdir(path) or path.lower().endswith(TABLES)):
            return None
        return labelled_tokens(self, metadata, path, read_texts(path))

    def encode(self, metadata, text):
        """The text's characters as tokens, at most the model's `max_chars`."""
        alphabet, width = metadata["input"]["alphabet"], metadata["input"]["max_chars"]
        kept = fold(text, alphabet)[:width]
        if not kept:
            raise UsageError(f"{text[:40]!r} has no character the model knows")
        return codecs.tokens(metadata, [alphabet.index(c) + 1 for c in kept], "characters")


class Text(ArrayTask):
    """Texts as character tokens (0 = padding, masked) → one of the labels; the names model and its imbalance
    handling (--class-weight, per-class figures, the overlap report)."""

    name = "text"
    summary = "your own labelled short texts (--data: a folder of <label>.txt files, or a text,label CSV)"
    defaults = dict(cell="lstm", units=(128,), bidirectional=True, embed_dim=32, optimizer="adam", lr=1e-2,
                    epochs=40, steps_per_epoch=None, batch_size=256, lr_schedule="plateau", patience=10)
    options = (Option("data", None, "a folder of <label>.txt files (UTF-8, one text a line) or a CSV with columns "
                      "text and label", kind="path", metavar="PATH"),
               Option("max_chars", 64, "characters of a text the model reads (longer texts are cut)",
                      bounds=(1, 10_000)),
               Option("ngrams", (1, 2, 3, 4), "also average hashed character n-grams of these orders beside the "
                      "recurrent state", kind="ints", bounds=(1, 5), metavar="N[,N...]", negative="--no-ngrams"),
               Option("overlap", "keep", "a text listed under two labels is dropped from both, or kept in each",
                      kind="choice", choices=("drop", "keep")),
               *ArrayTask.options)
    codec, example_input = TextCodec(), "Nguyen"
    DATA_FIELDS = ("data", "max_chars", "overlap")

    def validate(self, cfg):
        """--data is required."""
        require(cfg.data, "--task text needs --data PATH (a folder of <label>.txt files or a text,label CSV)")

    def load_splits(self, cfg):
        """Romanize, deduplicate and settle shared texts per label (the names loader's rules), then split 80 / 10 /
        10 stratified by label (fixed, seed 0), every copy of one text in one split."""
        raw = read_texts(cfg.data)
        by_label, report = clean({label: [fold(t) for t in texts] for label, texts in raw.items()}, cfg.overlap)
        labels = tuple(sorted(by_label))
        texts = [text for label in labels for text in by_label[label]]
        if not texts:
            raise UsageError(f"{cfg.data}: no text with a character the model can read")
        y = np.array([i for i, label in enumerate(labels) for _ in by_label[label]], np.int32)
        x = encode(texts, min(cfg.max_chars, max(len(text) for text in texts)))
        for label in labels:
            report[label]["cut"] = sum(len(text) > cfg.max_chars for text in by_label[label])
        train, val, test = grouped_split(y, texts, labels, report)
        check_languages(report, cfg.overlap, what="texts")
        return Splits((x[train], y[train]), (x[val], y[val]), (x[test], y[test]), labels,
                      f"{cfg.data}; {len(texts)} texts kept", report)

    def announce(self, cfg, data):
        """Warn about thin labels; say how many texts are cut to --max-chars."""
        warn_thin(data.report, what="texts")
        cut = sum(row["cut"] for row in data.report.values())
        if cut:
            texts = sum(row["kept"] for row in data.report.values())
            print(f"rnnkit: {cut} of {texts} texts are longer than --max-chars {cfg.max_chars}: the model reads "
                  "their first characters only", flush=True)

    def results_table(self, results):
        """The classification figures, then what the loader did per label."""
        return super().results_table(results) + "\n\n" + data_table(results["data"], heading="label")

    def build_model(self, cfg):
        """The names model over this alphabet: masked character Embedding → recurrent stack [⊕ n-gram bag]."""
        return models.build_recurrent_model(name="text", cell=cfg.cell, units=cfg.units,
                                            num_classes=len(self.splits(cfg).class_names),
                                            vocab_size=len(ALPHABET) + 1, embed_dim=cfg.embed_dim, mask_zero=True,
                                            bidirectional=cfg.bidirectional, dropout=cfg.dropout, l2=cfg.l2,
                                            return_sequences=False, ngram_orders=cfg.ngrams)

    def codec_info(self, cfg):
        """The character alphabet (token i + 1 is ALPHABET[i]) and the longest text read."""
        return {**super().codec_info(cfg), "alphabet": ALPHABET, "max_chars": cfg.max_chars}

    def show(self, cfg, x):
        """The text itself."""
        return "".join(ALPHABET[t - 1] for t in np.asarray(x) if t > 0)


def read_texts(path):
    """{label: [texts]} from a folder of `<label>.txt` files or a CSV / TSV with `text` and `label` columns."""
    if os.path.isdir(path):
        files = sorted(f for f in os.listdir(path) if f.endswith(".txt"))
        if not files:
            raise UsageError(f"{path!r} holds no <label>.txt files")
        return {file[: -len(".txt")]: _lines(os.path.join(path, file)) for file in files}
    if not path.lower().endswith(TABLES) or not os.path.isfile(path):
        raise UsageError(f"{path!r} is neither a folder of <label>.txt files nor a .csv (or .tsv) file")
    texts = {}
    try:
        split_by = separator(first_line(path), names=("text", "label"))
        with open(path, encoding=ENCODING, newline="") as handle:
            reader = csv.DictReader(handle, delimiter=split_by)
            if not reader.fieldnames or not {"text", "label"} <= {f.strip().lower() for f in reader.fieldnames}:
                raise UsageError(f"{path}:1: the header must name the columns text and label (split by ',', ';' or "
                                 "a tab)")
            names = {f.strip().lower(): f for f in reader.fieldnames}
            for number, row in enumerate(reader, 2):
                label = (row.get(names["label"]) or "").strip()
                if not label:
                    raise UsageError(f"{path}:{number}: the label is empty")
                texts.setdefault(label, []).append(row.get(names["text"]) or "")
    except UnicodeDecodeError as error:
        raise UsageError(f"{path} is not UTF-8 text (byte {error.start})") from None
    return texts


def _lines(path):
    """A UTF-8 file's lines (one line in one UsageError if it cannot be read)."""
    try:
        with open(path, encoding=ENCODING) as handle:
            return handle.read().splitlines()
    except UnicodeDecodeError as error:
        raise UsageError(f"{path} is not UTF-8 text (byte {error.start})") from None


def fold(text, alphabet=ALPHABET):
    """Latin characters for any script, runs of whitespace as one space, anything outside `alphabet` dropped (the
    training texts and a user's input alike)."""
    from unidecode import unidecode

    return " ".join("".join(c for c in unidecode(text) if c in alphabet).split())


def encode(texts, width):
    """Texts → (n, width) int32 tokens (ALPHABET[i] as i + 1), cut to `width`, padded with 0 at the end."""
    tokens = np.zeros((len(texts), width), dtype=np.int32)
    for row, text in enumerate(texts):
        tokens[row, : min(len(text), width)] = [ALPHABET.index(c) + 1 for c in text[:width]]
    return tokens


TASK = Text()
