"""TensorFlow-free core: settings, task options, CLI parsing, codecs and export metadata (what `export.predict`
runs on beside LiteRT)."""
