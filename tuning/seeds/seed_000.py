"""Seed 000: MNIST row by row with RNN / LSTM / GRU (one or two directions), recall with 2–10 LSTM units, binary
addition with MSE against cross-entropy — PyTorch, Adam, coupled L2 0.01 on MNIST."""
from tuning.seeds.spec import Claim, Experiment, Figure, SeedReport, beats, pct

# The seed's MNIST runs: raw rows, Adam 1e-3, cross-entropy, PyTorch weight_decay 0.01, nothing else of rnnkit's.
MNIST = dict(filters=0, optimizer="adam", lr=1e-3, coupled_weight_decay=0.01, augment=False, dropout=0.0,
             lr_schedule="none", patience=0, epochs=10, batch_size=64, log_every=50)
MNIST_QUICK = dict(epochs=5, log_every=20)
SIZES = {"64": (64,), "128": (128,), "64x2": (64, 64)}
CELLS = ("rnn", "lstm", "gru")
# Recall and binary addition: an LSTM, Adam lr 0.01, β = (0.9, 0.99), cross-entropy unless said.
SEQUENCE = dict(cell="lstm", optimizer="adam", lr=0.01, beta_1=0.9, beta_2=0.99, stress_samples=0, log_every=100,
                test_samples=2000)
SEQUENCE_QUICK = dict(epochs=15, test_samples=1000, val_samples=300, eval_samples=200)
BINARY = dict(SEQUENCE, bit_inputs="01", units=(5,), loss="mse", eval_lens=(3, 5, 10, 20, 50), restarts=1)


def _mnist(cell, size, bidirectional):
    direction = "bi" if bidirectional else "uni"
    return Experiment(f"mnist-{cell}-{size}-{direction}", "mnist",
                      dict(MNIST, cell=cell, units=SIZES[size], bidirectional=bidirectional), MNIST_QUICK,
                      data={"source": "tfds"})


EXPERIMENTS = (
    *(_mnist(cell, size, bi) for bi in (False, True) for cell in CELLS for size in SIZES),
    *(Experiment(f"recall-h{units}", "recall", dict(SEQUENCE, units=(units,), k=2), SEQUENCE_QUICK)
      for units in (2, 5, 10)),
    *(Experiment(f"binary-mse-train{length}", "binary_add", dict(BINARY, length=length, train_len=(length, length)),
                 SEQUENCE_QUICK)
      for length in (3, 5, 10)),
    Experiment("binary-ce-train5", "binary_add", dict(BINARY, length=5, train_len=(5, 5), loss="ce"), SEQUENCE_QUICK),
    *(Experiment(f"binary-mse-h{units}", "binary_add", dict(BINARY, length=5, train_len=(5, 5), units=(units,)),
                 SEQUENCE_QUICK)
      for units in (2, 10)),
)


def _cell_means(cells, size_names=tuple(SIZES)):
    return {cell: [f"mnist-{cell}-{size}-uni" for size in size_names] for cell in cells}


def _rnn_behind(runs):
    means = {cell: sum(runs.test(n) for n in names) / len(names) for cell, names in _cell_means(CELLS).items()}
    gated = min(means["lstm"], means["gru"])
    return means["rnn"] < gated - 0.01, ", ".join(f"{cell} {pct(v)}" for cell, v in means.items())


def _lstm_gru_close(runs):
    means = {cell: sum(runs.test(n) for n in names) / len(names)
             for cell, names in _cell_means(("lstm", "gru")).items()}
    return abs(means["lstm"] - means["gru"]) <= 0.02, f"lstm {pct(means['lstm'])}, gru {pct(means['gru'])}"


def _two_layers_help(runs):
    gains = {cell: runs.test(f"mnist-{cell}-64x2-uni") - runs.test(f"mnist-{cell}-64-uni") for cell in CELLS}
    return sum(g > 0 for g in gains.values()) >= 2, ", ".join(f"{c} {100 * g:+.1f} pts" for c, g in gains.items())


def _lstm_best(runs):
    means = {cell: sum(runs.test(n) for n in names) / len(names) for cell, names in _cell_means(CELLS).items()}
    return means["lstm"] >= max(means.values()), ", ".join(f"{cell} {pct(v)}" for cell, v in means.items())


def _recall_grows(runs):
    h2, h5, h10 = (runs.test(f"recall-h{u}", "exact_match") for u in (2, 5, 10))
    return h2 < h5 - 0.01 and h10 >= h5 - 0.005, f"H=2 {pct(h2)}, H=5 {pct(h5)}, H=10 {pct(h10)}"


