"""rnnkit: train, tune and ship small sequence and vision models with TensorFlow / Keras 3.

The library API (`configure`, `compiled_model`, `train_and_evaluate`) loads TensorFlow on first use; the
TensorFlow-free modules (`rnnkit.core.cli`, `rnnkit.core.codecs`, `rnnkit.core.metadata`, `rnnkit.core.errors`,
`rnnkit.core.quiet`) are what `export.predict` runs on with LiteRT alone.
"""
from rnnkit.core.quiet import import_tensorflow_quietly

__version__ = "0.1.0"
__all__ = ["configure", "compiled_model", "train_and_evaluate", "__version__"]

import_tensorflow_quietly()


def __getattr__(name):
    """The library API, imported lazily so that importing a TensorFlow-free module stays TensorFlow-free."""
    if name in ("configure", "compiled_model", "train_and_evaluate"):
        from rnnkit import training
        return getattr(training, name)
    raise AttributeError(f"module 'rnnkit' has no attribute {name!r}")
