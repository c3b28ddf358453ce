"""Seed 001: a surname's language with the PyTorch tutorial's LSTM — 1 or 2 layers of 64 / 128 / 256, 100 000
single-name iterations — and the batch 10 / 30 runs that collapsed to one class."""
from tuning.seeds.spec import Claim, Experiment, Figure, SeedReport, all_reach, beats, pct, stays_below

# The tutorial's set-up: one name per step, plain SGD at 0.01, no clipping, no schedule; rnnkit's extras off
# (n-gram bag, second direction, plateau schedule, early stopping).
SEED = dict(cell="lstm", bidirectional=False, ngrams=(), optimizer="sgd", lr=0.01, momentum=0.0, clipnorm=None,
            lr_schedule="none", patience=0, batch_size=1, epochs=100, steps_per_epoch=1000, log_every=1000)
QUICK = dict(epochs=6, steps_per_epoch=500, log_every=500)
SIZES = (64, 128, 256)
FOLDER = {"source": "folder"}


def _names(layers, units, batch=1):
    name = f"names-{layers}x{units}" + (f"-batch{batch}" if batch != 1 else "")
    return Experiment(name, "names", dict(SEED, units=(units,) * layers, batch_size=batch), QUICK, data=FOLDER)


ONE_LAYER = tuple(f"names-1x{u}" for u in SIZES)
TWO_LAYERS = tuple(f"names-2x{u}" for u in SIZES)
EXPERIMENTS = (
    *(_names(layers, units) for layers in (1, 2) for units in SIZES),
    _names(1, 64, 10), _names(1, 64, 30),
    Experiment("rnnkit-default", "names", {}, dict(epochs=8), data=FOLDER, default=True),
)


def _size_matters_little(runs):
    values = [runs.test(name) for name in ONE_LAYER]
    return max(values) - min(values) <= 0.02, ", ".join(pct(v) for v in values)


def _batches_collapse(runs):
    one, ten, thirty = (runs.test(n) for n in ("names-1x64", "names-1x64-batch10", "names-1x64-batch30"))
    return max(ten, thirty) < one - 0.2, f"batch 1 {pct(one)}, batch 10 {pct(ten)}, batch 30 {pct(thirty)}"


def _default(runs):
    return f"{pct(runs.test('rnnkit-default'))}"


DEFAULT_WHY = ("rnnkit's names model adds a second direction, a bag of character n-grams and Adam with a "
               "plateau schedule")
CLAIMS = (
    Claim("One-layer LSTMs reach about 66% at every size", "67.1% (64), 66.2% (128), 66.1% (256)", ONE_LAYER,
          "each one-layer test accuracy ≥ 66% − 3 pts", all_reach(ONE_LAYER, 0.66, 0.03),
          default=("rnnkit-default", _default, DEFAULT_WHY)),
    Claim("Two-layer LSTMs do worse than one layer after the same iterations", "58.8%, 55.2%, 55.6% against "
          "about 66%", ONE_LAYER + TWO_LAYERS, "mean one-layer test accuracy above mean two-layer by > 1 pt",
          beats(ONE_LAYER, TWO_LAYERS, 0.01)),
    Claim("At one layer the size (64, 128, 256) matters little", "spread 1.0 pt", ONE_LAYER,
          "one-layer test accuracies within 2 pts of each other", _size_matters_little),
    Claim("The batch 10 run collapses towards one class", "20.1%", ("names-1x64-batch10",),
          "test accuracy below 20.1% + 10 pts", stays_below("names-1x64-batch10", 0.301)),
    Claim("The batch 30 run collapses towards one class", "11.0%", ("names-1x64-batch30",),
          "test accuracy below 11.0% + 10 pts", stays_below("names-1x64-batch30", 0.21)),
    Claim("Batches of 10 and 30 train far worse than one name at a time", "20.1% and 11.0% against 67.1%",
          ("names-1x64", "names-1x64-batch10", "names-1x64-batch30"),
          "both batched runs more than 20 pts below batch 1", _batches_collapse),
)

FIGURES = (
    Figure("One layer: train and test curves", "curves", ONE_LAYER),
    Figure("Two layers: train and test curves", "curves", TWO_LAYERS),
    Figure("Batch 1, 10, 30 (one layer of 64)", "curves", ("names-1x64", "names-1x64-batch10", "names-1x64-batch30")),
    Figure("Confusion matrices", "confusion", ONE_LAYER + TWO_LAYERS + ("names-1x64-batch10", "names-1x64-batch30")),
)

NOTES = (
    "**Batching.** A batched recurrent classifier trains like one name at a time when the padded steps are "
    "masked (or the batch packed) so that every name's state stops at its own last letter, and the loss is the "
    "mean of each name's own loss; rnnkit's names model pads with a reserved index that its Embedding masks, "
    "and Keras averages the per-name losses. The seed's runs, where only the first name of a batch was right, "
    "look like a state or label taken from the wrong positions, not a limit of batching.",
)

REPORT = SeedReport(
    name="seed-001", title="Surname → language with the PyTorch tutorial's LSTM",
    source="001_c0ec6d0f12219964.txt", experiments=EXPERIMENTS, claims=CLAIMS, figures=FIGURES,
    choices=(
        "plain SGD at lr 0.01 without momentum or clipping: the seed gives the rate, and the tutorial it builds "
        "on updates the weights by hand with plain SGD",
        "one name per step for 100 000 steps (100 epochs of 1 000), curves logged every 1 000 steps as the seed "
        "plots them; the batch 10 and 30 runs take the same number of steps",
        "the seed's accuracy is over 10 000 random draws; rnnkit scores its held-out test names instead (names "
        "it never trained on), and draws training names uniformly rather than language first",
    ),
    data_note="names: --data-dir with the tutorial's names folder (one <Language>.txt per language, 18 "
              "languages); without it the embedded Faker surname lists (their own language set)",
    notes=NOTES)
