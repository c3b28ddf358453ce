"""Per-class figures for imbalanced classification: scikit-learn's scores, and a streaming Keras balanced accuracy."""
import warnings

import keras
from keras import ops
import numpy as np
from sklearn.metrics import balanced_accuracy_score, f1_score, precision_recall_fscore_support

NO_TEST_EXAMPLES = "no test examples"


def class_report(y_true, y_pred, class_names):
    """Balanced accuracy, macro F1 and per-class precision / recall / F1 / support, as scikit-learn computes them.

    A class with no test examples gets `None` for its scores and a note, never 0.0. Balanced accuracy is the
    mean recall over the classes that have test examples; macro F1 averages F1 over every class that occurs in
    `y_true` or `y_pred` (scikit-learn's defaults for both).
    """
    y_true, y_pred = np.asarray(y_true).astype(np.int64), np.asarray(y_pred).astype(np.int64)
    labels = np.arange(len(class_names))
    with warnings.catch_warnings():  # "y_pred contains classes not in y_true": a class absent from test
        warnings.simplefilter("ignore")
        precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                                         zero_division=0)
        balanced = balanced_accuracy_score(y_true, y_pred)
        macro_f1 = f1_score(y_true, y_pred, average="macro", zero_division=0)
    per_class = {}
    for i, name in enumerate(class_names):
        if support[i] == 0:
            per_class[name] = {"precision": None, "recall": None, "f1": None, "support": 0,
                               "note": NO_TEST_EXAMPLES}
        else:
            per_class[name] = {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                               "support": int(support[i])}
    return {"balanced_accuracy": float(balanced), "macro_f1": float(macro_f1), "per_class": per_class}


def per_class_table(report):
    """The per-class rows of `report`, largest support first, as a fixed-width table."""
    lines = [f"{'class':<16}{'support':>9}{'precision':>11}{'recall':>9}{'f1':>9}"]
    rows = sorted(report["per_class"].items(), key=lambda item: (-item[1]["support"], item[0]))
    for name, row in rows:
        if row["support"] == 0:
            lines.append(f"{name[:15]:<16}{0:>9}  {NO_TEST_EXAMPLES}")
        else:
            lines.append(f"{name[:15]:<16}{row['support']:>9}{row['precision']:>11.4f}{row['recall']:>9.4f}"
                         f"{row['f1']:>9.4f}")
    return "\n".join(lines)


@keras.saving.register_keras_serializable(package="rnnkit")
class BalancedAccuracy(keras.metrics.Metric):
    """Mean recall over the classes seen in `y_true`, accumulated over batches (a softmax head's argmax).

    Equals scikit-learn's `balanced_accuracy_score` on the same predictions; `val_balanced_accuracy` is what
    `tuning.search --objective balanced_accuracy` maximises.
    """

    def __init__(self, num_classes, name="balanced_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.num_classes = int(num_classes)
        self.confusion = self.add_variable(shape=(self.num_classes, self.num_classes), initializer="zeros",
                                           name="confusion")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Count one batch's (true, predicted) pairs (sample weights are ignored: the score is per class)."""
        predicted = ops.argmax(y_pred, axis=-1)
        y_true = ops.reshape(ops.cast(y_true, "int64"), ops.shape(predicted))
        pairs = y_true * self.num_classes + ops.cast(predicted, "int64")
        counts = ops.bincount(ops.reshape(pairs, (-1,)), minlength=self.num_classes ** 2)
        self.confusion.assign_add(ops.cast(ops.reshape(counts, (self.num_classes, self.num_classes)), self.dtype))

    def result(self):
        """Mean over classes with support of (correct / support)."""
        support = ops.sum(self.confusion, axis=1)
        recall = ops.divide_no_nan(ops.diagonal(self.confusion), support)
        present = ops.cast(support > 0, self.dtype)
        return ops.divide_no_nan(ops.sum(recall * present), ops.sum(present))

    def reset_state(self):
        """Zero the confusion counts."""
        self.confusion.assign(ops.zeros_like(self.confusion))

    def get_config(self):
        """Serializable arguments."""
        return {**super().get_config(), "num_classes": self.num_classes}
