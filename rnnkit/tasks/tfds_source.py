"""Reading a prepared tensorflow-datasets data set from --data-dir, offline, with one clear error."""
import contextlib
import logging

import numpy as np

from rnnkit.core.errors import UsageError


def load_tfds(name, data_dir):
    """((x_train, y_train), (x_test, y_test)) as NumPy from tfds `name` prepared under `data_dir`; never downloads."""
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise UsageError("--source tfds needs tensorflow-datasets: pip install 'rnnkit[data]'") from None
    try:
        with quiet_absl():
            splits = tfds.load(name, split=["train", "test"], data_dir=data_dir, download=False, as_supervised=True)
    except Exception as error:  # tfds raises several types for "not prepared here"; all mean the same to a user
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        raise UsageError(
            f"no prepared tensorflow-datasets '{name}' in {data_dir!r} ({reason}); prepare it where there is "
            f"internet with: python -c \"import tensorflow_datasets as tfds; tfds.load('{name}', "
            f"data_dir='{data_dir}')\" and copy that folder here") from None
    return tuple(_to_numpy(split) for split in splits)


@contextlib.contextmanager
def quiet_absl():
    """tfds logs `WARNING:absl:…` lines (e.g. a missing data folder) before it raises; rnnkit's own error says it."""
    logger = logging.getLogger("absl")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _to_numpy(dataset):
    """A supervised tf.data split → (images, int32 labels) arrays, read in large batches."""
    images, labels = [], []
    for x, y in dataset.batch(8192).as_numpy_iterator():
        images.append(x)
        labels.append(y)
    return np.concatenate(images), np.concatenate(labels).astype(np.int32)
