"""Reading users' time series: the UCR/UEA `.ts` format, CSV and `.npz` (NumPy only), and shaping them for a model.

Every reader returns `(series, labels)`: a list of float arrays of shape (length, channels), NaN where a value is
missing, and a list of label strings. A malformed file is refused with one line naming the file and the line.
"""
import csv
import os
import re

import numpy as np

from rnnkit.core.errors import UsageError
from rnnkit.tasks.user_files import ENCODING, first_line, separator

LABEL_COLUMNS = ("label", "class", "target", "y")
LABEL_SIDES = ("auto", "first", "last")  # where a CSV without a label header keeps its label
MAX_LENGTH = 100_000
CSV_TYPES = (".csv", ".tsv")  # read_csv's extensions
FILE_TYPES = (".ts", *CSV_TYPES, ".npz")  # the extensions read_series reads


def read_series(path, label_column="auto"):
    """(series, labels) from a .ts, .csv (or tab-separated .tsv) or .npz file, by its extension; `label_column`
    (one of LABEL_SIDES) places a CSV's label where no header row names it."""
    if not os.path.isfile(path):
        raise UsageError(f"{path!r} is not a file (give a .ts, .csv, .tsv or .npz file)")
    extension = os.path.splitext(path)[1].lower()
    if extension not in FILE_TYPES:
        # The UCR/UEA archive's downloads hold each set as .arff and .txt besides .ts.
        hint = " (the UCR/UEA download holds the same data as a .ts file)" if extension in (".arff", ".txt") else ""
        raise UsageError(f"{path!r}: unknown format {extension or '(none)'}; give a .ts, .csv, .tsv or .npz file"
                         + hint)
    if extension in CSV_TYPES:
        series, labels = read_csv(path, label_column)
    else:
        series, labels = read_ts(path) if extension == ".ts" else read_npz(path)
    if not series:
        raise UsageError(f"{path!r} holds no series")
    return series, labels


def test_file(path):
    """The `_TEST` sibling of a `<name>_TRAIN.<ext>` file, or None."""
    folder, name = os.path.split(path)
    stem, extension = os.path.splitext(name)
    if not stem.upper().endswith("_TRAIN"):
        return None
    suffix = "_TEST" if stem[-6:].isupper() else "_test"
    sibling = os.path.join(folder, stem[:-6] + suffix + extension)
    return sibling if os.path.isfile(sibling) else None


