"""`python -m export RUN [--format tflite|saved_model] [--quantize none|dynamic|float16|int8] [--target litert|micro]
[--streaming]`.

Exports a run folder's model with the metadata inference needs, then checks the export against the Keras
model on held-out examples (max |difference| and the task metric) and records the check in the metadata.
"""
import os
import sys

import numpy as np
import tensorflow as tf

from export import convert
from export.litert import LiteModel
from export.micro import convert as micro
from export.micro.runtime import MicroInterpreter
from export.streaming import convert as stream_export
from export.twin_layers import INT8_LAYERS
from rnnkit.core import cli
from rnnkit.core.errors import UsageError
from rnnkit.core.metadata import METADATA_FILE, metadata_for, write
from rnnkit.runs import artifacts
from rnnkit.runs.run_folder import open_run
from rnnkit.tasks.sequence import STRESS_SEED

PROG = "python -m export"


def build_parser():
    """The export CLI's arguments."""
    parser = cli.Parser(prog=PROG, description=__doc__, allow_abbrev=False)
    parser.add_argument("run", metavar="RUN", help="a run folder written by python -m rnnkit.train")
    parser.add_argument("--format", choices=("tflite", "saved_model"), default="tflite",
                        help="TFLite / LiteRT flatbuffer (default) or a TensorFlow SavedModel")
    parser.add_argument("--quantize", choices=convert.QUANTIZE, default="none",
                        help="tflite only: none (float32), dynamic (int8 weights), float16, int8 (full integer)")
    parser.add_argument("--target", choices=("litert", "micro"), default="litert",
                        help="litert (phones, desktops; default) or micro: full-integer int8 with static shapes for "
                             "TensorFlow Lite Micro, plus model_data.cc/.h and an op resolver")
    parser.add_argument("--len", dest="length", type=cli.bounded_int(1, 100_000), metavar="N",
                        help="--target micro, sequence tasks: the fixed length (default the task's held-out length)")
    parser.add_argument("--unroll", action="store_true",
                        help="--target micro: GRU / SimpleRNN layers as one set of ops per step (int8 scales per "
                             "step; a larger file) instead of one WHILE loop")
    parser.add_argument("--stress-samples", type=cli.bounded_int(0, 100_000), default=100, metavar="N",
                        help="--target micro and --streaming, algorithmic tasks: examples per stress family checked "
                             "in the runtime next to Keras (default 100; 0 skips them)")
    parser.add_argument("--calibration-samples", type=cli.bounded_int(1, 100_000), metavar="N",
                        help="--quantize int8 and --target micro: validation examples that calibrate the int8 ranges "
                             f"(default {convert.CALIBRATION_SAMPLES} for int8, {micro.CALIBRATION_SAMPLES} for micro)")
    parser.add_argument("--streaming", action="store_true",
                        help="one time step per invoke, the recurrent state kept inside the model between invokes "
                             "(signature 'zero_state', or MicroInterpreter::Reset(), starts a new sequence): any "
                             "length in the memory of one step; recurrent, unidirectional models only; with "
                             "--target micro 16x8 (int16 activations and states, int8 weights)")
    parser.add_argument("--out", metavar="DIR", help="export folder to create (default RUN/export-<format>[-<q>])")
    parser.add_argument("--check-samples", type=cli.bounded_int(1, 100_000), default=200,
                        help="held-out examples to compare with the Keras model (default 200)")
    return parser


def agreement(task, cfg, y, keras_out, exported_out):
    """Max |difference| and the task metric (accuracy, exact match) of both models on the same examples."""
    result = {"max_abs_diff": float(np.max(np.abs(keras_out - exported_out))), "samples": int(len(y))}
    for name, out in (("keras", keras_out), ("export", exported_out)):
        right = np.asarray(task.decode(cfg, out)).reshape(y.shape) == y
        per_example = right.reshape(len(y), -1)
        result[name] = {"accuracy": float(per_example.mean()), "exact_match": float(per_example.all(1).mean())}
    return result


