"""`python -m export RUN [--format tflite|saved_model] [--quantize none|dynamic|float16|int8] [--target litert|micro]
[--streaming]`.

Exports a run folder's model with the metadata inference needs, then checks the export against the Keras
model on held-out examples (max |difference| and the task metric) and records the check in the metadata.
The work is `export.run.export_run`; this module parses and reports.
"""
import sys

from export import defaults
from rnnkit.core import cli
from rnnkit.core.lazy import LazyModule
from rnnkit.core.metadata import METADATA_FILE

# TensorFlow loads only once the arguments are parsed: --help and a mistyped flag answer in a moment.
run = LazyModule("export.run")

PROG = "python -m export"


def build_parser():
    """The export CLI's arguments."""
    parser = cli.Parser(prog=PROG, description=__doc__, allow_abbrev=False)
    parser.add_argument("run", metavar="RUN", help="a run folder written by python -m rnnkit.train")
    parser.add_argument("--format", choices=("tflite", "saved_model"), default="tflite",
                        help="TFLite / LiteRT flatbuffer (default) or a TensorFlow SavedModel")
    parser.add_argument("--quantize", choices=defaults.QUANTIZE, default="none",
                        help="tflite only: none (float32), dynamic (int8 weights), float16, int8 (full integer)")
    parser.add_argument("--target", choices=("litert", "micro"), default="litert",
                        help="litert (phones, desktops; default) or micro: full-integer int8 with static shapes for "
                             "TensorFlow Lite Micro, plus model_data.cc/.h and an op resolver")
    parser.add_argument("--len", dest="length", type=cli.bounded_int(1, 100_000), metavar="N",
                        help="--target micro, sequence tasks: the fixed length (default the task's held-out length)")
    parser.add_argument("--unroll", action="store_true",
                        help="--target micro: GRU / SimpleRNN layers as one set of ops per step (int8 scales per "
                             "step; a larger file) instead of one WHILE loop")
    parser.add_argument("--activations", choices=("int8", "int16"), default="int8",
                        help="--target micro: int8 (default), or int16: 16x8, int16 activations and I/O with int8 "
                             "weights, for a model whose int8 export answers unlike Keras; GRU / SimpleRNN layers "
                             "are unrolled (as --unroll), so file and arena grow several times; float inputs, "
                             "convolutions and GRU / SimpleRNN (the converter has no 16x8 fused LSTM)")
    parser.add_argument("--stress-samples", type=cli.bounded_int(0, 100_000), default=100, metavar="N",
                        help="--target micro and --streaming, algorithmic tasks: examples per stress family checked "
                             "in the runtime next to Keras (default 100; 0 skips them)")
    parser.add_argument("--calibration-samples", type=cli.bounded_int(1, 100_000), metavar="N",
                        help="--quantize int8 and --target micro: validation examples (training examples where the "
                             "run held none out) that calibrate the int8 ranges (default "
                             f"{defaults.CALIBRATION_SAMPLES} for int8, "
                             f"{defaults.MICRO_CALIBRATION_SAMPLES} for micro)")
    parser.add_argument("--input-coverage", type=cli.bounded_float(0.5, 1.0, low_open=True), metavar="F",
                        help="int8 exports (--quantize int8, --target micro): the calibration's float inputs are "
                             "clipped to this central share of their values before the int8 input range is set, so "
                             "rare spikes do not coarsen its 256 steps; rarer inputs saturate (default "
                             f"{defaults.INPUT_COVERAGE:g}; 1: the full range, where rare extremes carry the answer)")
    parser.add_argument("--streaming", action="store_true",
                        help="one time step per invoke, the recurrent state kept inside the model between invokes "
                             "(signature 'zero_state', or MicroInterpreter::Reset(), starts a new sequence): any "
                             "length in the memory of one step; recurrent, unidirectional models only; with "
                             "--target micro 16x8 (int16 activations and states, int8 weights)")
    parser.add_argument("--out", metavar="DIR", help="export folder to create (default RUN/export-<format>[-<q>])")
    parser.add_argument("--check-samples", type=cli.bounded_int(1, 100_000), default=200,
                        help="held-out examples to compare with the Keras model (default 200)")
    return parser


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
    def body(argv):
        options = vars(build_parser().parse_args(argv))
        run_dir = options.pop("run")
        metadata, out_dir = run.export_run(run_dir, run.ExportOptions(**options))
        report(metadata, out_dir)
    return cli.run_main(PROG, body, argv)


if __name__ == "__main__":
    sys.exit(main())
