"""Test-wide settings: quiet TensorFlow, and no GPU assumptions."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_collection_modifyitems(config, items):
    """Drop tf.test.TestCase's inherited `test_session` (a context manager, not a test) from collection."""
    items[:] = [item for item in items if item.name != "test_session"]
