"""Tasks over fixed data sets held in memory (MNIST, names, 2-D toy sets, CIFAR-10): results by class."""
import collections
import math
import os

import numpy as np

from rnnkit.core.errors import UsageError
from rnnkit.core.lazy import LazyModule
from rnnkit.core.options import Option
from rnnkit.engine.evaluate import evaluate, predict
from rnnkit.tasks.base import SoftmaxClassifier, Task, format_table, mark

tf = LazyModule("tensorflow")
sklearn_metrics = LazyModule("sklearn.metrics")
plots = LazyModule("rnnkit.runs.plots")
keras_metrics = LazyModule("rnnkit.models.metrics")
class_metrics = LazyModule("rnnkit.models.class_metrics")

Splits = collections.namedtuple("Splits", "train val test class_names source report", defaults=(None,))
MAX_LOADED = 4
_LOADED = {}  # (task, *DATA_FIELDS values) → Splits: loaders read files or build sets once per process
CLASS_WEIGHT = Option("class_weight", "none", "weigh training examples so every class counts alike (balanced: "
                      "n / (classes × n_class) per example)", kind="choice", choices=("none", "balanced"))


def layer_seeds(seed, count):
    """`count` distinct seeds for a run's random layers: Keras layers given one seed draw the same numbers, so
    a rotation and a shift seeded alike would move together."""
    return [seed * count + k for k in range(count)]


def augment_option(changes):
    """The image tasks' --augment / --no-augment, its help naming the task's own random `changes`."""
    return Option("augment", False, f"random changes to training images: {changes}", kind="bool",
                  negative="--no-augment")


def source_options(default, sources, data):
    """--source (one of `sources`, default `default`) and --data-dir (what `data` the folder holds)."""
    return (Option("source", default, "where the data comes from: " + ", ".join(sources), kind="choice",
                   choices=sources),
            Option("data_dir", None, f"where --source {'/'.join(s for s in sources if s != 'embedded')} data lives "
                   f"({data})", kind="path", metavar="DIR"))


def checked(data):
    """`data` if a classifier can learn and be tested on it: two classes or more, training and test cases."""
    if len(data.class_names) < 2:
        raise UsageError(f"{data.source}: one class only ({data.class_names[0] if data.class_names else 'none'}); "
                         "a classifier needs two or more")
    for split in ("train", "test"):
        if not len(getattr(data, split)[1]):
            raise UsageError(f"{data.source}: too few cases for a {split} split; give each class more")
    return data


