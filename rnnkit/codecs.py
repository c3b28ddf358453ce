"""Text or image in, model input out; model output in, one line of answer out — per task, NumPy only.

`rnnkit.predict` (Keras) and `export.predict` (LiteRT) share these (TensorFlow-free: LiteRT alone must do), so both accept the same input syntax and
print the same answer. Each codec reads what it needs from the export metadata (see `rnnkit.metadata`).
"""
import math
import os
import re

import numpy as np

from rnnkit.errors import UsageError

MAX_TEXT = 100_000  # characters of one input
# A streaming export reads one step at a time, so its input is bounded only by what the host holds: 10^8
# characters (two 50-million-digit numbers) encode to 400 MB of int32 pairs at most.
MAX_STREAM_TEXT = 100_000_000
MAX_IMAGE_PIXELS = 50_000_000
TOP = 3


def encode(metadata, text):
    """The batch-of-one model input for `text` (a string, or an image path for image tasks)."""
    if not isinstance(text, str) or not text.strip():
        raise UsageError("the input is empty")
    limit = MAX_STREAM_TEXT if metadata.get("streaming") else MAX_TEXT
    if len(text) > limit:
        raise UsageError(f"the input has {len(text)} characters; at most {limit} are accepted")
    return ENCODERS[metadata["codec"]](metadata, text.strip())


def describe(metadata, text, x, output):
    """One line answering `text`, from the model's output for `x` (batch of one)."""
    return DESCRIBERS[metadata["codec"]](metadata, text.strip(), x[0], np.asarray(output)[0])


def fixed_steps(metadata):
    """The model's fixed time axis, or None when the axis is free (resized per input)."""
    shape = metadata["input"]["shape"]
    return shape[1] if len(shape) > 1 and shape[1] > 0 and metadata["codec"] not in ("mnist", "cifar10") else None


def _digits(text, alphabet, what, metadata):
    """`text` as a list of ints, every character in `alphabet`."""
    bad = sorted({c for c in text if c not in alphabet})
    if bad:
        raise UsageError(f"{what} may hold only {alphabet[0]}-{alphabet[-1]}; found {''.join(bad)!r}")
    return [int(c) for c in text]


def _operands(metadata, text, alphabet, what):
    """`A+B` → two LSB-first digit arrays of one width (padded with leading zeros), checked against the model."""
    parts = text.replace(" ", "").split("+")
    if len(parts) != 2 or not all(parts):
        raise UsageError(f"expected two {what} numbers joined by '+', like {metadata['input']['example']!r}")
    a, b = (_digits(part, alphabet, what + " numbers", metadata)[::-1] for part in parts)
    width = max(len(a), len(b))
    steps = fixed_steps(metadata)
    if steps is not None and width + 1 > steps:
        raise UsageError(f"this model was exported for at most {steps - 1} digits per number, got {width}")
    width = steps - 1 if steps is not None else width
    pair = np.zeros((1, width + 1, 2), dtype=np.int32)
    pair[0, : len(a), 0], pair[0, : len(b), 1] = a, b
    return pair


def _sum_text(digits, base):
    """LSB-first digits → the number written most significant first, without leading zeros."""
    text = "".join(str(int(d)) for d in digits[::-1]).lstrip("0")
    return text or "0"


def encode_adder(metadata, text):
    """`31415+27182` → (1, L+1, 2) int32 digits."""
    return _operands(metadata, text, "0123456789", "decimal")


def describe_adder(metadata, text, x, output):
    """`31415 + 27182 = 58597`."""
    a, b = (_sum_text(x[:, i], 10) for i in (0, 1))
    return f"{a} + {b} = {_sum_text(output.argmax(-1), 10)}"


def encode_binary_add(metadata, text):
    """`1011+110` → (1, L+1, 2) float32 bits as −1/+1 (the carry slot holds a 0 bit, −1)."""
    return (2 * _operands(metadata, text, "01", "binary") - 1).astype(np.float32)


def describe_binary_add(metadata, text, x, output):
    """`1011 + 110 = 10001`."""
    bits = (output[:, 0] > 0.5) if output.shape[-1] == 1 else output.argmax(-1)
    a, b = (_sum_text(x[:, i] > 0, 2) for i in (0, 1))
    return f"{a} + {b} = {_sum_text(bits, 2)}"


def _tokens(metadata, values, what):
    """Token ids → (1, width) int32, padded with 0 (masked) to a fixed width if the model has one."""
    steps = fixed_steps(metadata)
    if steps is not None and len(values) > steps:
        raise UsageError(f"this model was exported for at most {steps} {what}, got {len(values)}")
    tokens = np.zeros((1, steps or len(values)), dtype=np.int32)
    tokens[0, : len(values)] = values
    return tokens


def _digit_list(metadata, text):
    """`3 5 8 6 8` or `35868` → [3, 5, 8, 6, 8]."""
    return _digits(re.sub(r"[\s,]+", "", text), "0123456789", "the sequence", metadata)


def encode_recall(metadata, text):
    """Digits → tokens d + 1 (0 is padding); the sequence must reach position k."""
    digits = _digit_list(metadata, text)
    k = metadata["input"]["k"]
    if len(digits) < k:
        raise UsageError(f"this model answers digit k={k}, so the sequence needs at least {k} digits")
    return _tokens(metadata, [d + 1 for d in digits], "digits")


