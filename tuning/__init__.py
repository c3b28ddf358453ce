"""KerasTuner searches and seed-report grids over rnnkit's tasks."""
from rnnkit.core.quiet import import_tensorflow_quietly

# keras_tuner imports TensorFlow; its C++ start-up lines stay parked (see rnnkit.core.quiet).
import_tensorflow_quietly()