def calibration_inputs(task, cfg, count=convert.CALIBRATION_SAMPLES):
    """Representative inputs for int8 calibration, drawn from the task's validation pipeline."""
    x, _ = next(iter(task.build_inputs(cfg, "val").unbatch().batch(count)))
    return x.numpy()


def export_tflite(task, cfg, model, args, out_dir, x):
    """Convert, write model.tflite, and return (metadata extras, LiteRT outputs on `x`)."""
    steps = None
    if args.quantize == "int8" and convert.is_recurrent(model):
        steps = x.shape[1]  # full-integer calibration cannot run through a WHILE loop: unroll a fixed length
    twin = convert.inference_twin(model, steps, layers=INT8_LAYERS if args.quantize == "int8" else None)
    calibration = None
    if args.quantize == "int8":
        calibration = calibration_inputs(task, cfg, args.calibration_samples)
    if calibration is not None and steps is not None and calibration.shape[1] != steps:
        calibration = fit_width(calibration, steps)
    data = convert.to_tflite(twin, args.quantize, calibration)
    path = os.path.join(out_dir, "model.tflite")
    artifacts.atomic_write(path, lambda temp: open(temp, "wb").write(data))
    shape = twin.inputs[0].shape
    metadata = metadata_for(task, cfg, shape, twin.inputs[0].dtype, "model.tflite",
                                    {"format": "tflite", "quantize": args.quantize, "bytes": len(data),
                                     "ops": sorted(convert.builtin_ops(data))})
    if calibration is not None:
        metadata["calibration_samples"] = len(calibration)
    write(out_dir, metadata, artifacts.write_text)
    lite = LiteModel(path)
    return metadata, np.concatenate([lite.run(x[i: i + 1]) for i in range(len(x))])


def arrays_at(task, cfg, split, length, n=None):
    """A sequence task's `split` examples at `length` as NumPy (x, y)."""
    batches = list(task.build_inputs(cfg, split, length=length, n=n).as_numpy_iterator())
    return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])


def micro_examples(task, cfg, args):
    """Held-out (x, y) for a micro export: at --len for a sequence task, else the task's own held-out set."""
    if args.length is None:
        return task.held_out(cfg, args.check_samples)
    return arrays_at(task, cfg, "test", args.length, args.check_samples)


def fit_calibration(task, cfg, x, count, length=None):
    """`count` calibration inputs with the same fixed time axis as `x` (drawn at --len where one is given)."""
    if length is not None:
        return arrays_at(task, cfg, "val", length)[0][:count]
    calibration = calibration_inputs(task, cfg, count)
    return calibration if calibration.shape[1:] == x.shape[1:] else fit_width(calibration, x.shape[1])


def export_micro(task, cfg, data, runner, out_dir, x, recurrent):
    """Write model.tflite, model_data.cc / .h and micro_ops.h; return (metadata, TFLM outputs on `x`).

    `runner` is the MicroInterpreter over `data` that has already run once (its arena use is then recorded).
    """
    ops = sorted(convert.builtin_ops(data))
    artifacts.atomic_write(os.path.join(out_dir, "model.tflite"), lambda temp: open(temp, "wb").write(data))
    source, header = micro.c_array(data)
    artifacts.write_text(os.path.join(out_dir, "model_data.cc"), source)
    artifacts.write_text(os.path.join(out_dir, "model_data.h"), header)
    artifacts.write_text(os.path.join(out_dir, "micro_ops.h"), micro.op_resolver(ops))
    arena = micro.arena_bytes(runner)
    shape = [1, *x.shape[1:]]
    metadata = metadata_for(task, cfg, shape, str(x.dtype), "model.tflite",
                            {"format": "tflite", "target": "micro", "quantize": "int8", "bytes": len(data),
                             "ops": ops, "arena_bytes": arena, "length": int(x.shape[1]) if recurrent else None,
                             **micro.io_quantization(runner)})
    return metadata, np.concatenate([runner.run(x[i: i + 1]) for i in range(len(x))])