class ArrayTask(SoftmaxClassifier, Task):
    """A classification task whose data are `(x, y)` arrays for train / val / test, loaded once per config.

    Subclasses implement `load_splits(cfg) -> Splits` and `build_model`, and may override
    `preprocess(cfg, training)` (a function applied to batches in the tf.data pipeline) and `show`.
    """

    EVAL_BATCH = 256
    options = (CLASS_WEIGHT,)
    unread = dict.fromkeys(("val_samples", "test_samples"), "validates and tests on its data's own splits")
    DATA_FIELDS = ("source", "data_dir")  # the options `load_splits` reads

    def splits(self, cfg):
        """The loaded data for `cfg`, cached on DATA_FIELDS alone (a new --lr or --units reuses the data)."""
        key = (self.name, *(cfg.options.get(field) for field in self.DATA_FIELDS))
        if key not in _LOADED:
            if len(_LOADED) >= MAX_LOADED:
                del _LOADED[next(iter(_LOADED))]  # the oldest
            _LOADED[key] = checked(self.load_splits(cfg))
            self.announce(cfg, _LOADED[key])
        return _LOADED[key]

    def announce(self, cfg, data):
        """Print what a user should know about freshly loaded data (once a load: thin classes, cut inputs)."""

    def load_data(self, cfg):
        """Load (and cache) the splits now."""
        self.splits(cfg)

    def load_splits(self, cfg):
        """Read or build the data set: a `Splits` of (x, y) arrays and the class names."""
        raise NotImplementedError

    def epoch_steps(self, cfg):
        """--steps-per-epoch if given, else one pass over the training set."""
        return cfg.steps_per_epoch or math.ceil(len(self.splits(cfg).train[1]) / cfg.batch_size)

    def preprocess(self, cfg, training):
        """A function on (x, y) batches run inside the pipeline (e.g. augmentation), or None."""
        return None

    objectives = ("accuracy", "balanced_accuracy")

    def metrics(self, cfg):
        """Accuracy, exact match and balanced accuracy (mean recall over classes, as scikit-learn computes it)."""
        balanced = class_metrics.BalancedAccuracy(len(self.splits(cfg).class_names))
        return [*keras_metrics.classification_metrics("softmax"), balanced]

    def build_inputs(self, cfg, split):
        """cache → shuffle → repeat → batch → (augment) → prefetch for training; batch → cache for evaluation;
        None for a validation split that holds no examples.

        With `--class-weight balanced` training batches are (x, y, weight): every loop, the tuner and a
        distributed run then weigh the loss per example alike.
        """
        x, y = getattr(self.splits(cfg), split)
        if split == "val" and not len(y):
            return None
        if split == "train" and cfg.class_weight == "balanced":
            ds = tf.data.Dataset.from_tensor_slices((x, y, balanced_weights(y)))
        else:
            ds = tf.data.Dataset.from_tensor_slices((x, y))
        if split == "train":
            ds = ds.cache().shuffle(len(x), seed=cfg.seed, reshuffle_each_iteration=True).repeat()
            ds = ds.batch(cfg.batch_size, drop_remainder=len(x) >= cfg.batch_size)
        else:
            ds = ds.batch(self.EVAL_BATCH).cache()
        transform = self.preprocess(cfg, training=split == "train")
        if transform is not None:
            ds = ds.map(lambda x, y, *w: (*transform(x, y), *w), num_parallel_calls=tf.data.AUTOTUNE,
                        deterministic=True)
        return ds.prefetch(tf.data.AUTOTUNE)

    def show(self, cfg, x):
        """The input of one example as text."""
        return f"{np.asarray(x).tolist()}"

    def render(self, cfg, x, y_true, y_pred):
        """`<input> → predicted ✓`."""
        names = self.splits(cfg).class_names
        return f"{self.show(cfg, x)} → {names[int(y_pred)]} {mark(int(y_pred) == int(y_true), names[int(y_true)])}"

    def predict(self, model, cfg, x):
        """Class probabilities of the Keras `model` for inputs `x`."""
        transform = self.preprocess(cfg, training=False)
        if transform is not None:
            x = transform(tf.constant(x), None)[0].numpy()
        return predict(model, x, self.EVAL_BATCH)

    def evaluate(self, model, cfg):
        """Test loss / accuracy / balanced accuracy / macro F1, per-class figures, class counts, confusion matrix.

        A class with no test examples reports null (and "no test examples"), never 0.0.
        """
        data = self.splits(cfg)
        x, y = data.test
        test = evaluate(model, self.build_inputs(cfg, "test"))
        predicted = self.decode(cfg, self.predict(model, cfg, x))
        classes = len(data.class_names)
        confusion = sklearn_metrics.confusion_matrix(y, predicted, labels=np.arange(classes))
        report = class_metrics.class_report(y, predicted, data.class_names)
        test.update(balanced_accuracy=report["balanced_accuracy"], macro_f1=report["macro_f1"])
        counts = {split: {name: int(n) for name, n in zip(data.class_names,
                                                           np.bincount(getattr(data, split)[1], minlength=classes))}
                  for split in ("train", "val", "test")}
        results = {"test": test, "per_class": report["per_class"],
                   "per_class_accuracy": {name: row["recall"] for name, row in report["per_class"].items()},
                   "class_counts": counts, "source": data.source, "confusion_matrix": confusion.tolist()}
        if data.report is not None:
            results["data"] = data.report
        return results

    def sample_lines(self, model, cfg):
        """Random test examples with the model's answers."""
        if cfg.show_samples <= 0:
            return []
        x, y, predicted = self.random_test_predictions(model, cfg, cfg.show_samples)
        return [self.render(cfg, *example) for example in zip(x, y, predicted)]

    def held_out(self, cfg, n):
        """`n` test examples drawn at random with --seed."""
        x, y = self.splits(cfg).test
        index = np.random.default_rng(cfg.seed).choice(len(x), min(n, len(x)), replace=False)
        return x[index], y[index]

    def class_labels(self, cfg):
        """The data set's class names."""
        return self.splits(cfg).class_names

    def random_test_predictions(self, model, cfg, count):
        """(x, y, predicted) for `count` test examples drawn at random with --seed."""
        x, y = self.held_out(cfg, count)
        return x, y, self.decode(cfg, self.predict(model, cfg, x))

    def write_plots(self, model, cfg, results, run_dir):
        """The normalised confusion matrix."""
        plots.plot_confusion(np.array(results["confusion_matrix"]), self.splits(cfg).class_names,
                             os.path.join(run_dir, "confusion_matrix.png"), f"{self.name}: confusion (test)")

    def write_image_grid(self, model, cfg, path, title, count, columns):
        """A grid of random test images captioned `predicted ✓` or `predicted ✗ (true …)`."""
        x, y, predicted = self.random_test_predictions(model, cfg, count)
        names = self.splits(cfg).class_names
        titles = [f"{names[p]} {mark(p == t, names[t])}" for p, t in zip(predicted, y)]
        plots.plot_image_grid(x, titles, path, title, columns=columns)

    def results_table(self, results):
        """The test row, balanced accuracy and macro F1, then one row per class (largest support first)."""
        test = results["test"]
        return (format_table([("test", test)]) + f"\nbalanced accuracy {test['balanced_accuracy']:.4f}   "
                f"macro F1 {test['macro_f1']:.4f}\n\n" + class_metrics.per_class_table(results))


