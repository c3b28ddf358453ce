"""`python -m export RUN --streaming [--target micro]`: write a streaming export and check it step by step.

The check compares every step's output with the Keras model's (a classifier's running prediction against the same
network answering at every step), on held-out examples and, for the algorithmic tasks, on every stress family.
"""
import os

import numpy as np

from export.checks import calibration_inputs
from export.convert import builtin_ops
from export.micro import convert as micro
from export.streaming import step_module as streaming
from export.streaming.runtime import LiteStream, MicroStream
from rnnkit.core.errors import UsageError
from rnnkit.core.metadata import metadata_for
from rnnkit.engine import evaluate as evaluation
from rnnkit.runs import artifacts

EXAMPLE = os.path.join(os.path.dirname(__file__), "example.cc")  # written out as stream_example.cc


def convert(task, cfg, model, options):
    """(flatbuffer bytes, runner) of the streaming export asked for; refuses a model that cannot stream."""
    module, micro_target = streaming.StepModule(model), options.target == "micro"
    quantize = "int8" if micro_target else options.quantize
    calibration = calibration_inputs(task, cfg, options.calibration_samples) if quantize == "int8" else None
    data = streaming.to_tflite(module, quantize, calibration, integer_io=micro_target, int16_activations=micro_target)
    if micro_target:
        data = streaming.for_micro(data)
    stream = MicroStream(data) if options.target == "micro" else LiteStream(data)
    stream.per_step, stream.skip_padding = streaming.per_step_output(model), streaming.skips_padding(model)
    stream.run(task.held_out(cfg, 1)[0])  # refuses, naming what the runtime lacks, before any folder is made
    return data, stream


def write(task, cfg, model, data, stream, out_dir, options):
    """Write model.tflite (and for micro the C files and the step-loop example); return the metadata."""
    artifacts.atomic_write(os.path.join(out_dir, "model.tflite"), lambda temp: open(temp, "wb").write(data))
    ops = sorted(builtin_ops(data))
    shape = [1, None, *model.inputs[0].shape[2:]]
    extra = {"format": "tflite", "quantize": "16x8" if options.target == "micro" else options.quantize,
             "bytes": len(data), "ops": ops,
             "streaming": {"step_input": [1, *model.inputs[0].shape[2:]], "per_step": stream.per_step,
                           "skip_padding": stream.skip_padding, "states": streaming.state_quantization(data),
                           "reset": "signature 'zero_state' (LiteRT); "
                           "MicroInterpreter::Reset() (TFLM)"}}
    if options.target == "micro":  # the stream has run (convert's first check), so TFLM reports its arena
        extra.update(target="micro", arena_bytes=micro.arena_bytes(stream), **micro.io_quantization(stream))
        source, header = micro.c_array(data)
        artifacts.write_text(os.path.join(out_dir, "model_data.cc"), source)
        artifacts.write_text(os.path.join(out_dir, "model_data.h"), header)
        artifacts.write_text(os.path.join(out_dir, "micro_ops.h"), micro.op_resolver(ops))
        with open(EXAMPLE, encoding="utf-8") as handle:
            artifacts.write_text(os.path.join(out_dir, "stream_example.cc"), handle.read())
    return metadata_for(task, cfg, shape, model.inputs[0].dtype, "model.tflite", extra)


def step_check(task, cfg, model, stream, x, y, agreement):
    """The task metric of Keras and the stream on (x, y), and the largest difference at any step."""
    running = evaluation.predict(streaming.running_model(model), x, 256)
    largest, finals = 0.0, []
    for i in range(len(x)):
        outputs = np.concatenate(list(stream.steps(x[i: i + 1])))
        largest = max(largest, float(np.max(np.abs(outputs - running[i, : len(outputs)]))))
        finals.append(outputs if stream.per_step else outputs[-1:])
    check = agreement(task, cfg, y, evaluation.predict(model, x, 256), np.stack(finals) if
                      stream.per_step else np.concatenate(finals))
    check["max_abs_diff"] = largest
    check["every_step"] = True
    return check


def refuse_options(options):
    """UsageError for options a streaming export does not take."""
    if options.format != "tflite":
        raise UsageError("--streaming writes a .tflite: drop --format")
    if options.target == "micro" and options.quantize not in ("none", "int8"):
        raise UsageError("--target micro is always a full-integer (int8) tflite: drop --quantize")
    if options.calibration_samples and options.target != "micro" and options.quantize != "int8":
        raise UsageError("--calibration-samples applies to --quantize int8 and --target micro only")
    if options.input_coverage is not None:
        raise UsageError("--input-coverage does not apply to --streaming: a stream calibrates step by step")
    if options.length is not None or options.unroll:
        raise UsageError("--len and --unroll do not apply to --streaming: a stream takes one step at a time")
    if options.activations != "int8":
        raise UsageError("--activations does not apply to --streaming: a micro stream is always 16x8")
