"""The library under `python -m export`: `export_run(run_dir, ExportOptions(...))` exports a run folder's model,
checks it against the Keras model on held-out examples (and an algorithmic task's stress families) in the runtime
it targets, and writes it with the metadata inference needs, the check included."""
import dataclasses
import os
from typing import Optional

import numpy as np
import tensorflow as tf

from export import checks, convert, defaults
from export.litert import LiteModel
from export.micro import convert as micro
from export.micro.runtime import MicroInterpreter
from export.streaming import convert as stream_export
from export.twin_layers import INT8_LAYERS
from rnnkit.core.errors import UsageError
from rnnkit.core.metadata import metadata_for, write
from rnnkit.engine import evaluate as evaluation
from rnnkit.runs import artifacts
from rnnkit.runs.run_folder import open_run


@dataclasses.dataclass(frozen=True)
class ExportOptions:
    """What to export and how to check it; each field is the `python -m export` flag of the same name."""

    format: str = "tflite"  # or "saved_model"
    quantize: str = "none"  # defaults.QUANTIZE
    target: str = "litert"  # or "micro"
    length: Optional[int] = None  # --target micro, sequence tasks: the fixed length
    unroll: bool = False  # --target micro: GRU / SimpleRNN one set of ops per step
    activations: str = "int8"  # --target micro: int8, or int16 (16x8, recurrent loops unrolled)
    stress_samples: int = 100  # per stress family, checked in the runtime (0: none)
    calibration_samples: Optional[int] = None  # None: the target's default
    input_coverage: Optional[float] = None  # int8: the calibration's central share of float input values
    streaming: bool = False
    out: Optional[str] = None  # None: RUN/export-…
    check_samples: int = 200


def export_run(run_dir, options=ExportOptions()):
    """Export `run_dir` as `options` ask; returns (metadata written, export folder). UsageError if it cannot."""
    cfg, task, model = open_run(run_dir)
    check_data(task, cfg)
    if options.streaming:
        stream_export.refuse_options(options)
        options = dataclasses.replace(options, calibration_samples=options.calibration_samples
                                      or defaults.MICRO_CALIBRATION_SAMPLES)
        return _streaming(run_dir, task, cfg, model, options)
    refuse_options(task, options)
    floats = model.inputs[0].dtype.startswith("float")  # token ids are never clipped (INPUT_COVERAGE)
    if options.input_coverage is not None and not floats:
        raise UsageError("--input-coverage applies to float inputs, and this model reads token ids")
    default = defaults.MICRO_CALIBRATION_SAMPLES if options.target == "micro" else defaults.CALIBRATION_SAMPLES
    coverage = defaults.INPUT_COVERAGE if options.input_coverage is None else options.input_coverage
    options = dataclasses.replace(options, calibration_samples=options.calibration_samples or default,
                                  input_coverage=coverage)
    if options.target == "micro":
        x, y = checks.micro_examples(task, cfg, options)
        data, runner, calibration = _micro_file(task, cfg, model, x, options)  # refuses before any folder is made
    else:
        x, y = task.held_out(cfg, options.check_samples)
    suffix = f"-{options.quantize}" if options.format == "tflite" and options.quantize != "none" else ""
    name = "export-micro" if options.target == "micro" else f"export-{options.format}{suffix}"
    out_dir = artifacts.prepare_run_dir(options.out or os.path.join(run_dir, name))
    try:
        if options.target == "micro":
            quantize = "16x8" if options.activations == "int16" else "int8"
            metadata, exported = _write_micro(task, cfg, data, runner, out_dir, x, convert.is_recurrent(model),
                                              quantize)
            metadata["calibration_samples"] = len(calibration)
            if convert.has_step_loop(model):  # a single step is never looped
                metadata["loop"] = "while" if "WHILE" in metadata["ops"] else "unrolled"
        elif options.format == "tflite":
            metadata, exported = _write_tflite(task, cfg, model, options, out_dir, x)
        else:
            metadata, exported = _write_saved_model(task, cfg, model, out_dir, x)
    except convert.FlexOpsError as error:
        raise UsageError(str(error)) from None
    if metadata.get("quantize") == "int8" and floats:
        metadata["input_coverage"] = options.input_coverage
    metadata["check"] = checks.agreement(task, cfg, y, evaluation.predict(model, x, 256), exported)
    if options.target == "micro":
        stress = checks.stress_agreement(task, cfg, model, runner, x.shape[1], options)
        if stress:
            metadata["check"]["stress"] = stress
    write(out_dir, metadata, artifacts.write_text)
    return metadata, out_dir


def check_data(task, cfg):
    """UsageError if a file or folder the run trained on is gone: every export calibrates or checks on its data."""
    for option in task.option_table().values():
        path = getattr(cfg, option.name, None)
        if option.kind == "path" and path and not os.path.exists(path):
            raise UsageError(f"an export calibrates and checks on the run's data, and {option.cli_flag} {path} is "
                             "gone: put it back (or, to answer without it, use rnnkit predict)")


def refuse_options(task, options):
    """UsageError for a combination of options that does not apply (one line, before anything is written)."""
    if options.format == "saved_model" and options.quantize != "none":
        raise UsageError("--quantize applies to --format tflite only")
    if options.target == "micro" and (options.format != "tflite" or options.quantize not in ("none", "int8")):
        raise UsageError("--target micro is always a full-integer (int8) tflite: drop --format / --quantize")
    if options.length is not None and (options.target != "micro" or "length" not in task.option_table()):
        raise UsageError("--len applies to --target micro of a task with a --len option")
    if options.calibration_samples and options.target != "micro" and options.quantize != "int8":
        raise UsageError("--calibration-samples applies to --quantize int8 and --target micro only")
    int8 = options.quantize == "int8" or (options.target == "micro" and options.activations == "int8")
    if options.input_coverage is not None and not int8:
        raise UsageError("--input-coverage applies to int8 exports only (--quantize int8, --target micro)")
    if options.unroll and options.target != "micro":
        raise UsageError("--unroll applies to --target micro only (the LiteRT export keeps a free-length WHILE)")
    if options.activations != "int8" and options.target != "micro":
        raise UsageError("--activations applies to --target micro only")


