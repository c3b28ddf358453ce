"""rnnkit: train, tune and ship small sequence and vision models with TensorFlow / Keras 3."""
import os
import sys

from export.quiet import parked_stderr

__version__ = "0.1.0"


def _import_tensorflow_quietly():
    """Import TensorFlow with its C++ start-up banner (oneDNN, CUDA probes) kept off the terminal.

    Those lines are written before TensorFlow reads TF_CPP_MIN_LOG_LEVEL, so the only way to keep a
    CLI's output (and its one-line errors) clean is to park stderr while the library loads.
    """
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # RNNKIT_VERBOSE_TF=1 shows it all
    with parked_stderr():
        import tensorflow
    if not os.environ.get("RNNKIT_VERBOSE_TF"):
        # "N out of the last M calls ... triggered tf.function retracing": expected when one process evaluates
        # many lengths or trains several --restarts models; it would add lines to every run's output.
        tensorflow.get_logger().setLevel("ERROR")


_import_tensorflow_quietly()
