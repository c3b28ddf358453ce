"""ms per training step and time to 99.9% exact match for the adder, side by side with the PyTorch reference.

    python benchmarks/adder_speed.py [--cells rnn,lstm,gru] [--steps 40] [--len 100]
        [--torch-reference ../shared/bench/torch_reference.py] [--skip-torch] [--breakdown]

Runs both frameworks in this one invocation (absolute times drift between sittings; quote the ratios).
Protocol for time to target, identical on both sides: batch 64, Adam lr 1e-2, evaluate every 20 steps on
1 000 held-out sums of the requested length, stop at >= 99.9% exact match.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

import keras
import numpy as np
import tensorflow as tf

import rnnkit  # noqa: F401  (quiet TensorFlow import)
from rnnkit.core.config import make_config
from rnnkit.engine import steps
from rnnkit.tasks import TASKS
from rnnkit.training import compiled_model

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_REFERENCE = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "bench", "torch_reference.py"))


def compiled_adder(cfg):
    """The adder task's default model, seeded and compiled by `rnnkit.train`."""
    keras.utils.set_random_seed(cfg.seed)
    return compiled_model(cfg)


def rnnkit_steptime(cell, length, batch, count, unroll=False):
    """Median ms of rnnkit's shared train step (as `fit` runs it: under tf.function) at `length` digits.

    unroll: the step as `--unroll` runs it: the recurrent layers unrolled for the fixed-length batches, so no
    WHILE loop, but a graph that takes seconds to trace; it pays off only for long fixed-length training.
    """
    cfg = make_config(TASKS["adder"], dict(cell=cell, length=length, lr=1e-3, batch_size=batch, unroll=unroll))
    model = compiled_adder(cfg)
    x, y = TASKS["adder"].make_arrays(cfg, np.random.default_rng(0), batch, length)
    data = (tf.constant(x), tf.constant(y))
    steps.build_step_state(model, data)
    step = tf.function(lambda data: steps.train_step(model, data), reduce_retracing=True)
    for _ in range(5):
        step(data)
    times = []
    for _ in range(count):
        start = time.perf_counter()
        logs = step(data)
        float(logs["loss"])  # wait for the step to finish
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def rnnkit_time_to_target(cell, length, train_len=None, max_steps=3000):
    """Seconds from a compiled model to >= 99.9% exact on 1 000 held-out sums of `length` digits.

    Tracing, training and the evaluation every 20 steps are all on the clock, as in the reference. The
    training length is the task's default (a curriculum: min(length, 20) digits for rnn and lstm,
    min(length, 100) for gru) unless `train_len` is given; the evaluation is always at `length`.
    """
    cfg = make_config(TASKS["adder"], dict(cell=cell, length=length,
                                           train_len=None if train_len is None else (train_len, train_len)))
    model, dataset, exact_match = protocol_parts(cfg)
    iterator = iter(dataset)
    start, done, exact = time.perf_counter(), 0, 0.0
    steps.build_step_state(model, dataset.element_spec)  # as rnnkit's loops do: one trace, not two
    step = tf.function(lambda data: steps.train_step(model, data), reduce_retracing=True)
    while done < max_steps:
        for _ in range(20):
            step(next(iterator))
        done += 20
        exact = float(exact_match())
        if exact >= 0.999:
            break
    return time.perf_counter() - start, done, exact


def protocol_parts(cfg):
    """The compiled adder, its training pipeline, and the protocol's evaluation (exact match on 1 000 held-out
    sums of --len digits) as a tf.function, not yet traced."""
    model = compiled_adder(cfg)
    task = TASKS["adder"]
    x_val, y_val = (tf.constant(a) for a in task.make_arrays(cfg, np.random.default_rng(1), 1000, cfg.length))

    @tf.function
    def exact_match():
        predicted = tf.argmax(model(x_val, training=False), axis=-1, output_type=tf.int32)
        return tf.reduce_mean(tf.cast(tf.reduce_all(predicted == y_val, axis=-1), tf.float32))

    return model, task.build_inputs(cfg, "train"), exact_match


def fixed_costs(cell, length):
    """Seconds of the parts of `rnnkit_time_to_target` that do not depend on how many steps training takes."""
    start = time.perf_counter()
    model, dataset, exact_match = protocol_parts(make_config(TASKS["adder"], dict(cell=cell, length=length)))
    steps.build_step_state(model, dataset.element_spec)
    iterator = iter(dataset)
    step = tf.function(lambda data: steps.train_step(model, data), reduce_retracing=True)
    marks = [time.perf_counter()]
    for _ in range(2):  # the first call traces and optimises the graph
        float(step(next(iterator))["loss"])
        marks.append(time.perf_counter())
    for _ in range(2):
        float(exact_match())
        marks.append(time.perf_counter())
    return dict(build=marks[0] - start, first_step=marks[1] - marks[0], step=marks[2] - marks[1],
                first_eval=marks[3] - marks[2], eval=marks[4] - marks[3])


