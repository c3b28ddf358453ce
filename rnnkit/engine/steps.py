"""The one training step shared by `model.fit`, the eager GradientTape loop and the tf.function loop."""
import contextlib

import keras
import tensorflow as tf

from rnnkit.engine import keras_adapter


def train_step(model, batch):
    """One optimisation step on `batch` = (x, y) or (x, y, sample_weight): forward, loss, gradients, update.

    With `model.coupled_weight_decay` (`--coupled-weight-decay`), decay · θ is added to each gradient first.
    With `model.unroll_training` set (`--unroll`), the recurrent layers run unrolled here, so the traced training
    graph has no WHILE loop; evaluation, prediction and the saved model still loop over any length.
    Returns the logs dict of running metric values, exactly as `model.fit` reports them. Like Keras' own
    step, it works inside `strategy.run`: `compute_loss` divides by the replicas in sync, the tracker records
    the unscaled loss, the optimizer's loss scale (mixed precision) is applied and gradients are all-reduced.
    """
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(batch)
    with tf.GradientTape() as tape, unrolled(model, getattr(model, "unroll_training", False)):
        y_pred = model(x, training=True)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        keras_adapter.track_loss(model, loss * replicas, sample_weight=tf.shape(x)[0])
        scaled = model.optimizer.scale_loss(loss)
    gradients = tape.gradient(scaled, model.trainable_variables)
    decay = getattr(model, "coupled_weight_decay", 0.0)
    if decay:  # PyTorch's weight_decay: the L2 term's gradient, added before the optimizer sees the gradient
        gradients = [None if g is None else g + decay * tf.cast(v, g.dtype)
                     for g, v in zip(gradients, model.trainable_variables)]
    model.optimizer.apply(gradients, model.trainable_variables)
    return model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)


def build_step_state(model, element_spec):
    """Create the metric, loss and optimizer variables `train_step` needs, from the dataset's element spec.

    A tf.function whose first call creates variables is traced a second time (about 0.6 s for the adder's
    LSTM); `fit` builds this state symbolically before tracing, and the custom loops do the same through this.
    No batch is drawn, so the data stream stays that of `fit`.
    """
    keras_adapter.build_training_state(model, element_spec)
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


@contextlib.contextmanager
def unrolled(model, enabled=True):
    """Within the block, `model`'s recurrent layers (those inside Bidirectional too) unroll when called.

    Keras reads `unroll` when a layer is called, so a graph traced in the block has no WHILE loop; it needs a
    static time axis (training batches of one length). The layers' own setting is restored on exit.
    """
    if not enabled:
        yield
        return
    layers = recurrent_layers(model)
    saved = [layer.unroll for layer in layers]
    try:
        for layer in layers:
            layer.unroll = True
        yield
    finally:
        for layer, setting in zip(layers, saved):
            layer.unroll = setting


def recurrent_layers(model):
    """The recurrent layers of a Keras model, those inside Bidirectional wrappers included."""
    return [layer for layer in keras_adapter.nested_layers(model) if isinstance(layer, keras.layers.RNN)]
