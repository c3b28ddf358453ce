"""The few Keras 3 internals rnnkit relies on, each in one place with why (setup.py pins the tested range)."""


def track_loss(model, loss, sample_weight):
    """Add `loss` to the running mean that `fit`'s progress bar and History report as `loss`.

    Why: a custom step that calls `model.compute_loss` must feed Keras' loss tracker itself, as Keras' own
    `train_step` does; Keras 3 has no public call for it.
    """
    model._loss_tracker.update_state(loss, sample_weight=sample_weight)


def build_training_state(model, element_spec):
    """Create the model's metric and loss-tracker variables from a dataset's element spec, drawing no batch.

    Why: `fit` does this (`_symbolic_build`) before it traces its step; a custom tf.function loop whose first
    call creates those variables would be traced twice (about 0.6 s for the adder's LSTM).
    """
    model._symbolic_build(data_batch=element_spec)


def nested_layers(model):
    """Every layer inside `model`, those wrapped by Bidirectional (and nested models) included.

    Why: `Model.layers` lists only the top level, and Bidirectional keeps its two RNNs as attributes.
    """
    return list(model._flatten_layers(include_self=False))


def restored_epoch(model):
    """The epoch a `BackupAndRestore` callback restored in `on_train_begin` (0 when nothing was restored).

    Why: the callback tells `fit` where to resume only through `model._initial_epoch`; the custom loops read
    the same attribute so a resumed run continues at the same epoch.
    """
    return getattr(model, "_initial_epoch", None) or 0


class SequenceLoop:
    """Mixin for a subclass of a Keras recurrent layer that replaces how it runs over the time axis.

    Why: Keras 3's LSTM, GRU and SimpleRNN `call` hand the time loop to `inner_loop(sequences, initial_state,
    mask, training)` and use its (last output, outputs, states); the method is not public API. Subclasses
    implement `run_sequence` with the same arguments and results, and only this adapter names Keras' method.
    """

    def inner_loop(self, sequences, initial_state, mask, training=False):
        """Keras' hook, handed to `run_sequence`."""
        return self.run_sequence(sequences, initial_state, mask, training)

    def run_sequence(self, sequences, initial_state, mask, training=False):
        """(last output, outputs, states) over `sequences`."""
        raise NotImplementedError

