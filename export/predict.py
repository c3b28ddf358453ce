"""`python -m export.predict MODEL.tflite INPUT [INPUT ...]`: answer with LiteRT alone (no TensorFlow, no Keras).

The model's folder must hold the rnnkit_export.json written by `python -m export`. Inputs per task: adder
`31415+27182`; binary_add `1011+110`; recall `3 5 8 6 8`; palindrome the digits before the hidden last one;
names a surname; mnist and cifar10 an image file; moons / circles / classification `x,y`.
"""
import argparse
import sys

from export import codecs
from export.metadata import BadInput

PROG = "python -m export.predict"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit status 2."""

    def error(self, message):
        """Print `prog: error: message` and exit 2."""
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def predict(model, texts):
    """One answer line per input text, from a loaded LiteModel."""
    lines = []
    for text in texts:
        x = codecs.encode(model.metadata, text)
        lines.append(codecs.describe(model.metadata, text, x, model.run(x)))
    return lines


def main(argv=None):
    """CLI entry point: 0 on success, 2 on bad input (one line on stderr)."""
    parser = _Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", metavar="MODEL.tflite", help="a .tflite written by python -m export")
    parser.add_argument("inputs", metavar="INPUT", nargs="+", help="what to ask the model")
    parser.add_argument("--threads", type=int, default=1, choices=range(1, 65), metavar="N",
                        help="interpreter threads (1-64, default 1)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from export.litert import LiteModel
    try:
        model = LiteModel(args.model, num_threads=args.threads)
        for line in predict(model, args.inputs):
            print(line)
    except BadInput as error:
        parser.error(str(error))
    return 0


if __name__ == "__main__":
    sys.exit(main())
