"""Measurements a report makes on a finished run's model, beyond the run's own metrics.json."""
import os

import numpy as np

from rnnkit.predict import run_folder_confusion
from rnnkit.tasks.digit_photos import write_digit_photos

HANDWRITING_PHOTOS = 300


def handwriting(run_dir, report_dir):
    """Accuracy and confusion matrix on photos of real handwritten digits from outside MNIST."""
    folder = os.path.join(report_dir, "handwriting-photos")
    if not os.path.isdir(folder):
        write_digit_photos(folder, HANDWRITING_PHOTOS, seed=0)
    labels, confusion = run_folder_confusion(run_dir, folder)
    return {"accuracy": float(np.trace(confusion) / confusion.sum()), "labels": list(labels),
            "confusion_matrix": confusion.tolist(), "images": int(confusion.sum())}


PROBES = {"handwriting": handwriting}


def run_probes(names, run_dir, report_dir):
    """{probe: result} for a finished run."""
    return {name: PROBES[name](run_dir, report_dir) for name in names}
