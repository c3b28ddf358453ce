"""`series`: a user's labelled time series (UCR/UEA `.ts`, CSV or `.npz`) → its class."""
import os

import numpy as np

from rnnkit.core import codecs
from rnnkit.core.errors import UsageError
from rnnkit.core.lazy import LazyModule
from rnnkit.core.options import Option
from rnnkit.tasks import series_data
from rnnkit.tasks.arrays import ArrayTask, Splits, stratified_split
from rnnkit.tasks.base import NO_EMBEDDING, require

models = LazyModule("rnnkit.models.builders")
layers = LazyModule("rnnkit.models.layers")

HELD_OUT = 0.2  # of a file without a _TEST sibling, stratified, fixed (seed 0)
# --val-fraction none holds VAL_FRACTION out only where that makes MIN_VALIDATION cases: a curve on fewer moves in
# steps of 2 points or more, and on the small UCR/UEA sets those cases are worth more as training data (published
# results train on the whole _TRAIN file).
VAL_FRACTION, MIN_VALIDATION = 0.1, 50
SEARCH_VAL_FRACTION = 0.2  # what a search holds out under --val-fraction none where a run would hold none
# Several channels (accelerometer axes, spectral coefficients) give the first convolution more patterns to mix
# than one does; the wider front pays off there and overfits a single channel's few training cases.
ONE_CHANNEL_FILTERS, MANY_CHANNEL_FILTERS = 32, 64
RAW_CLIPNORM = 1.0  # --filters 0's default gradient clipping (benchmarks/README.md, "Streaming")
TIME_SHIFT = 0.0  # the default --time-shift: off (no gain beyond seed noise on five UCR/UEA sets; docs/design.md)
# The default --state-dropout: off. It lifts the sets the default was not chosen on and costs GunPoint and ACSF1,
# two of the five it was chosen on (benchmarks/README.md); a search tries it (Series.search_space).
STATE_DROPOUT = 0.0


class SeriesCodec(codecs.Codec):
    """One series as text: values split by `,`, channels by `:` (as a `.ts` line without its label); `?` or an
    empty value is missing."""

    name = "series"

    def encode(self, metadata, text):
        """`0.1,0.5,0.2` or `0.1,0.5:1.0,0.9` → (1, length, channels) float32, filled and padded as in training; a
        stream (a free time axis) reads the series' own steps, any number of them."""
        if text.strip().lower().endswith(series_data.FILE_TYPES):  # an existing file was read by read_cases
            raise UsageError(f"{text.strip()!r} is not a file (a series is values split by ',', a file of them "
                             "one of .ts, .csv, .tsv, .npz)")
        fields = text.split(":")
        channels, length = metadata["input"]["channels"], metadata["input"]["length"]
        if len(fields) != channels:
            labelled = len(fields) == channels + 1 and "," not in fields[-1]
            raise UsageError(f"this model reads {channels} channel(s) split by ':', got {len(fields)}"
                             + (f" (a .ts line ends with its label, ':{fields[-1].strip()}': leave it off)"
                                if labelled else ""))
        columns = [series_data.values_of(field.split(","), "the input", 1) for field in fields]
        steps = max(len(column) for column in columns)
        case = np.full((steps, channels), np.nan, dtype=np.float32)
        for index, column in enumerate(columns):
            case[: len(column), index] = column
        case = series_data.fill_missing(case)
        return (case if metadata["input"]["shape"][1] == -1 else series_data.to_length(case, length))[None]

    def read_cases(self, metadata, path):
        """Every series of a labelled .ts, CSV or .npz file, filled and padded as in training, with its label."""
        series, labels = series_data.read_series(path, _reading(metadata["input"].get("label_column")))
        channels, length = metadata["input"]["channels"], metadata["input"]["length"]
        if series[0].shape[1] != channels:
            raise UsageError(f"{path}: {series[0].shape[1]} channel(s) where this model reads {channels}")
        try:
            x = series_data.stack(series, length)
        except UsageError as error:  # a series longer than the model's fixed length
            raise UsageError(f"{path}: {error}") from None
        return x, labels, [f"case {number}" for number in range(1, len(series) + 1)]

    def describe(self, metadata, text, x, output):
        """`series of 150 steps → 2 0.97, 1 0.03`."""
        steps = len(text.split(":")[0].split(","))
        return f"series of {steps} steps → {codecs.ranked(metadata, output, codecs.TOP)}"


