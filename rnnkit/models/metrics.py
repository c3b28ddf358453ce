"""Metrics shared by the tasks: per-position accuracy comes from Keras, whole-answer exact match from here."""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="rnnkit")
class ExactMatch(keras.metrics.Mean):
    """Fraction of examples whose every position is right (for one-answer tasks: plain accuracy).

    `output` says how predictions are decoded: 'softmax' (argmax of the last axis) or 'sigmoid'
    (probability > 0.5, labels carry a trailing axis of 1).
    """

    def __init__(self, output="softmax", name="exact_match", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if output not in ("softmax", "sigmoid"):
            raise ValueError(f"output must be 'softmax' or 'sigmoid', got {output!r}")
        self.output = output

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulate one batch."""
        if self.output == "softmax":
            predicted = ops.argmax(y_pred, axis=-1)
        else:
            predicted = ops.cast(y_pred > 0.5, "int64")
        y_true = ops.reshape(ops.cast(y_true, "int64"), ops.shape(predicted))
        equal = ops.equal(predicted, y_true)
        if len(equal.shape) > 1:
            equal = ops.all(ops.reshape(equal, (ops.shape(equal)[0], -1)), axis=-1)
        return super().update_state(ops.cast(equal, self.dtype), sample_weight=sample_weight)

    def get_config(self):
        """Serializable arguments."""
        return {**super().get_config(), "output": self.output}


def classification_metrics(output="softmax"):
    """`accuracy` (per position) and `exact_match` (per example) for a softmax or sigmoid head."""
    if output == "softmax":
        accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    else:
        accuracy = keras.metrics.BinaryAccuracy(name="accuracy")
    return [accuracy, ExactMatch(output)]
