"""Seed 004: a decimal adder (32-dim digit embeddings, stacked 64-unit RNN / LSTM / GRU) at lengths 11–200:
convergence against length and depth, a too-large rate, a plateau schedule."""
from tuning.seeds.spec import Claim, Experiment, Figure, SeedReport, all_reach, pct

# The seed's adder: both operands' digits embedded (32 each), concatenated, a stack of 64-unit layers, a
# 10-way softmax per digit; uniformly random operands, no clipping, Adam.
ADDER = dict(embed_dim=32, optimizer="adam", lr=1e-3, epsilon=None, clipnorm=None, carry_mix=0.0, batch_size=64,
             steps_per_epoch=100, log_every=100, stress_samples=0, eval_lens=(), test_samples=1000)
QUICK = dict(test_samples=300, val_samples=300, log_every=50)
PLATEAU = dict(lr_schedule="plateau", plateau_factor=0.5, plateau_patience=2, plateau_min_lr=1e-3)
LONG = (100, 150, 200)


def _adder(name, cell, layers, length, iterations, quick_iterations, **settings):
    settings = dict(ADDER, cell=cell, units=(64,) * layers, length=length, train_len=(length, length),
                    epochs=iterations // 100, **settings)
    return Experiment(name, "adder", settings, dict(QUICK, epochs=max(1, quick_iterations // 100)))


EXPERIMENTS = (
    _adder("rnn2-len11", "rnn", 2, 11, 1000, 300),
    *(_adder(f"rnn3-len{n}", "rnn", 3, n, 3000, 300 if n <= 50 else 200) for n in (11, 50, *LONG)),
    *(_adder(f"rnn{layers}-len11", "rnn", layers, 11, 1000, 300) for layers in (1, 5, 10)),
    *(_adder(f"rnn3-lr0.2-len{n}", "rnn", 3, n, 3000, 200, lr=0.2) for n in LONG),
    *(_adder(f"rnn3-plateau-len{n}", "rnn", 3, n, 3000, 200, **dict(PLATEAU, lr=0.02)) for n in LONG),
    *(_adder(f"{cell}3-len{n}", cell, 3, n, iterations, 200)
      for cell in ("lstm", "gru") for n, iterations in ((100, 2000), (150, 3000))),
    *(_adder(f"{cell}3-plateau0.2-len{n}", cell, 3, n, iterations, 200, **dict(PLATEAU, lr=0.2))
      for cell in ("lstm", "gru") for n, iterations in ((100, 2000), (150, 3000))),
    Experiment("rnnkit-default-len100", "adder", dict(length=100),
               dict(epochs=10, eval_lens=(), stress_samples=0, test_samples=300), default=True),
)
DEPTHS = ("rnn1-len11", "rnn2-len11", "rnn3-len11", "rnn5-len11", "rnn10-len11")


def _steps(runs, name, threshold=0.99):
    step = runs.first_step(name, threshold)
    return step if step is not None else float("inf")


def _when(step):
    """A step for the report: its number, or "never"."""
    return "never" if step == float("inf") else str(step)


def _fast_at_11(runs):
    step = runs.first_step("rnn2-len11", 0.99)
    return step is not None and step <= 1000, (f"digits right {pct(runs.test('rnn2-len11'))}; ≥ 99% from step "
                                               f"{_when(step if step is not None else float('inf'))}")


def _slower_with_length(runs):
    names = [f"rnn3-len{n}" for n in (11, 50, *LONG)]
    steps = [_steps(runs, name) for name in names]
    rising = all(a <= b for a, b in zip(steps, steps[1:])) and steps[0] < steps[-1]
    finals = [runs.test(name) for name in names]
    return rising, ", ".join(f"len {n}: step {_when(s)} ({pct(f)})" for n, s, f in zip((11, 50, *LONG), steps,
                                                                                       finals))


def _depth_u_shape(runs):
    steps = {name: _steps(runs, name) for name in DEPTHS}
    fastest = min(steps, key=steps.get)
    middle = fastest not in (DEPTHS[0], DEPTHS[-1]) and steps[fastest] < float("inf")
    return middle, ", ".join(f"{name.split('-')[0]}: {_when(s)}" for name, s in steps.items())


def _ten_layers_stall(runs):
    value = runs.test("rnn10-len11")
    return value < 0.9, f"digits right {pct(value)}"


def _lr_explodes(runs):
    names = [f"rnn3-lr0.2-len{n}" for n in LONG]
    failed = [runs.diverged(name) or runs.test(name) < 0.5 for name in names]
    return all(failed), ", ".join(f"len {n}: " + ("diverged" if runs.diverged(name) else pct(runs.test(name)))
                                  for n, name in zip(LONG, names))


def _gated_faster(runs):
    pairs = [(f"{c}3-plateau0.2-len{n}", f"{c}3-len{n}") for c in ("lstm", "gru") for n in (100, 150)]
    faster = [_steps(runs, fast) < _steps(runs, slow) for fast, slow in pairs]
    return sum(faster) >= 3, ", ".join(f"{fast.split('-')[0]} len {fast[-3:]}: step {_when(_steps(runs, fast))} "
                                       f"from 0.2, {_when(_steps(runs, slow))} at 0.001" for fast, slow in pairs)


def _plateau_reaches(runs):
    figures = dict(zip(LONG, (0.2999, 0.913, 0.9315)))
    values = {n: runs.test(f"rnn3-plateau-len{n}") for n in LONG}
    return all(values[n] >= figures[n] - 0.03 for n in LONG), ", ".join(f"len {n}: {pct(v)}" for n, v in
                                                                         values.items())


def _default(runs):
    return f"{pct(runs.test('rnnkit-default-len100', 'exact_match'))} exact at length 100"


GATED = tuple(f"{c}3-len{n}" for c in ("lstm", "gru") for n in (100, 150))
CLAIMS = (
    Claim("A 2-layer RNN adds 11-digit numbers perfectly within 1 000 iterations", "accuracy 1.0 at 1 000",
          ("rnn2-len11",), "test digits right ≥ 99% by step 1 000", _fast_at_11),
    Claim("Longer numbers converge more slowly but still reach 1.0", "no figures (curves)",
          tuple(f"rnn3-len{n}" for n in (11, 50, *LONG)),
          "the step where test digits right first reach 99% never falls and rises from 11 to 200 digits",
          _slower_with_length),
    Claim("Deeper stacks converge faster, then slower", "no figures (curves), 3 layers chosen", DEPTHS,
          "the depth reaching 99% test digits right first is neither 1 nor 10 layers", _depth_u_shape),
    Claim("Ten layers do not converge", "no figure", ("rnn10-len11",), "test digits right below 90%",
          _ten_layers_stall),
    Claim("Rate 0.2 explodes at lengths 100–200", "no figure", tuple(f"rnn3-lr0.2-len{n}" for n in LONG),
          "every run diverges or ends below 50% digits right", _lr_explodes,
          default=("rnnkit-default-len100", _default,
                   "rnnkit's adder clips gradients at norm 1, uses Adam ε 1e-4 and trains on carry chains")),
    Claim("With a plateau schedule the RNN reaches 30.0% / 91.3% / 93.2% at 100 / 150 / 200 digits",
          "0.2999, 0.913, 0.9315 after 3 000", tuple(f"rnn3-plateau-len{n}" for n in LONG),
          "each test digits right ≥ the seed's figure − 3 pts", _plateau_reaches),
    Claim("LSTM and GRU at rate 0.001 reach 1.0 at 100 and 150 digits", "1.0 after 2 000 / 3 000", GATED,
          "each test digits right ≥ 99%", all_reach(GATED, 1.0, 0.01)),
    Claim("From 0.2 with a plateau schedule, LSTM and GRU converge faster", "no figure (curves)",
          GATED + tuple(f"{c}3-plateau0.2-len{n}" for c in ("lstm", "gru") for n in (100, 150)),
          "in at least 3 of 4 pairs, 99% test digits right at an earlier step than at fixed 0.001", _gated_faster),
)

FIGURES = (
    Figure("RNN (3 × 64) by length: train and test curves", "curves", tuple(f"rnn3-len{n}" for n in (11, 50, *LONG))),
    Figure("RNN at 11 digits by depth", "curves", DEPTHS),
    Figure("RNN at rate 0.2 and with a plateau schedule from 0.02", "curves",
           tuple(f"rnn3-lr0.2-len{n}" for n in LONG) + tuple(f"rnn3-plateau-len{n}" for n in LONG)),
    Figure("LSTM and GRU: fixed 0.001 against a plateau schedule from 0.2", "curves",
           GATED + tuple(f"{c}3-plateau0.2-len{n}" for c in ("lstm", "gru") for n in (100, 150))),
)

REPORT = SeedReport(
    name="seed-004", title="A decimal adder with RNN, LSTM and GRU at lengths 11–200",
    source="004_768b7b32c84e8f5a.txt", experiments=EXPERIMENTS, claims=CLAIMS, figures=FIGURES,
    choices=(
        "Adam at 1e-3, batch 64, uniformly random operands, no clipping: the seed names the rates (0.001 fixed, "
        "0.2 too large, 0.02–0.001 under its schedule) but not the optimizer or batch",
        "trained and tested at the run's own length, digits least significant first, a softmax per output digit",
        "the plateau schedule halves the rate after 2 epochs of 100 steps without a better validation loss, down "
        "to 0.001 (the seed's range 0.02–0.001)",
        "depth is compared at the 11-digit benchmark over 1 000 steps; “accuracy” is the share of digits right",
    ),
    data_note="all data is generated; nothing to pass with --data-dir")