def stress_agreement(task, cfg, model, runner, width, args):
    """{family: {samples, keras, export}} exact match of Keras and the export (`runner`) on the task's stress
    families at the micro length or the main one (an algorithmic task's hard cases: long carry chains, repeated
    digits); {} for other tasks. `width` fixes the time axis (None: a stream takes any)."""
    if not args.stress_samples or not hasattr(task, "stress_arrays"):
        return {}
    length = args.length if args.length is not None else task.main_length(cfg)
    families = task.stress_arrays(cfg, np.random.default_rng([STRESS_SEED, length]), args.stress_samples, length)
    result = {}
    for family, (x, y) in families.items():
        x = x if width is None or x.shape[1] == width else fit_width(x, width)
        keras_out = model.predict(x, verbose=0, batch_size=256)
        micro_out = np.concatenate([runner.run(x[i: i + 1]) for i in range(len(x))])
        check = agreement(task, cfg, y, keras_out, micro_out)
        result[family] = {"samples": check["samples"], "keras": check["keras"]["exact_match"],
                          "export": check["export"]["exact_match"]}
    return result


def fit_width(tokens, width):
    """Pad (with 0) or cut rows to `width` time steps (for exports unrolled at a fixed length)."""
    out = np.zeros((len(tokens), width, *tokens.shape[2:]), dtype=tokens.dtype)
    out[:, : min(width, tokens.shape[1])] = tokens[:, :width]
    return out


def export_saved_model(task, cfg, model, out_dir, x):
    """Write saved_model/ with a `serve` signature, and return (metadata, its outputs on `x`)."""
    twin = convert.inference_twin(model, batch=None)
    path = os.path.join(out_dir, "saved_model")
    artifacts.atomic_dir(path, lambda temp: convert.save_saved_model(twin, temp))
    metadata = metadata_for(task, cfg, twin.inputs[0].shape, twin.inputs[0].dtype, "saved_model",
                                    {"format": "saved_model", "signature": "serve"})
    write(out_dir, metadata, artifacts.write_text)
    loaded = tf.saved_model.load(path)  # keep the object alive: its signature references its variables
    return metadata, np.concatenate([loaded.serve(tf.constant(x[i: i + 1])).numpy() for i in range(len(x))])


def run(args):
    """Export RUN as asked; returns the metadata written."""
    cfg, task, model = open_run(args.run)
    if args.streaming:
        return run_streaming(task, cfg, model, args)
    if args.format == "saved_model" and args.quantize != "none":
        raise UsageError("--quantize applies to --format tflite only")
    if args.target == "micro" and (args.format != "tflite" or args.quantize not in ("none", "int8")):
        raise UsageError("--target micro is always a full-integer (int8) tflite: drop --format / --quantize")
    if args.length is not None and (args.target != "micro" or "length" not in task.option_table()):
        raise UsageError("--len applies to --target micro of a task with a length (adder, binary_add, palindrome)")
    if args.calibration_samples and args.target != "micro" and args.quantize != "int8":
        raise UsageError("--calibration-samples applies to --quantize int8 and --target micro only")
    args.calibration_samples = args.calibration_samples or (
        micro.CALIBRATION_SAMPLES if args.target == "micro" else convert.CALIBRATION_SAMPLES)
    if args.unroll and args.target != "micro":
        raise UsageError("--unroll applies to --target micro only (the LiteRT export keeps a free-length WHILE)")
    x, y = micro_examples(task, cfg, args) if args.target == "micro" else task.held_out(cfg, args.check_samples)
    recurrent = convert.is_recurrent(model)
    if args.target == "micro":
        try:
            calibration = fit_calibration(task, cfg, x, args.calibration_samples, args.length)
            twin = micro.micro_twin(model, x.shape[1] if recurrent else None, unroll=args.unroll)
            data = micro.to_micro(twin, calibration)
        except convert.FlexOpsError as error:
            raise UsageError(f"no micro export: {error}") from None
        runner = MicroInterpreter(data)
        runner.run(x[:1])  # refuses, naming what TFLM lacks, before any folder is made
    suffix = f"-{args.quantize}" if args.format == "tflite" and args.quantize != "none" else ""
    name = "export-micro" if args.target == "micro" else f"export-{args.format}{suffix}"
    out_dir = artifacts.prepare_run_dir(args.out or os.path.join(args.run, name))
    try:
        if args.target == "micro":
            metadata, exported = export_micro(task, cfg, data, runner, out_dir, x, recurrent)
        elif args.format == "tflite":
            metadata, exported = export_tflite(task, cfg, model, args, out_dir, x)
        else:
            metadata, exported = export_saved_model(task, cfg, model, out_dir, x)
    except convert.FlexOpsError as error:
        raise UsageError(str(error)) from None
    metadata["check"] = agreement(task, cfg, y, model.predict(x, verbose=0, batch_size=256), exported)
    if args.target == "micro":
        metadata["calibration_samples"] = len(calibration)
        if convert.has_step_loop(model):  # a single step is never looped
            metadata["loop"] = "while" if "WHILE" in metadata["ops"] else "unrolled"
        stress = stress_agreement(task, cfg, model, runner, x.shape[1], args)
        if stress:
            metadata["check"]["stress"] = stress
    write(out_dir, metadata, artifacts.write_text)
    report(metadata, out_dir)
    return metadata


