"""Run an exported .tflite with the LiteRT interpreter (`ai_edge_litert`): no TensorFlow, no Keras."""
import os

import numpy as np

from rnnkit.core import metadata as meta
from rnnkit.core.errors import UsageError
from rnnkit.core.quiet import parked_stderr


class LiteModel:
    """A checked .tflite and its metadata; `run(x)` resizes the free axes to `x` and returns float outputs."""

    def __init__(self, path, num_threads=1, metadata=None):
        self.path = path
        # The metadata beside the file, or (an export checking itself before it writes) the one given.
        self.metadata = metadata if metadata is not None else meta.read(os.path.dirname(os.path.abspath(path)))
        meta.check_tflite(path, self.metadata)
        if self.metadata.get("target") == "micro":
            raise UsageError(f"{path!r} is a --target micro export (integer input and output): "
                             "run it with --runtime micro")
        self.interpreter = _load(path, num_threads)
        inputs, outputs = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise UsageError(f"{path!r} has {len(inputs)} inputs and {len(outputs)} outputs; expected 1 and 1")
        self.input, self.output = inputs[0], outputs[0]
        meta.check_input_details(self.input, self.metadata)
        self.shape = None

    def run(self, x):
        """Model output for a batch-of-one input `x` (dequantized to float32 when the output is integer)."""
        x = np.asarray(x, dtype=self.input["dtype"])
        if tuple(x.shape) != self.shape:
            fixed = [d for d, free in zip(self.input["shape_signature"], x.shape) if d > 0]
            if len(x.shape) != len(self.input["shape"]) or any(
                    want > 0 and want != got for want, got in zip(self.input["shape_signature"], x.shape)):
                raise UsageError(f"input of shape {list(x.shape)} does not fit the model's "
                                    f"{list(self.input['shape_signature'])} (fixed axes {fixed})")
            self.interpreter.resize_tensor_input(self.input["index"], list(x.shape), strict=True)
            self.interpreter.allocate_tensors()
            self.shape = tuple(x.shape)
        self.interpreter.set_tensor(self.input["index"], x)
        self.interpreter.invoke()
        y = self.interpreter.get_tensor(self.output["index"])
        if y.dtype != np.float32:
            scale, zero = self.output["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        return y


def _load(path, num_threads):
    """A LiteRT interpreter with its tensors allocated; without the XNNPACK delegate if that cannot prepare.

    XNNPACK refuses some int8 graphs (seen: an unrolled, masked bidirectional LSTM); the builtin kernels
    run them.
    """
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    error = None
    for resolver in (OpResolverType.AUTO, OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES):
        try:
            with parked_stderr(quiet_for=(ValueError, RuntimeError)):  # LiteRT announces XNNPACK on stderr
                interpreter = Interpreter(model_path=path, num_threads=num_threads,
                                          experimental_op_resolver_type=resolver)
                interpreter.allocate_tensors()
            return interpreter
        except (ValueError, RuntimeError) as failure:
            error = failure
    message = str(error).replace("failed to create XNNPACK runtime", "").strip().splitlines()
    raise UsageError(f"LiteRT cannot load {path!r}: {message[0][:200] if message else 'unknown error'}")
