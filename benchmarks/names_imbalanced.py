"""Names on a tutorial-shaped, imbalanced folder: rnnkit (class weights none / balanced) against n-gram SVMs.

    python benchmarks/names_imbalanced.py [--seeds 0,1,2] [--folder DIR] [--out DIR]

Builds a folder of `<Language>.txt` files in the PyTorch tutorial's layout from the surname lists embedded in
Faker: the tutorial's line counts per language (Russian 9 408 … Vietnamese 73). Where Faker has fewer distinct
names than the tutorial has lines, lines repeat (duplicates within a language); Arabic is 2 000 lines drawn from
100 distinct names, and Scottish is 100 lines all taken from the English list (overlap across languages). Then,
on rnnkit's own split of that folder (`--source folder`, the task's defaults otherwise), it trains rnnkit with
`--class-weight none` and `balanced` for each seed, and fits a linear SVM on TF-IDF character 1-4-grams of
`^name$` with and without balanced class weights. Prints accuracy and balanced accuracy per run and the means.
"""
import argparse
import contextlib
import io
import itertools
import os
import statistics
import sys
import tempfile

import numpy as np

import rnnkit
from rnnkit.tasks import TASKS
from rnnkit.tasks.names import decode
from rnnkit.tasks.names_data import faker_surnames

TUTORIAL_LINES = {"Russian": 9408, "English": 3668, "Arabic": 2000, "Japanese": 991, "German": 724, "Italian": 709,
                  "Czech": 519, "Spanish": 298, "Dutch": 297, "French": 277, "Chinese": 268, "Irish": 232,
                  "Greek": 203, "Polish": 139, "Scottish": 100, "Korean": 94, "Portuguese": 74, "Vietnamese": 73}
ARABIC_DISTINCT = 100


def build_folder(folder, seed=0):
    """Write the tutorial-shaped folder; returns {language: lines written}."""
    rng = np.random.default_rng(seed)
    faker = {language: sorted({name for name in names if name}) for language, names in faker_surnames().items()}
    faker["Arabic"] = list(rng.choice(faker["Arabic"], ARABIC_DISTINCT, replace=False))
    written = {}
    for language, count in TUTORIAL_LINES.items():
        if language == "Scottish":
            lines = list(rng.choice(written["English"], count, replace=False))
        else:
            pool = faker[language]
            distinct = list(rng.permutation(pool)[: min(count, len(pool))])
            lines = distinct + list(rng.choice(pool, count - len(distinct)))  # repeats where Faker runs short
            lines = list(rng.permutation(lines))
        with open(os.path.join(folder, f"{language}.txt"), "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        written[language] = lines
    return {language: len(lines) for language, lines in written.items()}


def svm_scores(cfg, class_weight):
    """(accuracy, balanced accuracy) of a char 1-4-gram TF-IDF linear SVM on the task's own train / test split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import accuracy_score, balanced_accuracy_score
    from sklearn.svm import LinearSVC

    data = TASKS["names"].splits(cfg)
    text = lambda x: [f"^{decode(row)}$" for row in x]  # noqa: E731
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True)
    features = vectorizer.fit_transform(text(data.train[0]))
    svm = LinearSVC(C=1.0, class_weight=class_weight).fit(features, data.train[1])
    predicted = svm.predict(vectorizer.transform(text(data.test[0])))
    return accuracy_score(data.test[1], predicted), balanced_accuracy_score(data.test[1], predicted)


def main(argv=None):
    """Build the folder, train and fit everything, print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2", help="rnnkit seeds (comma-separated)")
    parser.add_argument("--folder", help="where to write the folder (default: a temporary one)")
    parser.add_argument("--out", help="where the run folders go (default: a temporary one)")
    parser.add_argument("--weights", default="none,balanced", help="--class-weight values to train")
    parser.add_argument("--tasks", default="names", help="rnnkit tasks to train on the folder: names (--source "
                                                         "folder), text (--data), or both")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    with contextlib.ExitStack() as stack:
        folder = args.folder or stack.enter_context(tempfile.TemporaryDirectory())
        out = args.out or stack.enter_context(tempfile.TemporaryDirectory())
        os.makedirs(folder, exist_ok=True)
        lines = build_folder(folder)
        print(f"folder {folder}: {sum(lines.values())} lines, " + ", ".join(f"{k} {v}" for k, v in lines.items()))
        base = rnnkit.configure("names", source="folder", data_dir=folder)
        rows = []
        for weight in ("balanced", None):
            accuracy, balanced = svm_scores(base, weight)
            rows.append((f"SVM char 1-4-grams, class_weight={weight}", "-", accuracy, balanced))
            print(f"{rows[-1][0]}: accuracy {accuracy:.4f}, balanced accuracy {balanced:.4f}", flush=True)
        for task, weight, seed in itertools.product(args.tasks.split(","), args.weights.split(","), seeds):
            data = dict(source="folder", data_dir=folder) if task == "names" else dict(data=folder)
            cfg = rnnkit.configure(task, **data, class_weight=weight, seed=seed, show_samples=0,
                                   out=os.path.join(out, f"{task}-{weight}-s{seed}"))
            with contextlib.redirect_stdout(io.StringIO()):
                metrics = rnnkit.train_and_evaluate(cfg)
            rows.append((f"rnnkit {task}, --class-weight {weight}", seed, metrics["test"]["accuracy"],
                         metrics["test"]["balanced_accuracy"]))
            print(f"{rows[-1][0]}, seed {seed}: accuracy {rows[-1][2]:.4f}, balanced accuracy {rows[-1][3]:.4f} "
                  f"({metrics['epochs_run']} epochs, {metrics['train_seconds']:.0f} s)", flush=True)
    print("\n| model | seed | accuracy | balanced accuracy |\n|---|---|---|---|")
    for name, seed, accuracy, balanced in rows:
        print(f"| {name} | {seed} | {100 * accuracy:.1f}% | {100 * balanced:.1f}% |")
    for task, weight in itertools.product(args.tasks.split(","), args.weights.split(",")):
        mine = [r for r in rows if r[0] == f"rnnkit {task}, --class-weight {weight}"]
        print(f"| rnnkit {task} --class-weight {weight}, mean of {len(mine)} seeds | | "
              f"{100 * statistics.mean(r[2] for r in mine):.1f}% | {100 * statistics.mean(r[3] for r in mine):.1f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