class Series(ArrayTask):
    """Series padded to the longest training case with their last value, missing values interpolated; the model
    normalizes each channel with the training split's statistics (inside the model, so exports do too)."""

    name = "series"
    unread = {**ArrayTask.unread, **NO_EMBEDDING}
    summary = "your own labelled time series (--data FILE: UCR/UEA .ts, CSV or .npz)"
    # 1 000 steps whatever the set's size, the rate decayed by a cosine: chosen on five UCR/UEA sets against
    # MiniRocket (benchmarks/series.py), where a plateau schedule on a few validation cases cut the rate too soon.
    defaults = dict(cell="gru", units=(64,), optimizer="adam", lr=1e-2, epochs=40, steps_per_epoch=25,
                    batch_size=16, lr_schedule="cosine", patience=0)
    options = (Option("data", None, "a .ts, .csv, .tsv or .npz file of labelled series; a <name>_TRAIN file takes its "
                      "<name>_TEST sibling as the test split, any other file holds out a stratified 20%",
                      kind="path", metavar="FILE"),
               Option("label_column", "auto", "where a CSV or TSV without a label / class header row keeps each "
                      "row's label: first (the UCR archive's .tsv files), last, or auto: the first column where it "
                      "holds text or repeating whole numbers and the last does not, else the last", kind="choice",
                      choices=series_data.LABEL_SIDES),
               Option("val_fraction", None, "of the training cases, stratified, held out for the validation "
                      "curves (a plateau schedule, early stopping and a search need them); 0: every case trains the "
                      f"model; none: {VAL_FRACTION:g} where that is at least {MIN_VALIDATION} cases, else 0 (in a "
                      f"search: {SEARCH_VAL_FRACTION:g})", kind="float", bounds=(0.0, 0.5), optional=True),
               Option("filters", None, "filters of the first convolution (the second has twice as many); none: "
                      f"{ONE_CHANNEL_FILTERS} for series of one channel, {MANY_CHANNEL_FILTERS} for several; 0: no "
                      "convolutions, the steps straight into the recurrent layers (a model that can --streaming; it "
                      f"clips gradients at norm {RAW_CLIPNORM:g} unless --clipnorm says otherwise)",
                      bounds=(0, 1024), optional=True, searchable=True),
               Option("time_shift", TIME_SHIFT, "training series move by up to this fraction of their length, earlier "
                      "or later, each by its own random number of steps, the uncovered steps repeating the first or "
                      "last value (0: off)", kind="float", bounds=(0.0, 0.5), searchable=True),
               Option("state_dropout", STATE_DROPOUT, "fraction of the recurrent layers' last state dropped at each "
                      "training step before the head, so the head leans on the convolutions' mean over time too "
                      "(with --filters 0 the state is all it reads); never at inference; 0: off", kind="float",
                      bounds=(0.0, 0.9), searchable=True),
               *ArrayTask.options)
    search_space = {**ArrayTask.search_space, "state_dropout": [0.0, 0.5]}
    codec, example_input = SeriesCodec(), "0.1,0.4,0.9,0.4,0.1"
    DATA_FIELDS = ("data", "label_column", "val_fraction")

    def derived_defaults(self, values):
        """--filters 0 clips gradients at norm RAW_CLIPNORM (a GRU reading the raw steps at lr 1e-2 diverges at
        some seeds without it; the convolution default reads ACSF1 worse with it)."""
        defaults = super().derived_defaults(values)
        return {**defaults, "clipnorm": RAW_CLIPNORM} if values.get("filters") == 0 else defaults

    def validate(self, cfg):
        """--data is required."""
        require(cfg.data, "--task series needs --data FILE (a .ts, .csv, .tsv or .npz file of labelled series)")

    def load_data(self, cfg):
        """Read the files now (a bad file or a run that needs validation cases and has none stops the run before
        its folder is made) and print their summary."""
        data = self.splits(cfg)
        for part in data.report["files"]:
            lengths = part["length"]
            print(f"rnnkit: {part['file']}: {part['cases']} series, {part['channels']} channel(s), length "
                  f"{lengths[0]}" + (f"-{lengths[1]}" if lengths[1] != lengths[0] else "")
                  + f", {part['missing_values']} missing values, {len(part['classes'])} classes "
                  + ", ".join(f"{label}: {count}" for label, count in part["classes"].items()), flush=True)
        if cfg.label_column == "auto" and data.report["label_column"] == "first":
            print("rnnkit: each row's label is its first value, as in the UCR archive's .tsv files (--label-column "
                  "last reads the last)", flush=True)
        if len(data.val[1]):
            return
        watched = [flag for flag, used in (("--lr-schedule plateau", cfg.lr_schedule == "plateau"),
                                           ("--patience", cfg.patience > 0)) if used]
        if watched:
            raise UsageError(f"{watched[0]} watches the validation loss, and this run holds no validation cases "
                             "out: give --val-fraction (e.g. 0.2)")
        print(f"rnnkit: all {len(data.train[1])} training cases train the model, none held out for validation curves "
              "(--val-fraction 0.2 holds 20% out)", flush=True)

    def load_splits(self, cfg):
        """Train / val / test arrays, class names and the files' summaries."""
        side = series_data.label_side(cfg.data, cfg.label_column)  # the test file reads its label where this one does
        train_series, train_labels = series_data.read_series(cfg.data, _reading(side))
        test_path = series_data.test_file(cfg.data)
        files = [series_data.summary(os.path.basename(cfg.data), train_series, train_labels)]
        class_names = sorted(set(train_labels), key=series_data.label_order)
        if test_path is not None:
            test_series, test_labels = series_data.read_series(test_path, _reading(side))
            files.append(series_data.summary(os.path.basename(test_path), test_series, test_labels))
            _check_match(cfg.data, train_series, class_names, test_path, test_series, test_labels, side)
            held = None
        else:
            y_all = np.array([class_names.index(label) for label in train_labels])
            kept, held = stratified_split(y_all, HELD_OUT, seed=0)
            test_series, test_labels = [train_series[i] for i in held], [train_labels[i] for i in held]
            train_series, train_labels = [train_series[i] for i in kept], [train_labels[i] for i in kept]
            if not train_series or not test_series:  # read_series refuses an empty file: only this can be empty
                raise UsageError(f"{cfg.data}: too few series to hold {HELD_OUT:.0%} of each class out as a test "
                                 "split; give more (or a _TEST file)")
        length = max(len(case) for case in (*train_series, *test_series))  # the model's fixed length
        x, x_test = series_data.stack(train_series, length), series_data.stack(test_series, length)
        y = np.array([class_names.index(label) for label in train_labels], dtype=np.int32)
        y_test = np.array([class_names.index(label) for label in test_labels], dtype=np.int32)
        kept, val = validation_split(y, cfg.val_fraction)
        source = f"{cfg.data}" + (f" and {test_path}" if test_path else f" ({HELD_OUT:.0%} held out as test)")
        report = {"files": files, "length": length, "channels": int(x.shape[2]), "validation_cases": int(len(val)),
                  "label_column": side}
        return Splits((x[kept], y[kept]), (x[val], y[val]), (x_test, y_test), tuple(class_names), source, report)

    def search_config(self, cfg):
        """A search ranks its trials on validation cases: with --val-fraction none, it holds SEARCH_VAL_FRACTION
        out where the run would hold none; --val-fraction 0 is refused."""
        if cfg.val_fraction is None and not len(self.splits(cfg).val[1]):
            print(f"rnnkit: a search ranks its trials on validation cases: {SEARCH_VAL_FRACTION:.0%} of the "
                  f"training cases held out (--val-fraction {SEARCH_VAL_FRACTION:g})", flush=True)
            cfg = cfg.replace(val_fraction=SEARCH_VAL_FRACTION)
        if not len(self.splits(cfg).val[1]):
            raise UsageError(f"a search ranks its trials on validation cases, and --val-fraction {cfg.val_fraction:g} "
                             f"holds none out: give a larger one (e.g. {SEARCH_VAL_FRACTION:g})")
        return cfg

    def preprocess(self, cfg, training):
        """With --time-shift: each training series moved earlier or later (models.layers.RandomTimeShift)."""
        if not (training and cfg.time_shift):
            return None
        shift = layers.RandomTimeShift(cfg.time_shift, seed=cfg.seed)
        return lambda series, labels: (shift(series, training=True), labels)

    def build_model(self, cfg):
        """Normalization → convolutions → pool → recurrent layers ⊕ mean → softmax (build_conv_recurrent_model;
        --filters 0: Normalization → recurrent layers → softmax)."""
        data = self.splits(cfg)
        x = data.train[0]
        return models.build_conv_recurrent_model(
            name="series", length=x.shape[1], channels=x.shape[2], num_classes=len(data.class_names),
            mean=x.mean(axis=(0, 1)).tolist(), variance=np.maximum(x.var(axis=(0, 1)), 1e-6).tolist(),
            filters=default_filters(x.shape[2]) if cfg.filters is None else cfg.filters, cell=cfg.cell,
            units=cfg.units, bidirectional=cfg.bidirectional, dropout=cfg.dropout, l2=cfg.l2,
            state_dropout=cfg.state_dropout)

    def codec_info(self, cfg):
        """The model's fixed length, its channels, and where its CSV files keep their labels."""
        report = self.splits(cfg).report
        return {**super().codec_info(cfg), "length": report["length"], "channels": report["channels"],
                "label_column": report["label_column"]}

    def show(self, cfg, x):
        """A series' first values."""
        return ",".join(f"{v:.2f}" for v in x[:4, 0]) + ",…"


