"""A task is one file: a task defined here, registered, trains, predicts and exports with no other module touched;
and no module outside rnnkit/tasks/ switches on a task's name."""
import ast
import json
import os
import pathlib

import numpy as np
import tensorflow as tf

from export import __main__ as export_cli
from export import predict as export_predict
import rnnkit
from rnnkit import predict as rnnkit_predict
from rnnkit import train
from rnnkit.core import codecs
from rnnkit.core.errors import UsageError
from rnnkit.core.options import Option
from rnnkit.models.builders import build_recurrent_model
from rnnkit.tasks import TASKS, register
from rnnkit.tasks.base import SoftmaxClassifier, mark
from rnnkit.tasks.sequence import SequenceTask
from tests.clitools import call, fresh_dir

ROOT = pathlib.Path(__file__).resolve().parent.parent


class OnesCodec(codecs.Codec):
    """`0110` in, how many ones out."""

    name = "ones"

    def encode(self, metadata, text):
        """Bits → tokens 1 (a 0 bit) and 2 (a 1 bit)."""
        return np.array([[bit + 1 for bit in codecs.digits(text, "01", "a bit string", metadata)]], np.int32)

    def describe(self, metadata, text, x, output):
        """`0110 → 2 0.98, 1 0.01, 3 0.01`."""
        return f"{''.join(str(t - 1) for t in x)} → {codecs.ranked(metadata, output, 1)}"


class Ones(SoftmaxClassifier, SequenceTask):
    """--bits random bits → how many of them are set."""

    name = "ones"
    summary = "count the ones in a bit string (defined by a test)"
    options = (Option("bits", 3, "bits per sequence", bounds=(1, 64), searchable=True), *SequenceTask.options)
    defaults = dict(cell="gru", units=(16,), embed_dim=4, lr=1e-2, epochs=4, steps_per_epoch=40, batch_size=32,
                    val_samples=64, test_samples=128, stress_samples=0)
    codec, example_input = OnesCodec(), "0110"

    def main_length(self, cfg):
        """Trained and tested at --bits."""
        return cfg.bits

    def make_arrays(self, cfg, rng, n, length):
        """Tokens 1/2 and the count of ones."""
        bits = rng.integers(0, 2, (n, length))
        return (bits + 1).astype(np.int32), bits.sum(1).astype(np.int32)

    def build_model(self, cfg):
        """Embedding → GRU (last state) → softmax over 0..--bits."""
        return build_recurrent_model(name="ones", cell=cfg.cell, units=cfg.units, num_classes=cfg.bits + 1,
                                     vocab_size=3, embed_dim=cfg.embed_dim, return_sequences=False)

    def class_labels(self, cfg):
        """0..--bits."""
        return tuple(str(count) for count in range(cfg.bits + 1))

    def render(self, cfg, x, y_true, y_pred):
        """`0110 → 2 ✓`."""
        return f"{''.join(str(t - 1) for t in x)} → {int(y_pred)} {mark(y_pred == y_true, int(y_true))}"