def read_ts(path):
    """The UCR/UEA `.ts` format: `@` headers, then one case a line, channels split by `:`, values by `,`, the
    class label last; `?` is a missing value. Time-stamped data (`@timeStamps true`) is refused."""
    series, labels, in_data, channels = [], [], False, None
    with open(path, encoding=ENCODING, errors="replace") as handle:
        for number, raw in enumerate(handle, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                words = line.split()
                key = words[0].lower()
                if key == "@timestamps" and len(words) > 1 and words[1].lower() == "true":
                    raise UsageError(f"{path}:{number}: time-stamped .ts data is not supported")
                if key == "@targetlabel" and len(words) > 1 and words[1].lower() == "true":
                    raise UsageError(f"{path}:{number}: a regression file (@targetLabel true: each series has a number "
                                     "to predict); --task series learns classes (@classLabel true)")
                if key == "@classlabel" and (len(words) < 2 or words[1].lower() != "true"):
                    raise UsageError(f"{path}:{number}: the file has no class labels (@classLabel false)")
                in_data = key == "@data"
                if not line.startswith("@"):
                    raise UsageError(f"{path}:{number}: expected an @ header line before @data")
                continue
            *fields, label = line.split(":")
            if not fields:
                raise UsageError(f"{path}:{number}: expected values, then ':' and the class label")
            if channels is None:
                channels = len(fields)
            elif len(fields) != channels:
                raise UsageError(f"{path}:{number}: {len(fields)} channels where the file's first case has "
                                 f"{channels}")
            columns = [values_of(field.split(","), path, number) for field in fields]
            length = max(len(column) for column in columns)
            case = np.full((length, channels), np.nan, dtype=np.float32)
            for index, column in enumerate(columns):
                case[: len(column), index] = column
            series.append(case)
            labels.append(label.strip())
    if not in_data:
        raise UsageError(f"{path}: no @data line: is this a .ts file?")
    return series, labels


def read_csv(path, label_column="auto"):
    """One univariate series a row. The label is the column named label / class / target / y (header row), else
    the first or last column as `label_column` says (auto: see label_side); an empty cell is a missing value; rows
    may differ in length. Fields are split by `,`, or by `;` or a tab where the first line has one, and then a
    decimal comma reads as a point (0,5 is 0.5)."""
    split_by, header, rows = _csv_rows(path)
    column = header if header is not None else 0 if _side(split_by, header, rows, label_column) == "first" else -1
    series, labels = [], []
    for number, row in rows:
        if len(row) < 2:
            raise UsageError(f"{path}:{number}: a row needs values and a label")
        label = row.pop(column).strip()
        if not label:
            raise UsageError(f"{path}:{number}: the label is empty")
        values = values_of(row if split_by == "," else [cell.replace(",", ".") for cell in row], path, number)
        while len(values) and np.isnan(values[-1]):  # trailing empty cells pad a shorter row
            values = values[:-1]
        series.append(values[:, None])
        labels.append(label)
    return series, labels


def label_side(path, label_column="auto"):
    """Where a CSV's label is: "header" (a header row names its column), else "first" or "last" as `label_column`
    says, auto choosing the first column only where it reads as class labels and the last does not (the UCR
    archive's .tsv files put the class first); None for other files and for a path that is no file."""
    if os.path.splitext(path)[1].lower() not in CSV_TYPES or not os.path.isfile(path):
        return None
    return _side(*_csv_rows(path), label_column)


def _side(split_by, header, rows, label_column):
    """label_side for a CSV's separator, parsed header column and rows."""
    if header is not None:
        return "header"
    if label_column != "auto":
        return label_column
    comma = split_by != ","  # a decimal comma reads as a point, as in read_csv
    first, last = ([row[index].strip().replace(",", ".") if comma else row[index].strip() for _, row in rows]
                   for index in (0, -1))
    return "first" if _reads_as_labels(first) and not _reads_as_labels(last) else "last"


def _reads_as_labels(cells):
    """Text, or whole numbers of which some repeat: a class column rather than a series' values."""
    if any(not _is_number(cell) for cell in cells):
        return True
    return all(re.fullmatch(r"[+-]?\d+", cell) for cell in cells) and len(set(cells)) <= len(cells) / 2


def _csv_rows(path):
    """(separator, the label's column where a header row names it else None, [(line number, cells)] after it)."""
    split_by = separator(first_line(path))
    with open(path, encoding=ENCODING, errors="replace", newline="") as handle:
        rows = [(number, row) for number, row in enumerate(csv.reader(handle, delimiter=split_by), 1)
                if any(c.strip() for c in row)]
    first = [cell.strip().lower() for cell in rows[0][1]] if rows else []
    if any(cell in LABEL_COLUMNS for cell in first):
        return split_by, next(i for i, cell in enumerate(first) if cell in LABEL_COLUMNS), rows[1:]
    return split_by, None, rows


def read_npz(path):
    """Arrays `X` (cases, length[, channels]; NaN is missing, and a case's trailing all-NaN steps end it, so series
    of unequal lengths are NaN-padded) and `y` (cases)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = archive.files
            x, y = (archive[name] if name in names else None for name in ("X", "y"))
    except (OSError, ValueError) as error:
        reason = ("X or y holds Python objects, which rnnkit does not unpickle: pad series of unequal lengths with "
                  "NaN to one float array" if "allow_pickle" in str(error) else error.__class__.__name__)
        raise UsageError(f"{path}: not a readable .npz ({reason})") from None
    if x is None or y is None:
        raise UsageError(f"{path}: an .npz needs arrays 'X' and 'y', found {', '.join(names) or 'none'}")
    if not np.issubdtype(x.dtype, np.number):
        raise UsageError(f"{path}: X must hold numbers, got dtype {x.dtype}")
    x = x.astype(np.float32)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise UsageError(f"{path}: X must be (cases, length[, channels]) and y (cases,), got {x.shape} and "
                         f"{y.shape}")
    return [_without_trailing_nan(case) for case in x], [str(label) for label in y]


def _without_trailing_nan(case):
    """A (steps, channels) case cut after its last step with any value (an all-NaN case is kept whole)."""
    real = np.flatnonzero(~np.isnan(case).all(axis=1))
    return case[: real[-1] + 1] if len(real) else case


def values_of(cells, path, number):
    """Floats from text cells (line `number` of `path`, for errors); `?` or empty is NaN."""
    try:
        values = np.array([float(c) if c.strip() not in ("", "?", "nan", "NaN") else np.nan for c in cells],
                          dtype=np.float32)
    except ValueError:
        bad = next(c for c in cells if not _is_number(c))
        raise UsageError(f"{path}:{number}: {bad.strip()[:40]!r} is not a number") from None
    if len(values) > MAX_LENGTH:
        raise UsageError(f"{path}:{number}: a series of {len(values)} values; at most {MAX_LENGTH} are read")
    return values


def _is_number(cell):
    """Whether `cell` reads as a float or a missing value."""
    try:
        float(cell)
        return True
    except ValueError:
        return cell.strip() in ("", "?")


def fill_missing(case):
    """Each channel's NaNs filled by linear interpolation between the nearest values (the ends by the nearest
    value); an all-missing channel becomes 0."""
    case = np.array(case, dtype=np.float32)
    steps = np.arange(len(case))
    for channel in range(case.shape[1]):
        column = case[:, channel]
        known = ~np.isnan(column)
        if not known.any():
            column[:] = 0.0
        elif not known.all():
            column[~known] = np.interp(steps[~known], steps[known], column[known])
    return case


def to_length(case, length):
    """A (steps, channels) case padded to `length` steps with its last value (UsageError if longer)."""
    if len(case) > length:
        raise UsageError(f"a series of {len(case)} steps is longer than the model's {length}")
    if len(case) == 0:
        raise UsageError("a series has no values")
    return np.concatenate([case, np.repeat(case[-1:], length - len(case), axis=0)])


def stack(series, length):
    """Cases filled and padded to one array (cases, length, channels)."""
    return np.stack([to_length(fill_missing(case), length) for case in series]).astype(np.float32)


def label_order(label):
    """Numeric labels in numeric order (1, 2, 10), others alphabetically after them."""
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


def summary(name, series, labels):
    """{cases, channels, lengths, missing, classes: {label: count}} of one file's cases."""
    lengths = [len(case) for case in series]
    missing = int(sum(np.isnan(case).sum() for case in series))
    counts = {label: labels.count(label) for label in sorted(set(labels), key=label_order)}
    return {"file": name, "cases": len(series), "channels": int(series[0].shape[1]),
            "length": [min(lengths), max(lengths)], "missing_values": missing, "classes": counts}
