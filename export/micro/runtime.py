"""Run a `--target micro` export in TensorFlow Lite Micro's Python interpreter (`tflite_micro`): no TensorFlow."""
import contextlib
import os
import re

import numpy as np

from rnnkit.core import metadata as meta
from rnnkit.core.errors import UsageError
from rnnkit.core.quiet import captured_output

# Arenas tried, as multiples of the model's size: TFLM's own default (10×) first, then larger ones for models whose
# activations outweigh their weights (a small recurrent layer looped over a long sequence). A few fixed steps, not
# a search: sizes just above the minimum can abort the process instead of failing, and a search would probe there.
ARENA_FACTORS = (10, 100, 1000)


def interpreter(data):
    """A TFLM interpreter over flatbuffer `data` (the first arena in ARENA_FACTORS it fits); UsageError naming the
    op TFLM lacks when it cannot load it."""
    try:
        from tflite_micro import runtime
    except ImportError:
        raise UsageError("the micro runtime needs tflite-micro: pip install 'rnnkit[micro]'") from None
    for factor in ARENA_FACTORS:
        with captured_output() as captured:  # TFLM reports a missing kernel on stderr, then raises a bare RuntimeError
            try:
                return runtime.Interpreter.from_bytes(data, arena_size=factor * len(data))
            except RuntimeError as error:
                failure = str(error)
        missing = sorted(set(re.findall(r"op(?:code| code) '?(\w+)'?", captured.text)))
        if missing:
            raise UsageError(f"TensorFlow Lite Micro has no kernel for {', '.join(missing)}, which this model needs")
        if "allocate" not in (failure + captured.text).lower():
            break
    raise UsageError(f"TensorFlow Lite Micro cannot load this model ({failure.strip() or 'allocation failed'})")


def quantization(details):
    """(scale, zero point) of an interpreter input or output, or None for an unquantized one."""
    params = details.get("quantization_parameters") or {}
    scales, zeros = params.get("scales"), params.get("zero_points")
    if scales is None or len(scales) == 0 or details["dtype"] not in (np.int8, np.uint8, np.int16):
        return None
    return float(scales[0]), int(zeros[0])


def converters(details):
    """(encode, decode): float → the model's input encoding (quantized, clipped), its output → float32."""
    scale = quantization(details)
    dtype = details["dtype"]
    if scale is None:
        return (lambda x: np.asarray(x, dtype=dtype)), (lambda y: np.asarray(y, dtype=np.float32))
    limits = np.iinfo(dtype)
    return ((lambda x: np.clip(np.round(np.asarray(x) / scale[0] + scale[1]), limits.min, limits.max).astype(dtype)),
            (lambda y: (np.asarray(y).astype(np.float32) - scale[1]) * scale[0]))


@contextlib.contextmanager
def guarded():
    """Within the block, TFLM's failure (its reason on stderr, then a bare RuntimeError) becomes one UsageError."""
    with captured_output() as captured:
        try:
            yield
            return
        except RuntimeError as error:
            failed = error
    reason = " ".join(line.strip() for line in captured.text.splitlines() if line.strip())[:200]
    raise UsageError(f"TensorFlow Lite Micro failed to run this model: {reason or failed}")


class MicroInterpreter:
    """A TFLM interpreter with float in, float out: inputs are quantized and outputs dequantized as recorded."""

    def __init__(self, data):
        self.interpreter = interpreter(data)
        self.input, self.output = self.interpreter.get_input_details(0), self.interpreter.get_output_details(0)

    def run(self, x):
        """Model output (float32) for a batch-of-one input `x` of the model's exact shape."""
        x = np.asarray(x)
        if list(x.shape) != [int(d) for d in self.input["shape"]]:
            raise UsageError(f"input of shape {list(x.shape)} does not fit the micro model's fixed "
                             f"{[int(d) for d in self.input['shape']]}")
        encode, decode = converters(self.input)[0], converters(self.output)[1]
        self.interpreter.set_input(encode(x), 0)
        with guarded():
            self.interpreter.reset()  # a fused LSTM keeps its state in variable tensors: start each input at zero
            self.interpreter.invoke()
        return decode(self.interpreter.get_output(0))


class MicroModel(MicroInterpreter):
    """A checked `--target micro` model.tflite and its metadata (what `export.predict --runtime micro` runs)."""

    def __init__(self, path):
        self.path = path
        self.metadata = meta.read(os.path.dirname(os.path.abspath(path)))
        meta.check_tflite(path, self.metadata)
        if self.metadata.get("target") != "micro":
            raise UsageError(f"{path!r} was not exported with --target micro; export it again with it")
        with open(path, "rb") as handle:
            data = handle.read()
        super().__init__(data)  # arena_bytes in the metadata is what the model needed, not a budget to run in
