"""`cifar10`: 32×32 colour images → one of ten classes, with the seed's 8-conv CNN or an MLP."""
import os

import numpy as np

from rnnkit.core import codecs
from rnnkit.core.lazy import LazyModule
from rnnkit.core.options import Option
from rnnkit.tasks.arrays import ArrayTask, Splits, augment_option, layer_seeds, source_options, stratified_split
from rnnkit.tasks.base import NO_EMBEDDING, NOT_RECURRENT, require
from rnnkit.tasks.tfds_source import load_tfds

keras = LazyModule("keras")
tf = LazyModule("tensorflow")
models = LazyModule("rnnkit.models.builders")

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
VAL_FRACTION = 0.1  # of the 50 000 training images, stratified, for the validation curves


class Cifar10Codec(codecs.Codec):
    """Any image in, the likeliest CIFAR-10 classes out."""

    name = "cifar10"
    image = True

    def encode(self, metadata, text):
        """Any image → (1, 32, 32, 3) RGB in [0, 1]."""
        from PIL import Image
        image = codecs.open_image(text, "RGB").resize((32, 32), Image.BILINEAR)
        return (np.asarray(image, dtype=np.float32) / 255.0)[None]

    describe = staticmethod(codecs.describe_image)


class Cifar10(ArrayTask):
    """tensorflow-datasets' cifar10 from --data-dir (no copy can be embedded); images scaled to [0, 1]."""

    name = "cifar10"
    unread = {**ArrayTask.unread, **NO_EMBEDDING, **NOT_RECURRENT}
    summary = "CIFAR-10 with the seed's 8-conv CNN or an MLP (--source tfds --data-dir DIR)"
    defaults = dict(source="tfds", arch="cnn", units=(512, 256), optimizer="adam", lr=1e-3, epochs=30,
                    steps_per_epoch=None, batch_size=128, augment=True, lr_schedule="plateau")
    options = (*source_options("tfds", ("tfds",), "prepared tensorflow-datasets 'cifar10'"),
               augment_option("pad-and-crop shifts by up to 4 pixels and left-right flips"),
               Option("arch", "cnn", "the seed's 8-conv CNN or an MLP", kind="choice", choices=("cnn", "mlp"),
                      flag="--model"),
               *ArrayTask.options)
    codec, example_input = Cifar10Codec(), "photo.jpg"
    search_space = {"lr": [1e-3, 3e-3, 1e-2], "optimizer": ["adam", "sgd", "adagrad"], "batch_size": [64, 128]}

    def default_space(self, cfg):
        """The CNN's optimiser space; the MLP also varies its width and depth."""
        space = dict(self.search_space)
        return space if cfg.arch == "cnn" else {**space, "units": [256, 512], "layers": [1, 2]}

    def validate(self, cfg):
        """Only tfds data, which needs --data-dir."""
        require(cfg.source == "tfds", f"--source for cifar10 must be tfds, got {cfg.source!r}")
        require(cfg.data_dir, "cifar10 needs --data-dir DIR with prepared tensorflow-datasets 'cifar10' data")

    def load_splits(self, cfg):
        """50 000 train (10% kept back for validation) / 10 000 test."""
        (x, y), test = load_tfds("cifar10", cfg.data_dir)
        kept, taken = stratified_split(y, VAL_FRACTION, seed=1)
        x = x.astype(np.float32) / 255.0
        test = (test[0].astype(np.float32) / 255.0, test[1])
        return Splits((x[kept], y[kept]), (x[taken], y[taken]), test, CLASSES,
                      f"tensorflow-datasets cifar10 in {cfg.data_dir}")

    def preprocess(self, cfg, training):
        """With --augment: pad by 4 and crop back to 32×32 at random, and flip left-right."""
        if not (training and cfg.augment):
            return None
        crop, flip = layer_seeds(cfg.seed, 2)
        augment = keras.Sequential([keras.layers.ZeroPadding2D(4), keras.layers.RandomCrop(32, 32, seed=crop),
                                    keras.layers.RandomFlip("horizontal", seed=flip)])
        return lambda images, labels: (augment(images, training=True), labels)

    def build_model(self, cfg):
        """`--model cnn` (default): the 8-conv CNN; `--model mlp`: the flattened 3 072 inputs → `--units`."""
        # On a GPU: mixed float16 for the tensor cores (the head stays float32), set only while building.
        with models.mixed_precision(bool(tf.config.list_physical_devices("GPU"))):
            if cfg.arch == "mlp":
                return models.build_mlp(name="cifar10_mlp", input_shape=(32, 32, 3), hidden=cfg.units, num_classes=10,
                                        dropout=cfg.dropout, l2=cfg.l2)
            return models.build_cnn8(name="cifar10_cnn", input_shape=(32, 32, 3), num_classes=10, l2=cfg.l2,
                                     dropout=cfg.dropout)

    def class_labels(self, cfg):
        """The ten CIFAR-10 classes (known without loading the data)."""
        return CLASSES

    def show(self, cfg, x):
        """An image is described by its mean colour; the PNG grid shows it."""
        return "image with mean RGB (" + ", ".join(f"{v:.2f}" for v in np.asarray(x).mean(axis=(0, 1))) + ")"

    def write_plots(self, model, cfg, results, run_dir):
        """Confusion matrix and a grid of random test images with predicted and true classes."""
        super().write_plots(model, cfg, results, run_dir)
        self.write_image_grid(model, cfg, os.path.join(run_dir, "test_images.png"),
                              "cifar10: random test images, predicted (true)", count=24, columns=6)


TASK = Cifar10()
