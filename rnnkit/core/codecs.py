"""Text or image in, model input out; model output in, one line of answer out — NumPy only.

Each task's file defines its `Codec` (what its users type and how its answer reads); this module dispatches to it
by the export metadata's "codec" name and holds the helpers codecs share. `rnnkit.predict` (Keras) and
`export.predict` (LiteRT) both go through here (TensorFlow-free: LiteRT alone must do), so both accept the same
input syntax and print the same answer. A codec reads what it needs from the export metadata (`rnnkit.core.metadata`).
"""
import os
import re

import numpy as np

from rnnkit.core.errors import UsageError

MAX_TEXT = 100_000  # characters of one input
# A streaming export reads one step at a time, so its input is bounded only by what the host holds: 10^8
# characters (two 50-million-digit numbers) encode to 400 MB of int32 pairs at most.
MAX_STREAM_TEXT = 100_000_000
MAX_IMAGE_PIXELS = 50_000_000
TOP = 3


class Codec:
    """How one kind of user input becomes a batch of one, and a model output one answer line (NumPy only)."""

    name = ""  # the "codec" the export metadata names
    image = False  # an image's axes are rows and columns, never a free time axis

    def encode(self, metadata, text):
        """The batch-of-one model input for `text` (already stripped and size-checked)."""
        raise NotImplementedError

    def describe(self, metadata, text, x, output):
        """One line answering `text` from the model's `output` for the example `x`."""
        raise NotImplementedError

    def read_cases(self, metadata, path):
        """(inputs, true labels, case names) of every case in a labelled file or folder at `path`, or None where a
        path is one input (an image) or this codec reads no files."""
        return None


def codec_for(metadata):
    """The registered codec the metadata names (UsageError if none)."""
    from rnnkit.tasks import codec_named  # the registry imports the tasks, which import this module

    return codec_named(metadata["codec"])


def encode(metadata, text):
    """The batch-of-one model input for `text` (a string, or an image path for image tasks)."""
    if not isinstance(text, str) or not text.strip():
        raise UsageError("the input is empty")
    limit = MAX_STREAM_TEXT if metadata.get("streaming") else MAX_TEXT
    if len(text) > limit:
        raise UsageError(f"the input has {len(text)} characters; at most {limit} are accepted")
    return codec_for(metadata).encode(metadata, text.strip())


def describe(metadata, text, x, output):
    """One line answering `text`, from the model's output for `x` (batch of one)."""
    return codec_for(metadata).describe(metadata, text.strip(), x[0], np.asarray(output)[0])


def read_cases(metadata, text):
    """(inputs, true labels, case names) when `text` names a labelled file or folder of cases the task's codec
    reads, else None."""
    return codec_for(metadata).read_cases(metadata, text) if os.path.exists(text) else None


def confusion_of(labels, cases, source=""):
    """(confusion matrix (rows: true, columns: predicted), misses as (name, guess, true label, confidence)) of
    `cases`, each (name, true label, model output); a true label the model lacks is refused, naming `source`."""
    confusion, misses = np.zeros((len(labels), len(labels)), dtype=int), []
    for name, label, output in cases:
        if label not in labels:
            raise UsageError(f"{source}: {name}: label {label!r} is not one of the model's classes "
                             f"({', '.join(labels)})")
        guess = labels[int(np.argmax(output))]
        confusion[labels.index(label), labels.index(guess)] += 1
        if guess != label:
            misses.append((name, guess, label, float(np.max(output))))
    return confusion, misses


def labelled_report(source, noun, labels, cases, shown=20):
    """Lines for answers to labelled `cases` (see confusion_of): accuracy, the misses (the first `shown`) and a
    confusion matrix."""
    confusion, misses = confusion_of(labels, cases, source)
    right, total = int(np.trace(confusion)), int(confusion.sum())
    lines = [f"{source}: {total} {noun}, accuracy {right / total:.4f} ({right} right)"]
    lines += [f"  {name}: {guess} (true {label}, {confidence:.2f})"
              for name, guess, label, confidence in misses[:shown]]
    if len(misses) > shown:
        lines.append(f"  … {len(misses) - shown} more wrong")
    width = max(5, *(len(label) for label in labels)) + 1
    lines.append("confusion (rows: true, columns: predicted)")
    lines.append(" " * width + "".join(f"{label:>{width}}" for label in labels))
    lines += [f"{label:<{width}}" + "".join(f"{count:>{width}}" for count in row)
              for label, row in zip(labels, confusion)]
    return lines


def fixed_steps(metadata):
    """The model's fixed time axis, or None when the axis is free (resized per input)."""
    shape = metadata["input"]["shape"]
    return shape[1] if len(shape) > 1 and shape[1] > 0 and not codec_for(metadata).image else None


def digits(text, alphabet, what, metadata):
    """`text` as a list of ints, every character in `alphabet`."""
    bad = sorted({c for c in text if c not in alphabet})
    if bad:
        raise UsageError(f"{what} may hold only {alphabet[0]}-{alphabet[-1]}; found {''.join(bad)!r}")
    return [int(c) for c in text]


def operands(metadata, text, alphabet, what):
    """`A+B` → two LSB-first digit arrays of one width (padded with leading zeros), checked against the model."""
    parts = text.replace(" ", "").split("+")
    if len(parts) != 2 or not all(parts):
        raise UsageError(f"expected two {what} numbers joined by '+', like {metadata['input']['example']!r}")
    a, b = (digits(part, alphabet, what + " numbers", metadata)[::-1] for part in parts)
    width = max(len(a), len(b))
    steps = fixed_steps(metadata)
    if steps is not None and width + 1 > steps:
        raise UsageError(f"this model was exported for at most {steps - 1} digits per number, got {width}")
    width = steps - 1 if steps is not None else width
    pair = np.zeros((1, width + 1, 2), dtype=np.int32)
    pair[0, : len(a), 0], pair[0, : len(b), 1] = a, b
    return pair


def sum_text(digits, base):
    """LSB-first digits → the number written most significant first, without leading zeros."""
    text = "".join(str(int(d)) for d in digits[::-1]).lstrip("0")
    return text or "0"


def tokens(metadata, values, what):
    """Token ids → (1, width) int32, padded with 0 (masked) to a fixed width if the model has one."""
    steps = fixed_steps(metadata)
    if steps is not None and len(values) > steps:
        raise UsageError(f"this model was exported for at most {steps} {what}, got {len(values)}")
    tokens = np.zeros((1, steps or len(values)), dtype=np.int32)
    tokens[0, : len(values)] = values
    return tokens


def digit_list(metadata, text):
    """`3 5 8 6 8` or `35868` → [3, 5, 8, 6, 8]."""
    return digits(re.sub(r"[\s,]+", "", text), "0123456789", "the sequence", metadata)


def ranked(metadata, probabilities, count):
    """The `count` most likely labels with their probabilities."""
    order = np.argsort(-probabilities)[:count]
    return ", ".join(f"{metadata['labels'][i]} {probabilities[i]:.2f}" for i in order)


def open_image(path, mode):
    """An image file as a PIL image in `mode` ('L' or 'RGB')."""
    from PIL import Image, UnidentifiedImageError
    if not os.path.isfile(path):
        raise UsageError(f"{path!r} is not an image file")
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(path) as image:
            image.load()
            return image.convert(mode)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as error:
        raise UsageError(f"cannot read {path!r} as an image ({error.__class__.__name__})") from None


def describe_image(metadata, text, x, output):
    """`digit.png → 7 0.99, 1 0.01, 9 0.00`."""
    return f"{os.path.basename(text)} → {ranked(metadata, output, TOP)}"
