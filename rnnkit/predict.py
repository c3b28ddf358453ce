"""`python -m rnnkit.predict RUN INPUT [INPUT ...]`: answer with a run folder's Keras model.

Same input syntax and output as `python -m export.predict` (the two share rnnkit/codecs.py): adder
`31415+27182`; binary_add `1011+110`; recall `3 5 8 6 8`; palindrome the digits before the hidden last one;
names a surname; mnist and cifar10 an image file; moons / circles / classification `x,y`.
"""
import argparse
import sys

import numpy as np

from rnnkit.core import cli, codecs
from rnnkit.core.metadata import metadata_for
from rnnkit.runs.run_folder import open_run

PROG = "python -m rnnkit.predict"


def predict_lines(cfg, task, model, texts):
    """One answer line per input text."""
    metadata = metadata_for(task, cfg, model.inputs[0].shape, model.inputs[0].dtype, "model.keras", {})
    lines = []
    for text in texts:
        x = codecs.encode(metadata, text)
        output = model.predict(x.astype(np.dtype(model.inputs[0].dtype)), verbose=0)
        lines.append(codecs.describe(metadata, text, x, output))
    return lines


def main(argv=None):
    """CLI entry point: 0 on success, 2 on bad input."""
    parser = cli.Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                        allow_abbrev=False)
    parser.add_argument("run", metavar="RUN", help="a run folder written by python -m rnnkit.train")
    parser.add_argument("inputs", metavar="INPUT", nargs="+", help="what to ask the model")

    def body(argv):
        args = parser.parse_args(argv)
        cfg, task, model = open_run(args.run)
        for line in predict_lines(cfg, task, model, args.inputs):
            print(line)
    return cli.run_main(PROG, body, argv)


if __name__ == "__main__":
    sys.exit(main())
