"""Three training loops over one step function: `fit`, an eager GradientTape loop, and the same under tf.function."""
import sys

import keras
import tensorflow as tf

from rnnkit.core.config import CHOICES
from rnnkit.engine import distribute, keras_adapter, steps

LOOPS = CHOICES["loop"]


def train(model, train_ds, val_ds, loop, epochs, steps_per_epoch, callbacks, verbose=None, strategy=None):
    """Train `model` (compiled) for `epochs` × `steps_per_epoch` with the named loop; returns the History dict.

    val_ds: the validation pipeline, or None to train without validation figures.
    verbose: Keras' progress setting (None: a bar on a terminal, one line per epoch otherwise; 0: silent).
    strategy: a tf.distribute strategy the model was built under (fit handles it itself; the custom loops run
    the shared step on every replica).
    """
    verbose = _verbosity() if verbose is None else verbose
    if loop == "fit":
        history = model.fit(train_ds, validation_data=val_ds, epochs=epochs, steps_per_epoch=steps_per_epoch,
                            callbacks=callbacks, shuffle=False, verbose=verbose)
        return history.history
    return custom_loop(model, train_ds, val_ds, epochs, steps_per_epoch, callbacks, compiled=loop == "function",
                       verbose=verbose, strategy=strategy)


def custom_loop(model, train_ds, val_ds, epochs, steps_per_epoch, callbacks, compiled, verbose, strategy=None):
    """A hand-written epoch loop that drives the same Keras callbacks (progress bar, CSV, TensorBoard…)."""
    step = lambda batch: steps.train_step(model, batch)  # noqa: E731
    if strategy is not None:  # one step per replica; batch logs come from the aggregated metrics at epoch end
        step, train_ds = distribute.train_step_fn(model, strategy), strategy.experimental_distribute_dataset(train_ds)
    else:
        steps.build_step_state(model, train_ds.element_spec)
        step = tf.function(step, reduce_retracing=True) if compiled else step
    callback_list = keras.callbacks.CallbackList(callbacks, add_history=True, add_progbar=True, model=model,
                                                 verbose=verbose, epochs=epochs, steps=steps_per_epoch)
    iterator = iter(train_ds)  # like fit with steps_per_epoch: one iterator across epochs
    model.stop_training = False
    callback_list.on_train_begin()
    logs = {}
    for epoch in range(keras_adapter.restored_epoch(model), epochs):
        model.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        for index in range(steps_per_epoch):
            callback_list.on_train_batch_begin(index)
            logs = step(next(iterator))
            callback_list.on_train_batch_end(index, logs if strategy is None else {})
            if model.stop_training:
                break
        if strategy is None:
            logs = {name: float(value) for name, value in logs.items()}
            val_logs = {} if val_ds is None else model.evaluate(val_ds, verbose=0, return_dict=True)
        else:
            logs = distribute.metric_results(model)
            val_logs = {} if val_ds is None else distribute.evaluate(model, val_ds, strategy)
        logs.update({f"val_{name}": value for name, value in val_logs.items()})
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    return model.history.history


def _verbosity():
    """Keras progress bar per step on a terminal, one line per epoch in logs and CI."""
    return 1 if sys.stdout.isatty() else 2
