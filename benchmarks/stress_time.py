"""Time until every adder stress family is >= 99.9% exact, rnnkit's default beside the PyTorch reference.

    python benchmarks/stress_time.py [--len 100] [--every 100] [--max-steps 3000] [--samples 200]
        [--torch-cells lstm,gru] [--torch-reference ../shared/bench/torch_reference.py] [--skip-torch]

Both sides run in this one invocation (quote the ratios, absolute times drift between sittings). rnnkit trains
its default adder (`python -m rnnkit.train --task adder`: a vanilla RNN with clipped gradients, half the sums
carry-chain enriched); the reference trains as it ships (random sums, batch 64, Adam 1e-2). Every `--every` steps
both are evaluated on the same cases: 1 000 random sums and `--samples` per stress family, all at `--len` digits,
drawn from rnnkit's fixed stress seed; the clock (tracing, training and these evaluations) stops when the worst
of them reaches 99.9%, or the run is reported as "not reached" after `--max-steps`.
"""
import argparse
import importlib.util
import os
import time

import keras
import numpy as np
import tensorflow as tf

import rnnkit  # noqa: F401  (quiet TensorFlow import)
from rnnkit.core.config import make_config
from rnnkit.engine import steps
from rnnkit.tasks import TASKS
from rnnkit.tasks.sequence import STRESS_SEED
from rnnkit.training import compiled_model

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_REFERENCE = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "bench", "torch_reference.py"))
TARGET = 0.999


def test_sets(cfg, samples):
    """{name: (x, y)}: 1 000 random sums and the stress families at cfg.length, as rnnkit's runs draw them."""
    task = TASKS["adder"]
    sets = {"random": task.make_arrays(cfg, np.random.default_rng(1), 1000, cfg.length)}
    sets.update(task.stress_arrays(cfg, np.random.default_rng([STRESS_SEED, cfg.length]), samples, cfg.length))
    return sets


def worst(exact):
    """(name, exact match) of the weakest set."""
    return min(exact.items(), key=lambda item: item[1])


def race(train_chunk, score, every, max_steps):
    """Train `every` steps at a time until score() is >= TARGET everywhere; (seconds, steps, worst, reached)."""
    start, done = time.perf_counter(), 0
    while done < max_steps:
        train_chunk(every)
        done += every
        name, exact = worst(score())
        if exact >= TARGET:
            return time.perf_counter() - start, done, (name, exact), True
    return time.perf_counter() - start, done, (name, exact), False


def rnnkit_race(cfg, sets, every, max_steps):
    """The race for rnnkit's default adder, trained with its own pipeline and shared train step."""
    keras.utils.set_random_seed(cfg.seed)
    model = compiled_model(cfg)
    dataset = TASKS["adder"].build_inputs(cfg, "train")
    iterator = iter(dataset)
    steps.build_step_state(model, dataset.element_spec)
    step = tf.function(lambda data: steps.train_step(model, data), reduce_retracing=True)
    predict = tf.function(lambda x: tf.argmax(model(x, training=False), axis=-1, output_type=tf.int32),
                          reduce_retracing=True)

    def train_chunk(count):
        for _ in range(count):
            logs = step(next(iterator))
        float(logs["loss"])

    def score():
        return {name: float(np.mean(np.all(predict(tf.constant(x)).numpy() == y, axis=1)))
                for name, (x, y) in sets.items()}

    return race(train_chunk, score, every, max_steps)


def torch_race(reference, cell, length, sets, every, max_steps, seed):
    """The race for the reference's Adder, trained exactly as its `adder` command trains it (random sums)."""
    torch = reference.torch
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = reference.Adder(cell)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = torch.nn.CrossEntropyLoss()
    tensors = {name: (torch.tensor(x[..., 0]).long(), torch.tensor(x[..., 1]).long(), y)
               for name, (x, y) in sets.items()}

    def train_chunk(count):
        for _ in range(count):
            a, b, s = reference.sums(rng, 64, length)
            optimizer.zero_grad()
            loss_fn(model(a, b).reshape(-1, 10), s.reshape(-1)).backward()
            optimizer.step()

    def score():
        with torch.no_grad():
            return {name: float(np.mean(np.all(model(a, b).argmax(-1).numpy() == y, axis=1)))
                    for name, (a, b, y) in tensors.items()}

    return race(train_chunk, score, every, max_steps)


def load_reference(path):
    """The PyTorch reference script as a module (it needs `pip install torch==2.13.0`)."""
    spec = importlib.util.spec_from_file_location("torch_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def row(label, result):
    """One printed line of the table."""
    seconds, done, (name, exact), reached = result
    status = "reached" if reached else f"not reached after {done} steps"
    return f"{label:<44}{seconds:>9.1f}{done:>7}  {name:<14}{exact:>8.4f}  {status}"


def main():
    """Print the side-by-side table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--len", type=int, default=100)
    parser.add_argument("--every", type=int, default=100, help="training steps between evaluations")
    parser.add_argument("--max-steps", type=int, default=3000)
    parser.add_argument("--samples", type=int, default=200, help="sums per stress family")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch-cells", default="lstm,gru")
    parser.add_argument("--torch-reference", default=DEFAULT_REFERENCE)
    parser.add_argument("--skip-torch", action="store_true")
    args = parser.parse_args()
    cfg = make_config(TASKS["adder"], dict(length=args.len, seed=args.seed))
    sets = test_sets(cfg, args.samples)
    print(f"# tensorflow {tf.__version__}, keras {keras.__version__}, {os.cpu_count()} CPU cores; {len(sets)} sets "
          f"at {args.len} digits, target {TARGET} on the worst, evaluated every {args.every} steps")
    print(f"{'model':<44}{'seconds':>9}{'steps':>7}  {'worst set':<14}{'exact':>8}")
    print(row(f"rnnkit default ({cfg.cell}, carry mix {cfg.carry_mix})",
              rnnkit_race(cfg, sets, args.every, args.max_steps)), flush=True)
    if args.skip_torch or not os.path.exists(args.torch_reference):
        return
    reference = load_reference(args.torch_reference)
    reference.torch.set_num_threads(os.cpu_count())
    for cell in args.torch_cells.split(","):
        print(row(f"pytorch reference ({cell}, random sums)",
                  torch_race(reference, cell, args.len, sets, args.every, args.max_steps, args.seed)), flush=True)


if __name__ == "__main__":
    main()
