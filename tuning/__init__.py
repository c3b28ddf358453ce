"""KerasTuner searches and seed-report grids over rnnkit's tasks."""
import rnnkit  # noqa: F401  (first: it imports TensorFlow with the start-up banner parked, before keras_tuner)
