"""`python -m export.predict MODEL.tflite INPUT [INPUT ...]`: answer with LiteRT alone (no TensorFlow, no Keras).

The model's folder must hold the rnnkit_export.json written by `python -m export`. Inputs per task: adder
`31415+27182`; binary_add `1011+110`; recall `3 5 8 6 8`; palindrome the digits before the hidden last one;
names a surname; mnist and cifar10 an image file; moons / circles / classification `x,y`; series values split by
`,`. Labelled data as the task trains on it (a series file, a text CSV or folder, a names folder) gets its accuracy
and a confusion matrix. `-` reads the inputs from standard input, one per line (a streamed sum of two 100 000-digit
numbers does not fit in one argument).

A `--streaming` export is fed one time step per invoke, its state kept inside the model: any length runs in the
memory of one step. `--every N` prints a streaming classifier's running prediction every N steps.
"""
import argparse
import os
import sys

import numpy as np

from rnnkit.core import cli, codecs
from rnnkit.core import metadata as meta
from rnnkit.core.errors import UsageError

PROG = "python -m export.predict"


def predict(model, texts, every=None):
    """Answer lines for each input text, from a loaded LiteModel, MicroModel or stream (with `every`, a streaming
    classifier's running prediction every `every` steps before its answer)."""
    lines = []
    for text in texts:
        cases = codecs.read_cases(model.metadata, text)
        if cases is not None:  # labelled data (a series file, a text CSV, a folder): accuracy and a confusion matrix
            outputs = [np.asarray(model.run(x[None]))[0] for x in cases[0]]
            lines += codecs.labelled_report(text, "cases", model.metadata["labels"], zip(cases[2], cases[1], outputs))
            continue
        x = codecs.encode(model.metadata, text)
        if every and hasattr(model, "steps") and not model.per_step:
            output = None
            for count, output in enumerate(model.steps(x), start=1):
                if count % every == 0:
                    lines.append(f"  after {count} steps: {codecs.describe(model.metadata, text, x, output)}")
            if output is None:
                raise UsageError("the input has no steps to stream")
        else:
            output = model.run(x)
        lines.append(codecs.describe(model.metadata, text, x, output))
    return lines


def model_file(path):
    """The .tflite to load: `path` itself, or the model.tflite inside an export folder."""
    if not os.path.isdir(path):
        return path
    inside = os.path.join(path, "model.tflite")
    if not os.path.isfile(inside):
        raise UsageError(f"{path!r} is a folder without a model.tflite; give the .tflite written by python -m export")
    return inside


def load(path, runtime, threads):
    """The model at `path` in `runtime` (auto: TFLM for a --target micro export, else LiteRT): a stream when its
    metadata says --streaming."""
    metadata = meta.read(os.path.dirname(os.path.abspath(path)))
    if runtime == "auto":
        runtime = "micro" if metadata.get("target") == "micro" else "litert"
    if metadata.get("streaming"):
        from export.streaming.runtime import open_stream  # the runtime loads only once the arguments are good
        return open_stream(path, runtime, threads)
    if runtime == "micro":
        from export.micro.runtime import MicroModel
        return MicroModel(path)
    from export.litert import LiteModel
    return LiteModel(path, num_threads=threads)


def main(argv=None):
    """CLI entry point: 0 on success, 2 on bad input (one line on stderr)."""
    parser = cli.Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                        allow_abbrev=False, negative_inputs=True)
    parser.add_argument("model", metavar="MODEL.tflite", help="a .tflite written by python -m export, or the folder "
                                                                "that holds it")
    parser.add_argument("inputs", metavar="INPUT", nargs="+", help="what to ask the model; - reads one input per "
                                                                    "line from standard input")
    parser.add_argument("--threads", type=cli.bounded_int(1, 64), default=1, metavar="N",
                        help="interpreter threads (1-64, default 1; litert only)")
    parser.add_argument("--runtime", choices=("auto", "litert", "micro"), default="auto",
                        help="LiteRT or the TensorFlow Lite Micro interpreter; default auto: TFLM for a --target micro "
                             "export, LiteRT for the others")
    parser.add_argument("--every", type=cli.bounded_int(1, 10**9), metavar="N",
                        help="a --streaming classifier: also print the running prediction every N steps")

    def body(argv):
        args = parser.parse_args(argv)
        model = load(model_file(args.model), args.runtime, args.threads)
        if args.every and not (model.metadata.get("streaming") and not model.per_step):
            raise UsageError("--every applies to a --streaming classifier (a per-step model answers every step)")
        for line in predict(model, cli.read_inputs(args.inputs, sys.stdin), args.every):
            print(line)
    return cli.run_main(PROG, body, argv)


if __name__ == "__main__":
    sys.exit(main())
