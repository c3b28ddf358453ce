"""Test accuracy of alternative `names` models on the task's embedded split (the README's "what else was tried").

    python benchmarks/names_variants.py --cell gru --char-dropout 0.2 --dropout 0.2 --head-dropout 0.3 [--seed 1]
    python benchmarks/names_variants.py --cell lstm --char-dropout 0.3 --recurrent-dropout 0.2 --head-dropout 0.5
    python benchmarks/names_variants.py --ngrams 2,3,4 [--no-rnn]        # + masked max-pooled Conv1D n-grams
    python benchmarks/names_variants.py --cell gru ... --label-smoothing 0.1 | --lowercase | --units 256
    python benchmarks/names_variants.py --bag 1,2,3,4 [--ngram-dropout 0.2] [--patience 10]   # + hashed n-gram bag
    python benchmarks/names_variants.py --svm                            # linear SVM on character n-grams

Every model: masked character Embedding → (spatial dropout) → bidirectional RNN (last state) [⊕ n-gram features]
→ (dropout) → softmax, Adam with the task's plateau schedule, 40 epochs at batch 256, and the weights of the best
validation epoch restored before the test (or, with --patience, the task's early stopping on the validation
loss). Prints one line.
"""
import argparse
import time

import keras
from keras import ops
import numpy as np

import rnnkit  # noqa: F401  (quiet TensorFlow import)
from rnnkit.core.config import make_config
from rnnkit.models.builders import RnnkitModel, build_optimizer
from rnnkit.models.layers import HashedNgramBag
from rnnkit.tasks import TASKS
from rnnkit.tasks import names as names_task
from rnnkit.tasks.names import decode
from rnnkit.tasks.names_data import ALLOWED
from rnnkit.training import plateau_callback, schedule_callbacks


class MaskedNgramFeatures(keras.layers.Layer):
    """Conv1D n-gram detectors over the unpadded characters, max-pooled over each name's own length."""

    def __init__(self, filters, widths, **kwargs):
        super().__init__(**kwargs)
        self.convs = [keras.layers.Conv1D(filters, w, padding="same", activation="relu") for w in widths]
        self.supports_masking = True

    def call(self, x, mask=None):
        """Zero the padding (so windows see it as the edge), then take the max over real positions."""
        valid = ops.cast(mask, x.dtype)[..., None]
        x = x * valid
        return ops.concatenate([ops.max(ops.where(valid > 0, conv(x), -1e9), axis=1) for conv in self.convs], -1)

    def compute_mask(self, x, mask=None):
        """Pooled features carry no time axis, so no mask."""
        return None


def build(args, num_classes):
    """The variant's Keras model."""
    tokens = keras.Input((None,), dtype="int32")
    if args.members > 1:  # a jointly trained ensemble: the members' probabilities averaged
        member_args = argparse.Namespace(**{**vars(args), "members": 1})
        members = [build(member_args, num_classes)(tokens) for _ in range(args.members)]
        return RnnkitModel(tokens, keras.layers.Average()(members))
    x = keras.layers.Embedding(len(ALLOWED) + 1, 32, mask_zero=True)(tokens)
    if args.char_dropout:
        x = keras.layers.SpatialDropout1D(args.char_dropout)(x)
    features = []
    if args.bag:
        bag_tokens = tokens
        if args.bag_lowercase:  # tokens 27..52 are A..Z: fold them onto a..z (1..26) for the bag only
            bag_tokens = keras.layers.Lambda(lambda t: ops.where((t > 26) & (t < 53), t - 26, t))(tokens)
        bag = HashedNgramBag(len(ALLOWED) + 1, [int(n) for n in args.bag.split(",")], args.bag_dim,
                             args.bag_buckets, dropout=args.ngram_dropout)(bag_tokens)
        features.append(keras.layers.Dropout(args.bag_dropout)(bag) if args.bag_dropout else bag)
    if args.ngrams:
        features.append(MaskedNgramFeatures(96, [int(w) for w in args.ngrams.split(",")])(x))
    if not args.no_rnn:
        cell = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[args.cell]
        features.append(keras.layers.Bidirectional(cell(args.units, dropout=args.dropout,
                                                        recurrent_dropout=args.recurrent_dropout))(x))
    h = keras.layers.Concatenate()(features) if len(features) > 1 else features[0]
    if args.head_dropout:
        h = keras.layers.Dropout(args.head_dropout)(h)
    return RnnkitModel(tokens, keras.layers.Dense(num_classes, activation="softmax")(h))