def torch_figure(reference, args, pattern):
    """Run the PyTorch reference with `args` and return the number its output matches with `pattern`."""
    result = subprocess.run([sys.executable, reference, *args], capture_output=True, text=True, check=True)
    return float(re.search(pattern, result.stdout).group(1)), result.stdout.strip()


def main():
    """Print the side-by-side figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="rnn,lstm,gru")
    parser.add_argument("--len", type=int, default=100)
    parser.add_argument("--steps", type=int, default=40, help="timed steps per cell (median reported)")
    parser.add_argument("--torch-reference", default=DEFAULT_REFERENCE)
    parser.add_argument("--skip-torch", action="store_true")
    parser.add_argument("--breakdown", action="store_true", help="also print rnnkit's fixed costs per cell")
    args = parser.parse_args()
    cells = args.cells.split(",")
    use_torch = not args.skip_torch and os.path.exists(args.torch_reference)
    print(f"# {' '.join(sys.argv)}")
    print(f"# tensorflow {tf.__version__}, keras {keras.__version__}, {os.cpu_count()} CPU cores, "
          f"devices {[d.name for d in tf.config.list_physical_devices()]}")
    print(f"\nms per training step: adder model (Embedding 32, 2 x 64 units), {args.len + 1} positions, batch 64, "
          f"median of {args.steps}")
    print(f"{'cell':<6}{'rnnkit':>10}{'unrolled':>10}{'pytorch':>10}{'ratio':>8}{'unrolled ratio':>16}")
    for cell in cells:
        ours = rnnkit_steptime(cell, args.len, 64, args.steps)
        unrolled = rnnkit_steptime(cell, args.len, 64, args.steps, unroll=True)
        theirs = float("nan")
        if use_torch:
            theirs, _ = torch_figure(args.torch_reference, ["steptime", "--cell", cell, "--seq-len",
                                                            str(args.len + 1), "--steps", str(args.steps)],
                                     r"([\d.]+) ms/step")
        print(f"{cell:<6}{ours:>10.1f}{unrolled:>10.1f}{theirs:>10.1f}{ours / theirs:>8.2f}{unrolled / theirs:>16.2f}",
              flush=True)
    print(f"\ntime to 99.9% exact match on 1 000 held-out sums of {args.len} digits (tracing, training and "
          "evaluation every 20 steps); rnnkit's default path trains on 20-digit sums (gru: 100), 'plain' on the "
          "full length")
    print(f"{'cell':<6}{'rnnkit s':>10}{'steps':>7}{'plain s':>9}{'steps':>7}{'pytorch s':>11}{'steps':>7}"
          f"{'ratio':>8}{'plain ratio':>13}")
    for cell in cells:
        seconds, done, _ = rnnkit_time_to_target(cell, args.len)
        plain, plain_done, _ = rnnkit_time_to_target(cell, args.len, train_len=args.len)
        theirs, their_steps = float("nan"), "-"
        if use_torch:
            theirs, text = torch_figure(args.torch_reference, ["adder", "--len", str(args.len), "--cell", cell],
                                        r"TIME_TO_TARGET ([\d.]+)")
            their_steps = re.search(r"steps=(\d+)", text).group(1)
        print(f"{cell:<6}{seconds:>10.2f}{done:>7}{plain:>9.2f}{plain_done:>7}{theirs:>11.2f}{their_steps:>7}"
              f"{seconds / theirs:>8.2f}{plain / theirs:>13.2f}", flush=True)
    if args.breakdown:
        print("\nrnnkit's costs that do not depend on the number of steps (seconds; eval: 1 000 sums)")
        print(f"{'cell':<6}{'build':>8}{'1st step':>10}{'step':>8}{'1st eval':>10}{'eval':>8}")
        for cell in cells:
            costs = fixed_costs(cell, args.len)
            widths = (("build", 8), ("first_step", 10), ("step", 8), ("first_eval", 10), ("eval", 8))
            print(f"{cell:<6}" + "".join(f"{costs[key]:>{width}.3f}" for key, width in widths))


if __name__ == "__main__":
    main()