def run_streaming(task, cfg, model, args):
    """`--streaming`: convert, check one held-out sequence runs, write, then check every step against Keras."""
    stream_export.refuse_options(args)
    args.calibration_samples = args.calibration_samples or micro.CALIBRATION_SAMPLES
    try:
        data, stream = stream_export.convert(task, cfg, model, args)
    except convert.FlexOpsError as error:
        raise UsageError(f"no streaming export: {error}") from None
    suffix = f"-{args.quantize}" if args.quantize != "none" else ""
    name = "export-micro-stream" if args.target == "micro" else f"export-stream{suffix}"
    out_dir = artifacts.prepare_run_dir(args.out or os.path.join(args.run, name))
    metadata = stream_export.write(task, cfg, model, data, stream, out_dir, args)
    x, y = task.held_out(cfg, args.check_samples)
    metadata["check"] = stream_export.step_check(task, cfg, model, stream, x, y, agreement)
    stress = stress_agreement(task, cfg, model, stream, None, args)
    if stress:
        metadata["check"]["stress"] = stress
    write(out_dir, metadata, artifacts.write_text)
    report(metadata, out_dir)
    return metadata


def report(metadata, out_dir):
    """Print what was written and how it compares with the Keras model."""
    check = metadata["check"]
    size = f", {metadata['bytes'] / 1024:.1f} KiB" if "bytes" in metadata else ""
    print(f"exported {metadata['task']} as {metadata['format']} ({metadata.get('quantize', 'float')}{size}) "
          f"to {out_dir}/{metadata['model_file']} with {METADATA_FILE}")
    if metadata.get("streaming"):
        print("streaming: one time step per invoke, the state kept inside the model; every step below was "
              "compared with Keras")
    if metadata.get("target") == "micro":
        print(f"TensorFlow Lite Micro: {metadata['arena_bytes']} arena bytes, ops {', '.join(metadata['ops'])}; "
              "model_data.cc / .h and micro_ops.h beside it; the check below ran in the TFLM interpreter")
    print(f"check on {check['samples']} held-out examples: max |export - keras| = {check['max_abs_diff']:.3g}")
    for name in ("keras", "export"):
        print(f"  {name:<7} accuracy {check[name]['accuracy']:.4f}  exact match {check[name]['exact_match']:.4f}")
    if check.get("stress"):
        runtime = "TFLM" if metadata.get("target") == "micro" else "LiteRT"
        print(f"{'stress (exact match)':<22}{'keras':>8}{runtime:>8}")
        for family, figures in check["stress"].items():
            print(f"{family:<22}{figures['keras']:>8.4f}{figures['export']:>8.4f}")


def main(argv=None):
    """CLI entry point: 0 on success, 2 on bad input."""
    def body(args):
        run(build_parser().parse_args(args))
    return cli.run_main(PROG, body, argv)


if __name__ == "__main__":
    sys.exit(main())
