"""SavedModel and TFLite/LiteRT export, quantization and on-device-style inference for rnnkit runs."""
from rnnkit.core.quiet import import_tensorflow_quietly

# Every export module may import TensorFlow first; its C++ start-up lines stay parked (see rnnkit.core.quiet).
import_tensorflow_quietly()
