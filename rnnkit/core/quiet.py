"""Keep native libraries' start-up chatter (TensorFlow, LiteRT) off the terminal, replaying it on failure."""
import contextlib
import importlib.abc
import importlib.util
import os
import sys
import tempfile
import types


@contextlib.contextmanager
def captured_output(fd=2):
    """Point file descriptor `fd` (2: stderr) at a temporary file for the block; afterwards `.text` holds its output."""
    captured = types.SimpleNamespace(text="")
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), fd)
        try:
            yield captured
        finally:
            os.dup2(saved, fd)
            os.close(saved)
            capture.seek(0)
            captured.text = capture.read().decode("utf-8", "replace")


@contextlib.contextmanager
def parked_stderr(quiet_for=()):
    """Point file descriptor 2 at a temporary file for the block; replay what it caught if the block fails.

    TensorFlow's and LiteRT's C++ layers print banners and INFO lines (oneDNN, CUDA probes, XNNPACK)
    straight to fd 2, before or outside any Python logging setting, so a CLI's one-line errors would be
    buried without this. Exceptions of the `quiet_for` types carry their own message and replay nothing.
    RNNKIT_VERBOSE_TF=1 turns the parking off.
    """
    if os.environ.get("RNNKIT_VERBOSE_TF"):
        yield
        return
    try:
        with captured_output() as captured:
            yield
    except quiet_for:
        raise
    except BaseException:
        sys.stderr.write(captured.text)
        raise


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """A one-shot import hook: the first `import tensorflow` (direct, or from Keras / KerasTuner) runs parked.

    rnnkit's TensorFlow-free modules (codecs, metadata, cli) must stay importable by `export.predict` without
    TensorFlow, so `rnnkit/__init__` cannot import TensorFlow itself; this hook parks the banner wherever the
    import first happens instead.
    """

    def find_spec(self, name, path, target=None):
        """Find tensorflow with the other finders, then wrap its module execution in `parked_stderr`."""
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        execute = loader.exec_module

        def exec_parked(module):
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # RNNKIT_VERBOSE_TF=1 shows it all
            try:
                with parked_stderr():
                    execute(module)
            finally:
                del loader.exec_module  # back to the loader's own method
            if not os.environ.get("RNNKIT_VERBOSE_TF"):
                # "N out of the last M calls ... triggered tf.function retracing": expected when one process
                # evaluates many lengths or trains several --restarts models; it would add lines to every run.
                module.get_logger().setLevel("ERROR")

        loader.exec_module = exec_parked
        return spec


def import_tensorflow_quietly():
    """Make the process's first TensorFlow import (whoever triggers it) keep its C++ start-up lines parked."""
    if "tensorflow" in sys.modules or any(isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietTensorFlowImport())
