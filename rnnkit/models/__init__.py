"""Keras model builders, rnnkit's layers and metrics, and the NumPy MLP."""
