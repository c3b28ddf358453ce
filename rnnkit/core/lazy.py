"""Modules imported on first use, so task files (and the codecs in them) load where TensorFlow and Keras are not
wanted: `export.predict` answers with LiteRT alone."""
import importlib


class LazyModule:
    """Stands for the module `name`: the first attribute read imports it (Python caches it from then on)."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attribute):
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self):
        return f"<lazy module {self._name!r}>"
