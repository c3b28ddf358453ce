"""`python -m rnnkit.predict RUN INPUT [INPUT ...]`: answer with a run folder's Keras model.

Same input syntax and output as `python -m export.predict` (the two share rnnkit/core/codecs.py): adder
`31415+27182`; binary_add `1011+110`; recall `3 5 8 6 8`; palindrome the digits before the hidden last one;
names and text a text; mnist and cifar10 an image file, or a folder of labelled images (accuracy and a confusion
matrix); moons / circles / classification `x,y`; series values split by `,`. Labelled data as the task trains on
it (a series file, a text CSV or <label>.txt folder, a names folder) gets its accuracy and a confusion matrix.
`-` reads inputs from stdin.
"""
import argparse
import os
import sys

import numpy as np

from rnnkit.core import cli, codecs
from rnnkit.core.errors import UsageError
from rnnkit.core.lazy import LazyModule
from rnnkit.core.metadata import metadata_for

# TensorFlow loads only once the arguments are parsed: --help and a mistyped flag answer in a moment.
run_folder = LazyModule("rnnkit.runs.run_folder")

PROG = "python -m rnnkit.predict"
IMAGE_FILES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def predict_lines(cfg, task, model, texts, run_dir=None):
    """One answer line per input text; a labelled file or folder of cases (series, names, text) or of images (image
    tasks) gets a summary instead. `run_dir`: the run folder, whose record of labels and input replaces the
    task's reading of the training data."""
    metadata = model_metadata(cfg, task, model, run_dir)
    lines = []
    for text in texts:
        cases = codecs.read_cases(metadata, text)
        if cases is not None:
            outputs = model.predict(cases[0].astype(np.dtype(model.inputs[0].dtype)), verbose=0, batch_size=256)
            lines += codecs.labelled_report(text, "cases", metadata["labels"], zip(cases[2], cases[1], outputs))
            continue
        if os.path.isdir(text):
            lines += codecs.labelled_report(text, "images", metadata["labels"], folder_cases(metadata, model, text))
            continue
        x = codecs.encode(metadata, text)
        output = model.predict(x.astype(np.dtype(model.inputs[0].dtype)), verbose=0)
        lines.append(codecs.describe(metadata, text, x, output))
    return lines


def model_metadata(cfg, task, model, run_dir=None):
    """The codec's view of a run's Keras model (what an export's metadata says of its .tflite)."""
    info = run_folder.codec_info(run_dir, cfg, task) if run_dir else None
    return metadata_for(task, cfg, model.inputs[0].shape, model.inputs[0].dtype, "model.keras", {}, info)


def run_folder_confusion(run_dir, folder):
    """(labels, confusion matrix) of the model in `run_dir` over a folder of labelled images."""
    cfg, task, model = run_folder.open_run(run_dir)
    metadata = model_metadata(cfg, task, model, run_dir)
    return metadata["labels"], codecs.confusion_of(metadata["labels"], folder_cases(metadata, model, folder))[0]


def labelled_images(folder, labels):
    """[(path, label)] of a folder's images: the label is the name of the subfolder a file is in (DIR/7/a.png),
    or for a file directly in DIR its name up to the first `_`, `-` or `.` (7_a.png)."""
    found = []
    for root, _, files in sorted(os.walk(folder)):
        for name in sorted(files):
            if os.path.splitext(name)[1].lower() not in IMAGE_FILES:
                continue
            if os.path.samefile(root, folder):
                label = name.replace("-", "_").replace(".", "_").split("_")[0]
            else:
                label = os.path.basename(root)
            if label not in labels:
                raise UsageError(f"{os.path.join(root, name)}: label {label!r} is not one of the model's classes "
                                 f"({', '.join(labels)})")
            found.append((os.path.join(root, name), label))
    if not found:
        raise UsageError(f"{folder!r} holds no image files ({', '.join(IMAGE_FILES)})")
    return found


def folder_cases(metadata, model, folder):
    """[(path relative to `folder`, true label, model output)] of a folder of labelled images."""
    if not codecs.codec_for(metadata).image:
        raise UsageError(f"{folder!r} is a folder: a folder of labelled images is read by image tasks only")
    files = labelled_images(folder, metadata["labels"])
    x = np.concatenate([codecs.encode(metadata, path) for path, _ in files])
    outputs = model.predict(x.astype(np.dtype(model.inputs[0].dtype)), verbose=0, batch_size=256)
    return [(os.path.relpath(path, folder), label, output) for (path, label), output in zip(files, outputs)]


def main(argv=None):
    """CLI entry point: 0 on success, 2 on bad input."""
    parser = cli.Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                        allow_abbrev=False, negative_inputs=True)
    parser.add_argument("run", metavar="RUN", help="a run folder written by python -m rnnkit.train")
    parser.add_argument("inputs", metavar="INPUT", nargs="+",
                        help="what to ask the model; - reads one input a line from stdin; an image task also takes "
                             "a folder of labelled images (DIR/<label>/file or DIR/<label>_file); series, text and "
                             "names labelled data as they train on it")

    def body(argv):
        args = parser.parse_args(argv)
        cfg, task, model = run_folder.open_run(args.run)
        for line in predict_lines(cfg, task, model, cli.read_inputs(args.inputs, sys.stdin), args.run):
            print(line)
    return cli.run_main(PROG, body, argv)


if __name__ == "__main__":
    sys.exit(main())