def validation_split(y, fraction):
    """(kept, validation) indices: `fraction` of every class (None: VAL_FRACTION where that makes MIN_VALIDATION
    cases, else none); a fraction of 0 keeps every case."""
    if fraction is None:
        fraction = VAL_FRACTION if VAL_FRACTION * len(y) >= MIN_VALIDATION else 0.0
    if fraction == 0:
        return np.arange(len(y)), np.array([], dtype=np.int64)
    return stratified_split(y, fraction, seed=1)


def default_filters(channels):
    """The first convolution's width when --filters is not given: wider for multichannel series."""
    return MANY_CHANNEL_FILTERS if channels > 1 else ONE_CHANNEL_FILTERS


def _reading(side):
    """The label_column to read a file with, given where the training file's label was (label_side)."""
    return side if side in ("first", "last") else "auto"


def _check_match(train_path, train_series, class_names, test_path, test_series, test_labels, side):
    """The test file has the training file's channels and only its classes."""
    if test_series[0].shape[1] != train_series[0].shape[1]:
        raise UsageError(f"{test_path}: {test_series[0].shape[1]} channels where {train_path} has "
                         f"{train_series[0].shape[1]}")
    unknown = sorted(set(test_labels) - set(class_names))
    if unknown:
        other = {"first": "last", "last": "first"}.get(side)
        hint = f" (if each row's label is its {other} value, give --label-column {other})" if other else ""
        raise UsageError(f"{test_path}: label {unknown[0]!r} has no training example in {train_path}{hint}")


TASK = Series()