def smoothed(eps):
    """Cross-entropy against labels smoothed by `eps` (spread evenly), for integer labels and softmax outputs."""
    def loss(y_true, y_pred):
        log_p = ops.log(ops.clip(y_pred, 1e-7, 1.0))
        return (1 - eps) * keras.losses.sparse_categorical_crossentropy(y_true, y_pred) - eps * ops.mean(log_p, -1)
    return loss


def svm_accuracy(splits):
    """Test accuracy of a linear SVM on TF-IDF character 1-4-grams of the lower-cased, delimited names."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    text = lambda x: ["^" + decode(row).lower() + "$" for row in x]  # noqa: E731
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True)
    model = LinearSVC(C=1.0).fit(vectorizer.fit_transform(text(splits.train[0])), splits.train[1])
    score = lambda split: float((model.predict(vectorizer.transform(text(split[0]))) == split[1]).mean())  # noqa
    return score(splits.val), score(splits.test)


def main():
    """Train the variant and print its best validation and test accuracy."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cell", choices=("lstm", "gru"), default="lstm")
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--char-dropout", type=float, default=0.0)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--recurrent-dropout", type=float, default=0.0)
    parser.add_argument("--head-dropout", type=float, default=0.0)
    parser.add_argument("--ngrams", default="", help="Conv1D widths, e.g. 2,3,4")
    parser.add_argument("--no-rnn", action="store_true", help="n-gram features only")
    parser.add_argument("--bag", default="", help="hashed n-gram bag orders, e.g. 1,2,3,4")
    parser.add_argument("--bag-dim", type=int, default=64)
    parser.add_argument("--bag-dropout", type=float, default=0.0, help="dropout on the bag's vector")
    parser.add_argument("--bag-lowercase", action="store_true", help="case-fold the bag's n-grams")
    parser.add_argument("--ngram-dropout", type=float, default=0.0, help="drop n-gram occurrences in training")
    parser.add_argument("--bag-buckets", type=int, default=16381, help="hash buckets per n-gram order")
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    parser.add_argument("--lowercase", action="store_true", help="fold the names to lower case first")
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--weight-decay", type=float, default=0.0, help="Adam's decoupled weight decay")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--patience", type=int, default=0,
                        help="early stopping on val loss as `rnnkit.train` does (default: best val accuracy of all)")
    parser.add_argument("--members", type=int, default=1, help="average this many jointly trained copies")
    parser.add_argument("--save-probs", metavar="NPZ", help="also save the test probabilities and labels")
    parser.add_argument("--svm", action="store_true", help="the scikit-learn baseline instead of a network")
    args = parser.parse_args()
    task = TASKS["names"]
    if args.lowercase:
        cased = names_task.encode
        names_task.encode = lambda names, width=None: cased([name.lower() for name in names], width)
    cfg = make_config(task, dict(lr=args.lr, lr_schedule="plateau", weight_decay=args.weight_decay))
    splits = task.splits(cfg)
    if args.svm:
        val, test = svm_accuracy(splits)
        print(f"svm char 1-4-grams: val {val:.4f} test {test:.4f}")
        return
    keras.utils.set_random_seed(args.seed)
    model = build(args, len(splits.class_names))
    loss = smoothed(args.label_smoothing) if args.label_smoothing else task.loss(cfg)
    model.compile(optimizer=build_optimizer(cfg), loss=loss, metrics=task.metrics(cfg))
    callbacks = [plateau_callback(cfg, verbose=0),
                 keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=args.epochs,
                                               restore_best_weights=True)]
    if args.patience:  # the task's own protocol: stop on the validation loss, keep that epoch
        callbacks = schedule_callbacks(cfg.replace(patience=args.patience), verbose=0)
    start = time.perf_counter()
    history = model.fit(task.build_inputs(cfg, "train"), validation_data=task.build_inputs(cfg, "val"),
                        epochs=args.epochs, steps_per_epoch=task.epoch_steps(cfg), callbacks=callbacks, verbose=0)
    val = history.history["val_accuracy"]
    test = model.evaluate(task.build_inputs(cfg, "test"), verbose=0, return_dict=True)["accuracy"]
    if args.save_probs:  # for averaging several runs' answers afterwards
        x, y = map(np.concatenate, zip(*[(a.numpy(), b.numpy()) for a, b in task.build_inputs(cfg, "test")]))
        np.savez(args.save_probs, probs=model.predict(x, verbose=0), labels=y)
    print(f"{vars(args)}: best val {max(val):.4f} (epoch {int(np.argmax(val)) + 1}), test {test:.4f}, "
          f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