def describe_recall(metadata, text, x, output):
    """`3 5 8 6 8 [k=2] → 5 (0.99)`."""
    seq = " ".join(str(t - 1) for t in x if t)
    return f"{seq} [k={metadata['input']['k']}] → {_ranked(metadata, output, 1)}"


def encode_palindrome(metadata, text):
    """The visible digits (all but the hidden last one)."""
    digits = _digit_list(metadata, text)
    steps = fixed_steps(metadata)
    if steps is not None and len(digits) != steps:
        raise UsageError(f"this model was exported for palindromes of {steps + 1} digits: give the first {steps}")
    return np.array([digits], dtype=np.int32)


def describe_palindrome(metadata, text, x, output):
    """`3 1 4 4 1 ? → 3 (0.98)`."""
    return f"{' '.join(map(str, x))} ? → {_ranked(metadata, output, 1)}"


def encode_names(metadata, text):
    """A name, romanized and folded to the training alphabet → character tokens."""
    alphabet = metadata["input"]["alphabet"]
    name = _romanize(text, alphabet)
    if not name:
        raise UsageError(f"{text!r} has no letters the model knows (it reads {alphabet!r})")
    return _tokens(metadata, [alphabet.index(c) + 1 for c in name], "characters")


def _romanize(text, alphabet):
    """Latin letters for any script, accents stripped, anything outside `alphabet` dropped."""
    from unidecode import unidecode
    return "".join(c for c in unidecode(text) if c in alphabet).strip()


def describe_names(metadata, text, x, output):
    """`Nguyen → Vietnamese 0.97, Chinese 0.02, Korean 0.01`."""
    alphabet = metadata["input"]["alphabet"]
    return f"{''.join(alphabet[t - 1] for t in x if t)} → {_ranked(metadata, output, TOP)}"


def _ranked(metadata, probabilities, count):
    """The `count` most likely labels with their probabilities."""
    order = np.argsort(-probabilities)[:count]
    return ", ".join(f"{metadata['labels'][i]} {probabilities[i]:.2f}" for i in order)


def encode_point(metadata, text):
    """`x,y` → (1, 2) float32."""
    parts = text.split(",")
    try:
        values = [float(part) for part in parts]
    except ValueError:
        raise UsageError(f"expected a point as two numbers 'x,y', like '0.5,-0.25', got {text!r}") from None
    if len(values) != 2 or not all(math.isfinite(v) and abs(v) <= 1e6 for v in values):
        raise UsageError(f"expected a point as two finite numbers 'x,y' (|v| <= 1e6), got {text!r}")
    return np.array([values], dtype=np.float32)


def describe_point(metadata, text, x, output):
    """`(+0.50, -0.25) → class 1 0.93, class 0 0.07`."""
    return f"({x[0]:+.2f}, {x[1]:+.2f}) → {_ranked(metadata, output, TOP)}"


def _open_image(path, mode):
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


def encode_mnist(metadata, text):
    """Any-size photo or scan of a digit → MNIST-like (1, 28, 28) in [0, 1]: white ink on black, centred.

    Light backgrounds are inverted, the ink's bounding box is scaled to fit 20×20 and placed so its centre
    of mass sits at the centre of the 28×28 frame, as MNIST's digits were prepared.
    """
    from PIL import Image
    gray = np.asarray(_open_image(text, "L"), dtype=np.float32) / 255.0
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if border.mean() > 0.5:  # dark ink on a light page
        gray, border = 1.0 - gray, 1.0 - border
    gray = np.clip(gray - np.median(border), 0.0, None)  # the paper's own shade is not ink
    ink = gray > 0.25 * gray.max() if gray.max() > 0 else np.zeros_like(gray, dtype=bool)
    if not ink.any():
        raise UsageError(f"{text!r} looks blank: no ink found")
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    crop = gray[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
    scale = 20.0 / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    small = np.asarray(Image.fromarray((crop / crop.max() * 255).astype(np.uint8)).resize(size, Image.LANCZOS),
                       dtype=np.float32) / 255.0
    frame = np.zeros((28, 28), dtype=np.float32)
    mass = small.sum()
    cy = int(round((small.sum(1) @ np.arange(small.shape[0])) / mass)) if mass else small.shape[0] // 2
    cx = int(round((small.sum(0) @ np.arange(small.shape[1])) / mass)) if mass else small.shape[1] // 2
    top, left = np.clip(14 - cy, 0, 28 - small.shape[0]), np.clip(14 - cx, 0, 28 - small.shape[1])
    frame[top: top + small.shape[0], left: left + small.shape[1]] = small
    return frame[None]


def encode_cifar10(metadata, text):
    """Any image → (1, 32, 32, 3) RGB in [0, 1]."""
    from PIL import Image
    image = _open_image(text, "RGB").resize((32, 32), Image.BILINEAR)
    return (np.asarray(image, dtype=np.float32) / 255.0)[None]


def describe_image(metadata, text, x, output):
    """`digit.png → 7 0.99, 1 0.01, 9 0.00`."""
    return f"{os.path.basename(text)} → {_ranked(metadata, output, TOP)}"


ENCODERS = {"adder": encode_adder, "binary_add": encode_binary_add, "recall": encode_recall,
            "palindrome": encode_palindrome, "names": encode_names, "mnist": encode_mnist, "point": encode_point,
            "cifar10": encode_cifar10}
DESCRIBERS = {"adder": describe_adder, "binary_add": describe_binary_add, "recall": describe_recall,
              "palindrome": describe_palindrome, "names": describe_names, "mnist": describe_image,
              "point": describe_point, "cifar10": describe_image}
