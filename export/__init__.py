"""SavedModel and TFLite/LiteRT export, quantization and on-device-style inference for rnnkit runs."""
