"""A multilayer perceptron written from scratch in NumPy: forward, backward, SGD with momentum.

It speaks enough of the Keras model API (`predict`, `evaluate`, `get_weights`, `stop_training`) for Keras'
callbacks to drive its training; the toy tasks' `--backend numpy` then hands its weights to the identical Keras
MLP, which the run folder saves and everything downstream uses.
"""
import keras
import numpy as np


class NumpyMLP:
    """ReLU hidden layers and a softmax output, trained with cross-entropy and mini-batch SGD."""

    def __init__(self, sizes, seed=0, dtype=np.float64):
        rng = np.random.default_rng(seed)
        self.sizes = tuple(int(s) for s in sizes)
        # Glorot-uniform weights and zero biases, as Keras' Dense starts.
        self.params = []
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            self.params += [rng.uniform(-limit, limit, (fan_in, fan_out)).astype(dtype), np.zeros(fan_out, dtype)]
        self.velocity = [np.zeros_like(p) for p in self.params]
        self.stop_training = False

    def forward(self, x):
        """Class probabilities and the activations the backward pass needs."""
        activations = [np.asarray(x, dtype=self.params[0].dtype)]
        for i in range(0, len(self.params), 2):
            z = activations[-1] @ self.params[i] + self.params[i + 1]
            activations.append(np.maximum(z, 0) if i + 2 < len(self.params) else _softmax(z))
        return activations[-1], activations

    def loss_and_gradients(self, x, y):
        """Mean cross-entropy of integer labels `y` and its gradient for every parameter."""
        loss, gradients, _ = self._backward(x, y)
        return loss, gradients

    def _backward(self, x, y):
        """Loss, gradients and the forward pass's probabilities, from one forward pass."""
        probabilities, activations = self.forward(x)
        n = len(y)
        loss = _cross_entropy_sum(probabilities, y) / n
        delta = probabilities.copy()
        delta[np.arange(n), y] -= 1
        delta /= n
        gradients = [None] * len(self.params)
        for i in range(len(self.params) - 2, -1, -2):
            gradients[i] = activations[i // 2].T @ delta
            gradients[i + 1] = delta.sum(axis=0)
            if i:
                delta = (delta @ self.params[i].T) * (activations[i // 2] > 0)
        return loss, gradients, probabilities

    def sgd_step(self, x, y, lr, momentum=0.0):
        """One update, `v = momentum·v − lr·g; w += v` (Keras' SGD rule).

        Returns the batch loss and the probabilities before the update (what Keras' accuracy sees).
        """
        loss, gradients, probabilities = self._backward(x, y)
        for param, velocity, gradient in zip(self.params, self.velocity, gradients):
            velocity *= momentum
            velocity -= lr * gradient
            param += velocity
        return loss, probabilities

    def fit(self, train_ds, val_ds, epochs, steps_per_epoch, lr, momentum, callbacks):
        """Mini-batch SGD over the tf.data pipeline, driving Keras callbacks (progress bar, CSV, NaN guard)."""
        callback_list = keras.callbacks.CallbackList(callbacks, add_history=True, add_progbar=True, model=self,
                                                     verbose=2, epochs=epochs, steps=steps_per_epoch)
        iterator = train_ds.as_numpy_iterator()
        callback_list.on_train_begin()
        logs = {}
        for epoch in range(epochs):
            callback_list.on_epoch_begin(epoch)
            losses, correct, seen = [], 0, 0
            for step in range(steps_per_epoch):
                x, y = next(iterator)
                loss, probabilities = self.sgd_step(x, y, lr, momentum)
                losses.append(loss)
                correct += int((probabilities.argmax(axis=1) == y).sum())
                seen += len(y)
                logs = {"loss": float(np.mean(losses)), "accuracy": correct / seen}
                logs["exact_match"] = logs["accuracy"]
                callback_list.on_train_batch_end(step, logs)
            logs.update({f"val_{k}": v for k, v in self.evaluate(val_ds, return_dict=True).items()})
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        callback_list.on_train_end(logs)
        return self.history.history

    def predict(self, x, verbose=0, batch_size=None):
        """Class probabilities (float32, like a Keras model's)."""
        return self.forward(x)[0].astype(np.float32)

    def evaluate(self, dataset, verbose=0, return_dict=True):
        """{loss, accuracy, exact_match} over a tf.data dataset of (x, y) batches."""
        total_loss, correct, seen = 0.0, 0, 0
        for x, y in dataset.as_numpy_iterator():
            probabilities = self.forward(x)[0]
            total_loss += _cross_entropy_sum(probabilities, y)
            correct += int((probabilities.argmax(axis=1) == y).sum())
            seen += len(y)
        return {"loss": total_loss / seen, "accuracy": correct / seen, "exact_match": correct / seen}

    def get_weights(self):
        """Copies of the parameters (Keras' get_weights)."""
        return [p.copy() for p in self.params]

    def set_weights(self, weights):
        """Replace the parameters (Keras' set_weights)."""
        self.params = [np.array(w, dtype=p.dtype) for w, p in zip(weights, self.params)]

    def save(self, path):
        """Weights to an .npz archive (arrays only: it loads with allow_pickle=False)."""
        with open(path, "wb") as handle:
            np.savez(handle, sizes=np.array(self.sizes), *self.params)

    @classmethod
    def load(cls, path):
        """A model saved by `save`."""
        with np.load(path, allow_pickle=False) as archive:
            model = cls(archive["sizes"])
            model.params = [archive[f"arr_{i}"] for i in range(len(model.params))]
        return model


def _cross_entropy_sum(probabilities, y):
    """Summed cross-entropy of integer labels (probabilities clipped away from 0)."""
    return -np.log(np.clip(probabilities[np.arange(len(y)), y], 1e-12, None)).sum()


def _softmax(z):
    """Row-wise softmax, shifted for stability."""
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
