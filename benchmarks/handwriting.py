"""MNIST models on handwriting from outside MNIST: per seed, the embedded test accuracy, the accuracy on photos of
scikit-learn's UCI digits (43 writers, drawn as dark ink on light paper, off-centre) and the training time.

    python benchmarks/handwriting.py --seeds 0-4                      # the bare `rnnkit train --task mnist`
    python benchmarks/handwriting.py --seeds 0-4 -- --no-augment      # any rnnkit.train flags after --
"""
import os
import tempfile

import numpy as np
from stress_seeds import run_seed, seeds_and_flags  # the sibling script: one seed's run and its command line

from rnnkit.predict import run_folder_confusion
from rnnkit.tasks.digit_photos import write_digit_photos

PHOTOS = 300


def photo_accuracy(run_dir, photos):
    """The run's accuracy on the folder of labelled photos."""
    _, confusion = run_folder_confusion(run_dir, photos)
    return float(np.trace(confusion) / confusion.sum())


def main():
    """Parse `--seeds A-B [-- FLAGS]`, train each seed, print one line each and the range."""
    seeds, flags = seeds_and_flags(__doc__)
    flags = ["--task", "mnist", *flags]
    print("flags:", " ".join(flags))
    rows = []
    with tempfile.TemporaryDirectory(prefix="rnnkit-handwriting-") as folder:
        photos = os.path.join(folder, "photos")
        write_digit_photos(photos, PHOTOS, seed=0)
        for seed in seeds:
            metrics = run_seed(flags, seed, folder)
            out = os.path.join(folder, f"seed-{seed}")
            rows.append((metrics["test"]["accuracy"], photo_accuracy(out, photos), metrics["train_seconds"]))
            print(f"seed {seed}: embedded test {rows[-1][0]:.4f}  photos {rows[-1][1]:.4f}  "
                  f"train {rows[-1][2]:.1f} s", flush=True)
    columns = list(zip(*rows))
    print("range: test {:.4f}–{:.4f}, photos {:.4f}–{:.4f}, train {:.1f}–{:.1f} s".format(
        min(columns[0]), max(columns[0]), min(columns[1]), max(columns[1]), min(columns[2]), max(columns[2])))


if __name__ == "__main__":
    main()