def _binary_small_state(runs):
    h2, h5 = runs.test("binary-mse-h2"), runs.test("binary-mse-train5")
    return h2 < h5 - 0.01, f"bits right: H=2 {pct(h2)}, H=5 {pct(h5)}"


def _binary_h10(runs):
    value = runs.test("binary-mse-h10")
    return value >= 0.99, f"bits right {pct(value)}"


CLAIMS = (
    Claim("On MNIST the vanilla RNN falls behind the LSTM and the GRU", "stated without a figure",
          tuple(n for names in _cell_means(CELLS).values() for n in names),
          "mean test accuracy over the three one-direction sizes: RNN below the lower of LSTM and GRU by > 1 pt",
          _rnn_behind),
    Claim("LSTM and GRU perform comparably on MNIST", "stated without a figure",
          tuple(n for names in _cell_means(("lstm", "gru")).values() for n in names),
          "mean one-direction test accuracy of LSTM and GRU within 2 pts", _lstm_gru_close),
    Claim("Two layers of 64 are more accurate than one layer of 64", "stated without a figure",
          tuple(f"mnist-{c}-{s}-uni" for c in CELLS for s in ("64", "64x2")),
          "two-layer test accuracy above one-layer in at least two of the three cells", _two_layers_help),
    Claim("The LSTM is the most accurate cell on MNIST", "stated without a figure",
          tuple(n for names in _cell_means(CELLS).values() for n in names),
          "LSTM's mean one-direction test accuracy at least GRU's and RNN's", _lstm_best),
    Claim("Recall accuracy grows with the LSTM's width (2, 5, 10 units)", "stated without a figure",
          ("recall-h2", "recall-h5", "recall-h10"),
          "exact recall: H=2 below H=5 by > 1 pt, and H=10 not below H=5 by more than 0.5 pt", _recall_grows),
    Claim("For binary addition MSE performs much better than cross-entropy", "stated without a figure (plots)",
          ("binary-mse-train5", "binary-ce-train5"),
          "bits right at test: MSE above cross-entropy by > 5 pts (both 5 units, trained on 5 bits)",
          beats(("binary-mse-train5",), ("binary-ce-train5",), 0.05)),
    Claim("Widening the binary adder to 10 units gives nearly 100%", "“nearly 100%”", ("binary-mse-h10",),
          "bits right at test ≥ 99%", _binary_h10),
    Claim("Narrowing the binary adder to 2 units lowers accuracy", "stated without a figure",
          ("binary-mse-h2", "binary-mse-train5"), "bits right at test: H=2 below H=5 by > 1 pt", _binary_small_state),
)

FIGURES = (
    *(Figure(f"MNIST {cell.upper()}: train and test curves", "curves",
             tuple(f"mnist-{cell}-{s}-{d}" for d in ("uni", "bi") for s in SIZES)) for cell in CELLS),
    Figure("Recall: train and test curves by width", "curves", ("recall-h2", "recall-h5", "recall-h10")),
    Figure("Binary addition: MSE against cross-entropy", "curves", ("binary-mse-train5", "binary-ce-train5")),
    Figure("Binary addition (MSE): bits right by length, trained on 3, 5, 10 bits", "by_length",
           ("binary-mse-train3", "binary-mse-train5", "binary-mse-train10")),
)

REPORT = SeedReport(
    name="seed-000", title="MNIST, recall and binary addition with LSTMs (PyTorch, Adam)",
    source="000_faf8705be2f11ff5.txt", experiments=EXPERIMENTS, claims=CLAIMS, figures=FIGURES,
    choices=(
        "MNIST epochs 10 and batch 64: the seed evaluates after every epoch but does not give either",
        "MNIST “L2 0.01” as PyTorch's coupled weight_decay 0.01 (`--coupled-weight-decay`): the seed used "
        "PyTorch's Adam",
        "recall k = 2: the seed's example answers 5 for 3 5 8 6 8; lengths 3–10 and 30×100 steps of 64 are "
        "rnnkit's defaults, the seed gives none",
        "binary addition: 0/1 bits as the seed feeds them; its “hackish” cross-entropy is not described, so "
        "rnnkit's two-way softmax per bit (`--loss ce`) stands in",
        "binary addition: each run is tested at its training length (5 bits unless its name says 3 or 10), and at "
        "3, 5, 10, 20 and 50 bits for the by-length figure",
    ),
    data_note="MNIST: --data-dir with a prepared tensorflow-datasets `mnist` (the seed's 60 000 / 10 000); "
              "without it the 5 000 embedded real digits (4 000 train, 1 000 test)")
