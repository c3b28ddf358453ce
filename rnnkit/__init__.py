"""rnnkit: train, tune and ship small sequence and vision models with TensorFlow / Keras 3."""
import os
import sys
import tempfile

__version__ = "0.1.0"


def _import_tensorflow_quietly():
    """Import TensorFlow with its C++ start-up banner (oneDNN, CUDA probes) kept off the terminal.

    Those lines are written before TensorFlow reads TF_CPP_MIN_LOG_LEVEL, so the only way to keep a
    CLI's output (and its one-line errors) clean is to park stderr while the library loads. If the
    import fails, everything it printed is replayed.
    """
    if "tensorflow" in sys.modules or os.environ.get("RNNKIT_VERBOSE_TF"):
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # RNNKIT_VERBOSE_TF=1 shows it all
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            capture.seek(0)
            sys.stderr.write(capture.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


_import_tensorflow_quietly()
