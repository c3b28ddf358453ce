"""Keep native libraries' start-up chatter (TensorFlow, LiteRT) off the terminal, replaying it on failure."""
import contextlib
import os
import sys
import tempfile


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
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        except quiet_for:
            raise
        except BaseException:
            os.dup2(saved, 2)
            capture.seek(0)
            sys.stderr.write(capture.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
