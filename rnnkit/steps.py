"""The one training step shared by `model.fit`, the eager GradientTape loop and the tf.function loop."""
import tensorflow as tf


def train_step(model, batch):
    """One optimisation step on `batch` = (x, y): forward, loss (+ regularizers), gradients, update.

    Returns the logs dict of running metric values, exactly as `model.fit` reports them.
    """
    x, y = batch
    with tf.GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
    gradients = tape.gradient(loss, model.trainable_variables)
    model.optimizer.apply(gradients, model.trainable_variables)
    # Keras keeps the running mean of the loss in this tracker; fit's progress bar and History read it.
    model._loss_tracker.update_state(loss, sample_weight=tf.shape(x)[0])
    return model.compute_metrics(x, y, y_pred)
