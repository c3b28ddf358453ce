"""The JSON file beside an exported model: what inference needs, checked before use (no TensorFlow here).

Written by `python -m export`, read by `python -m export.predict` (LiteRT alone) and `rnnkit.predict`.
"""
import json
import os

from rnnkit import __version__
from rnnkit.core.errors import UsageError
from rnnkit.tasks import codec_named

METADATA_FILE = "rnnkit_export.json"
FORMAT_VERSION = 1
TFLITE_MAGIC = b"TFL3"  # flatbuffer file identifier, bytes 4..8 of every .tflite
MAX_TFLITE_BYTES = 2**31
REQUIRED = {"format_version": int, "task": str, "codec": str, "input": dict, "labels": list, "model_file": str}


def write(folder, metadata, write_text):
    """Write `metadata` as the folder's METADATA_FILE with the given atomic text writer."""
    write_text(os.path.join(folder, METADATA_FILE), json.dumps(metadata, indent=2) + "\n")


def read(folder):
    """The validated metadata dict of an export folder."""
    path = os.path.join(folder, METADATA_FILE)
    if not os.path.isfile(path):
        raise UsageError(f"no {METADATA_FILE} beside the model in {folder!r}; export it with `python -m export`")
    try:
        with open(path, encoding="utf-8") as handle:
            metadata = json.load(handle)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"{path} is not valid JSON ({error.__class__.__name__})") from None
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    validate(metadata, path)
    return metadata


def validate(metadata, where):
    """Raise UsageError naming the first missing or ill-typed field."""
    if not isinstance(metadata, dict):
        raise UsageError(f"{where}: expected a JSON object")
    for key, kind in REQUIRED.items():
        if not isinstance(metadata.get(key), kind):
            raise UsageError(f"{where}: field {key!r} is missing or not a {kind.__name__}")
    if metadata["format_version"] != FORMAT_VERSION:
        raise UsageError(f"{where}: format_version {metadata['format_version']} is not {FORMAT_VERSION}")
    try:
        codec_named(metadata["codec"])
    except UsageError as error:
        raise UsageError(f"{where}: {error}") from None
    shape = metadata["input"].get("shape")
    if not (isinstance(shape, list) and all(isinstance(d, int) for d in shape)):
        raise UsageError(f"{where}: input.shape must be a list of whole numbers (-1 for a free axis)")
    if metadata["input"].get("dtype") not in ("int32", "float32"):
        raise UsageError(f"{where}: input.dtype must be int32 or float32")


def check_tflite(path, metadata):
    """Check a .tflite file's existence, size and magic bytes before an interpreter parses it."""
    if not os.path.isfile(path):
        raise UsageError(f"{path!r} is not a file")
    size = os.path.getsize(path)
    if not 8 < size < MAX_TFLITE_BYTES:
        raise UsageError(f"{path!r} has {size} bytes: not a TFLite model")
    try:
        with open(path, "rb") as handle:
            header = handle.read(8)
    except OSError as error:
        raise UsageError(f"cannot read {path!r}: {error.strerror}") from None
    if header[4:8] != TFLITE_MAGIC:
        raise UsageError(f"{path!r} is not a TFLite model (no TFL3 identifier)")
    if os.path.basename(path) != metadata["model_file"]:
        raise UsageError(f"{METADATA_FILE} describes {metadata['model_file']!r}, not {os.path.basename(path)!r}")


def check_input_details(details, metadata):
    """The interpreter's input must have the rank and dtype the metadata promises."""
    expected = metadata["input"]
    if len(details["shape"]) != len(expected["shape"]) or details["dtype"].__name__ != expected["dtype"]:
        raise UsageError(f"the model's input is {details['dtype'].__name__} of rank {len(details['shape'])}, "
                       f"but {METADATA_FILE} says {expected['dtype']} of shape {expected['shape']}")


def metadata_for(task, cfg, input_shape, input_dtype, model_file, extra, info=None):
    """The export folder's metadata: task, codec, input shape (-1 = free), labels, config and `extra`; `info` is
    the task's codec_info (None: ask the task)."""
    info = dict(info or task.codec_info(cfg))
    codec, labels = info.pop("codec"), info.pop("labels")
    shape = [-1 if d is None else int(d) for d in input_shape]
    return {"format_version": FORMAT_VERSION, "task": cfg.task, "codec": codec, "model_file": model_file,
            "input": {"shape": shape, "dtype": input_dtype, **info}, "labels": [str(label) for label in labels],
            "rnnkit_version": __version__, "config": cfg.to_dict(), **extra}
