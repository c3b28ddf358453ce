"""Run a `--streaming` export one time step per invoke, in LiteRT or TensorFlow Lite Micro: no TensorFlow.

A stream keeps its recurrent state inside the model between invokes; `reset()` starts a new sequence. `run(x)`
feeds a whole encoded sequence (batch of one) step by step and returns what the full-sequence model returns: every
step's output for a model that answers per step, else the last step's (a classifier's final prediction).
"""
import contextlib
import os

import numpy as np

from export.micro.runtime import converters, guarded
from export.micro.runtime import interpreter as micro_interpreter
from rnnkit.core import metadata as meta
from rnnkit.core.errors import UsageError
from rnnkit.core.quiet import parked_stderr


class Stream:
    """The step loop shared by both runtimes; a subclass supplies `_invoke(x)` and `reset()`."""

    per_step = True
    skip_padding = False

    def _guarded(self):
        """A context the steps of one sequence run in (the runtime's own error reporting)."""
        return contextlib.nullcontext()

    def steps(self, x):
        """Yield the float output (batch of one) after each step of the sequence `x` (batch of one), from a reset."""
        self.reset()
        sequence = np.asarray(x)[0]
        if self.skip_padding:
            flat = sequence.reshape(len(sequence), -1)
            sequence = sequence[np.any(flat != 0, axis=1)]
        with self._guarded():
            outputs = [self._invoke(step[None]) for step in sequence]
        yield from outputs

    def run(self, x):
        """The full-sequence model's output for `x`: (1, steps, classes) per step, else (1, classes)."""
        outputs = list(self.steps(x))
        if not outputs:
            raise UsageError("the input has no steps to stream")
        return np.stack(outputs, axis=1) if self.per_step else outputs[-1]


class LiteStream(Stream):
    """A streaming .tflite in LiteRT: signature `step` per time step, signature `zero_state` between sequences."""

    def __init__(self, data, num_threads=1):
        from ai_edge_litert.interpreter import Interpreter
        try:
            with parked_stderr(quiet_for=(ValueError, RuntimeError)):  # LiteRT announces XNNPACK on stderr
                self.interpreter = Interpreter(model_content=data, num_threads=num_threads)
                self._step = self.interpreter.get_signature_runner("step")
                self._reset = self.interpreter.get_signature_runner("zero_state")
                self.reset()  # the first invoke announces XNNPACK
        except (ValueError, RuntimeError) as error:
            raise UsageError(f"LiteRT cannot load this streaming model: {str(error)[:200]}") from None
        self._encode = converters(self._step.get_input_details()["x"])[0]
        (self._output_name, output), = self._step.get_output_details().items()
        self._decode = converters(output)[1]

    def reset(self):
        """Zero the recurrent state (the `zero_state` signature)."""
        self._reset(unused=np.zeros((1,), np.int32))

    def _invoke(self, x):
        """One step's float output."""
        return self._decode(self._step(x=self._encode(x))[self._output_name])


class MicroStream(Stream):
    """A streaming .tflite in the TensorFlow Lite Micro interpreter: one Invoke() per step, Reset() between."""

    def __init__(self, data):
        self.interpreter = micro_interpreter(data)
        self.input, self.output = self.interpreter.get_input_details(0), self.interpreter.get_output_details(0)
        self._encode, self._decode = converters(self.input)[0], converters(self.output)[1]

    def reset(self):
        """Zero the recurrent state (MicroInterpreter::Reset() sets resource variables to their zero point)."""
        self.interpreter.reset()

    def _guarded(self):
        """TFLM's failure on any step as one UsageError line."""
        return guarded()

    def _invoke(self, x):
        """One step's float output."""
        self.interpreter.set_input(self._encode(x), 0)
        self.interpreter.invoke()
        return self._decode(np.array(self.interpreter.get_output(0)))


def open_stream(path, runtime="litert", num_threads=1):
    """A checked streaming export (model.tflite and its rnnkit_export.json) in `runtime`, with its metadata."""
    metadata = meta.read(os.path.dirname(os.path.abspath(path)))
    meta.check_tflite(path, metadata)
    if not metadata.get("streaming"):
        raise UsageError(f"{path!r} was not exported with --streaming")
    if runtime == "litert" and metadata.get("target") == "micro":
        raise UsageError(f"{path!r} is a --target micro export (integer input and output): run it with "
                         "--runtime micro")
    with open(path, "rb") as handle:
        data = handle.read()
    stream = MicroStream(data) if runtime == "micro" else LiteStream(data, num_threads)
    stream.per_step = metadata["streaming"]["per_step"]
    stream.skip_padding = metadata["streaming"]["skip_padding"]
    stream.metadata, stream.path = metadata, path
    return stream
