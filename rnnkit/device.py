"""Which device TensorFlow will place the model on: a visible GPU, else the CPU."""
import os

import tensorflow as tf


def describe_device():
    """A short name for the device in use, e.g. `GPU:0 (NVIDIA H100)` or `CPU (2 cores)`."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        name = details.get("device_name", "GPU")
        return f"GPU:0 ({name})" + (f" + {len(gpus) - 1} more" if len(gpus) > 1 else "")
    return f"CPU ({os.cpu_count()} cores)"
