"""`python -m export.predict MODEL.tflite INPUT [INPUT ...]`: answer with LiteRT alone (no TensorFlow, no Keras).

The model's folder must hold the rnnkit_export.json written by `python -m export`. Inputs per task: adder
`31415+27182`; binary_add `1011+110`; recall `3 5 8 6 8`; palindrome the digits before the hidden last one;
names a surname; mnist and cifar10 an image file; moons / circles / classification `x,y`.
"""
import argparse
import sys

from rnnkit import cli, codecs

PROG = "python -m export.predict"


def predict(model, texts):
    """One answer line per input text, from a loaded LiteModel."""
    lines = []
    for text in texts:
        x = codecs.encode(model.metadata, text)
        lines.append(codecs.describe(model.metadata, text, x, model.run(x)))
    return lines


def main(argv=None):
    """CLI entry point: 0 on success, 2 on bad input (one line on stderr)."""
    parser = cli.Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                        allow_abbrev=False)
    parser.add_argument("model", metavar="MODEL.tflite", help="a .tflite written by python -m export")
    parser.add_argument("inputs", metavar="INPUT", nargs="+", help="what to ask the model")
    parser.add_argument("--threads", type=cli.bounded_int(1, 64), default=1, metavar="N",
                        help="interpreter threads (1-64, default 1; litert only)")
    parser.add_argument("--runtime", choices=("litert", "micro"), default="litert",
                        help="LiteRT (default) or the TensorFlow Lite Micro interpreter (a --target micro export)")

    def body(argv):
        args = parser.parse_args(argv)
        if args.runtime == "micro":
            from export.micro_runtime import MicroModel  # tflite_micro loads only once the arguments are good
            model = MicroModel(args.model)
        else:
            from export.litert import LiteModel  # ai_edge_litert loads only once the arguments are known good
            model = LiteModel(args.model, num_threads=args.threads)
        for line in predict(model, args.inputs):
            print(line)
    return cli.run_main(PROG, body, argv)


if __name__ == "__main__":
    sys.exit(main())