def _micro_file(task, cfg, model, x, options):
    """(flatbuffer, a MicroInterpreter that has run it once, calibration inputs) for `--target micro`."""
    try:
        calibration = checks.fit_calibration(task, cfg, x, options.calibration_samples, options.length)
        int16 = options.activations == "int16"  # 16x8 calibration cannot record the tensors inside a WHILE loop
        twin = micro.micro_twin(model, x.shape[1] if convert.is_recurrent(model) else None,
                                unroll=options.unroll or int16)
        data = micro.to_micro(twin, calibration, int16_activations=int16, input_coverage=options.input_coverage)
    except convert.FlexOpsError as error:
        raise UsageError(f"no micro export: {error}") from None
    runner = MicroInterpreter(data)
    runner.run(x[:1])  # refuses, naming what TFLM lacks
    return data, runner, calibration


def _write_tflite(task, cfg, model, options, out_dir, x):
    """Convert and write model.tflite; return (metadata, LiteRT outputs on `x`)."""
    steps = None
    if options.quantize == "int8" and convert.is_recurrent(model):
        steps = x.shape[1]  # full-integer calibration cannot run through a WHILE loop: unroll a fixed length
    twin = convert.inference_twin(model, steps, layers=INT8_LAYERS if options.quantize == "int8" else None)
    calibration = None
    if options.quantize == "int8":
        calibration = checks.calibration_inputs(task, cfg, options.calibration_samples)
        if steps is not None and calibration.shape[1] != steps:
            calibration = checks.fit_width(calibration, steps)
    data = convert.to_tflite(twin, options.quantize, calibration, input_coverage=options.input_coverage)
    path = os.path.join(out_dir, "model.tflite")
    artifacts.atomic_write(path, lambda temp: open(temp, "wb").write(data))
    metadata = metadata_for(task, cfg, twin.inputs[0].shape, twin.inputs[0].dtype, "model.tflite",
                            {"format": "tflite", "quantize": options.quantize, "bytes": len(data),
                             "ops": sorted(convert.builtin_ops(data))})
    if calibration is not None:
        metadata["calibration_samples"] = len(calibration)
    lite = LiteModel(path, metadata=metadata)
    return metadata, np.concatenate([lite.run(x[i: i + 1]) for i in range(len(x))])


def _write_micro(task, cfg, data, runner, out_dir, x, recurrent, quantize="int8"):
    """Write model.tflite, model_data.cc / .h and micro_ops.h; return (metadata, TFLM outputs on `x`).

    `runner` is the MicroInterpreter over `data` that has already run once (its arena use is then recorded).
    """
    ops = sorted(convert.builtin_ops(data))
    artifacts.atomic_write(os.path.join(out_dir, "model.tflite"), lambda temp: open(temp, "wb").write(data))
    source, header = micro.c_array(data)
    artifacts.write_text(os.path.join(out_dir, "model_data.cc"), source)
    artifacts.write_text(os.path.join(out_dir, "model_data.h"), header)
    artifacts.write_text(os.path.join(out_dir, "micro_ops.h"), micro.op_resolver(ops))
    metadata = metadata_for(task, cfg, [1, *x.shape[1:]], str(x.dtype), "model.tflite",
                            {"format": "tflite", "target": "micro", "quantize": quantize, "bytes": len(data),
                             "ops": ops, "arena_bytes": micro.arena_bytes(runner),
                             "length": int(x.shape[1]) if recurrent else None, **micro.io_quantization(runner)})
    return metadata, np.concatenate([runner.run(x[i: i + 1]) for i in range(len(x))])


def _write_saved_model(task, cfg, model, out_dir, x):
    """Write saved_model/ with a `serve` signature; return (metadata, its outputs on `x`)."""
    twin = convert.inference_twin(model, batch=None)
    path = os.path.join(out_dir, "saved_model")
    artifacts.atomic_dir(path, lambda temp: convert.save_saved_model(twin, temp))
    metadata = metadata_for(task, cfg, twin.inputs[0].shape, twin.inputs[0].dtype, "saved_model",
                            {"format": "saved_model", "signature": "serve"})
    loaded = tf.saved_model.load(path)  # keep the object alive: its signature references its variables
    return metadata, np.concatenate([loaded.serve(tf.constant(x[i: i + 1])).numpy() for i in range(len(x))])


def _streaming(run_dir, task, cfg, model, options):
    """`--streaming`: convert, check one held-out sequence runs, write, then check every step against Keras."""
    try:
        data, stream = stream_export.convert(task, cfg, model, options)
    except convert.FlexOpsError as error:
        raise UsageError(f"no streaming export: {error}") from None
    suffix = f"-{options.quantize}" if options.quantize != "none" else ""
    name = "export-micro-stream" if options.target == "micro" else f"export-stream{suffix}"
    out_dir = artifacts.prepare_run_dir(options.out or os.path.join(run_dir, name))
    metadata = stream_export.write(task, cfg, model, data, stream, out_dir, options)
    x, y = task.held_out(cfg, options.check_samples)
    metadata["check"] = stream_export.step_check(task, cfg, model, stream, x, y, checks.agreement)
    stress = checks.stress_agreement(task, cfg, model, stream, None, options)
    if stress:
        metadata["check"]["stress"] = stress
    write(out_dir, metadata, artifacts.write_text)
    return metadata, out_dir