class NewTaskTest(tf.test.TestCase):
    """Registered from this file alone: its flag, config.json, training, both predict CLIs, LiteRT and TFLM."""

    @classmethod
    def setUpClass(cls):
        register(Ones())
        cls.addClassCleanup(TASKS.pop, "ones")

    def test_its_option_is_a_flag_a_config_key_and_a_checked_library_argument(self):
        status, out, _ = call(train.main, ["--task", "ones", "--help"])
        self.assertEqual(status, 0)
        self.assertIn("--bits", out)
        self.assertIn("bits per sequence (default: 3)", out)
        status, _, err = call(train.main, ["--task", "ones", "--bits", "0"])
        self.assertEqual((status, err.count("\n")), (2, 1))
        self.assertIn("argument --bits", err)
        status, _, err = call(train.main, ["--task", "adder", "--bits", "4"])
        self.assertIn("--bits does not apply to task adder", err)
        with self.assertRaisesRegex(UsageError, "bits must be in"):
            rnnkit.configure("ones", bits=99)
        self.assertEqual(rnnkit.configure("ones", bits=5).to_dict()["bits"], 5)

    def test_it_trains_predicts_and_exports_like_a_builtin_task(self):
        tf.keras.utils.set_random_seed(0)
        run = os.path.join(fresh_dir(self), "run")
        status, out, err = call(train.main, ["--task", "ones", "--bits", "4", "--out", run])
        self.assertEqual(status, 0, err)
        with open(os.path.join(run, "config.json")) as handle:
            self.assertEqual(json.load(handle)["bits"], 4)
        with open(os.path.join(run, "metrics.json")) as handle:
            self.assertGreaterEqual(json.load(handle)["test"]["accuracy"], 0.95)  # counting is learnt
        inputs = ["0110", "1011", "0001"]
        status, keras_out, err = call(rnnkit_predict.main, [run, *inputs])
        self.assertEqual(status, 0, err)
        self.assertEqual([line.split()[2] for line in keras_out.splitlines()], ["2", "3", "1"])
        status, out, err = call(export_cli.main, [run, "--out", os.path.join(run, "lite")])
        self.assertEqual(status, 0, err)
        status, lite_out, err = call(export_predict.main, [os.path.join(run, "lite", "model.tflite"), *inputs])
        self.assertEqual(status, 0, err)
        self.assertEqual(lite_out, keras_out)
        status, out, err = call(export_cli.main, [run, "--target", "micro", "--out", os.path.join(run, "micro")])
        self.assertEqual(status, 0, err)
        self.assertIn("ran in the TFLM interpreter", out)
        status, micro_out, err = call(export_predict.main, [os.path.join(run, "micro", "model.tflite"),
                                                            "--runtime", "micro", *inputs])
        self.assertEqual(status, 0, err)
        self.assertEqual([line.split()[2] for line in micro_out.splitlines()], ["2", "3", "1"])


def task_name_switches(source, names):
    """Lines of `source` that switch on a task or codec name: a comparison (`==`, `!=`, `in`) with one, a `case`
    of one, or a dict keyed by two or more (a table of tasks; one such key, e.g. per-class "recall", is a word)."""
    lines = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            items = [item for side in sides
                     for item in (side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side])]
            if any(isinstance(item, ast.Constant) and item.value in names for item in items):
                lines.add(node.lineno)
        elif isinstance(node, ast.Dict):
            if sum(isinstance(key, ast.Constant) and key.value in names for key in node.keys) >= 2:
                lines.add(node.lineno)
        elif isinstance(node, ast.MatchValue) and getattr(node.value, "value", None) in names:
            lines.add(node.lineno)
    return sorted(lines)


class NoTaskNameSwitchTest(tf.test.TestCase):
    def names(self):
        """Every registered task's name and its codec's."""
        return {name for task in TASKS.values() for name in (task.name, task.codec.name)}

    def test_no_module_outside_the_tasks_switches_on_a_task_name(self):
        files = [path for folder in ("rnnkit", "export", "tuning") for path in sorted((ROOT / folder).rglob("*.py"))
                 if "tasks" not in path.relative_to(ROOT).parts]
        offenders = [f"{path.relative_to(ROOT)}:{line}" for path in files
                     for line in task_name_switches(path.read_text(encoding="utf-8"), self.names())]
        self.assertEqual(offenders, [])

    def test_the_walker_sees_each_way_of_switching(self):
        source = ("if cfg.task == 'adder':\n    pass\n"
                  "steps = 1 if codec not in ('mnist', 'cifar10') else 2\n"
                  "ENCODERS = {'adder': 1, 'recall': 2}\n"
                  "per_class = {'precision': 1, 'recall': 2}\n"
                  "match cfg.task:\n    case 'names':\n        pass\n")
        self.assertEqual(task_name_switches(source, self.names()), [1, 3, 4, 7])