def balanced_weights(y):
    """Per-example weights n / (classes × n_class) (scikit-learn's 'balanced'), over the classes present in `y`."""
    from sklearn.utils.class_weight import compute_class_weight

    classes = np.unique(y)
    weights = dict(zip(classes, compute_class_weight("balanced", classes=classes, y=y)))
    return np.array([weights[label] for label in y], dtype=np.float32)


def stratified_split(y, fraction, seed, groups=None):
    """Indices (kept, taken) where `taken` holds `fraction` of every class, chosen at random.

    With `groups` (one key per row), rows that share a key land on the same side: each group is drawn as one
    item of its rarest label, so a name listed under two languages is never trained on under one and tested
    under the other. Groups of one row give exactly the ungrouped split.
    """
    if groups is not None:
        labels, members = group_labels(y, groups)
        kept, taken = stratified_split(labels, fraction, seed)
        return group_rows(members, kept), group_rows(members, taken)
    rng = np.random.default_rng(seed)
    taken = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        rng.shuffle(members)
        share = int(round(fraction * len(members)))
        taken.extend(members[: max(share, 1) if len(members) > 1 else share])
    taken = np.sort(np.array(taken, dtype=np.int64))
    kept = np.setdiff1d(np.arange(len(y)), taken)
    return kept, taken


def group_labels(y, groups):
    """(label per group, row indices per group) in order of first appearance, each group under its rarest class.

    A tie between classes of equal size goes to the group's first row.
    """
    counts = np.bincount(y) if len(y) else np.zeros(0, np.int64)
    index, labels, members = {}, [], []
    for row, (label, key) in enumerate(zip(y, groups)):
        g = index.setdefault(key, len(index))
        if g == len(labels):
            labels.append(label)
            members.append([row])
        else:
            members[g].append(row)
            if counts[label] < counts[labels[g]]:
                labels[g] = label
    return np.array(labels, dtype=np.asarray(y).dtype), members


def group_rows(members, chosen):
    """The sorted row indices of the groups `chosen` (`members`: row indices per group)."""
    return np.sort(np.array([row for group in chosen for row in members[group]], dtype=np.int64))
