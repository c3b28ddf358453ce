"""The package's shape: imports point one way, a TensorFlow-free core, the Keras adapter, the `rnnkit` command."""
import ast
import importlib
import importlib.metadata
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
from packaging.requirements import Requirement
import tensorflow as tf
from tensorflow.python.framework import config as tf_config

from rnnkit import command
from rnnkit.core.config import Config
from rnnkit.engine import keras_adapter, steps
from rnnkit.engine.device import deterministic_ops
from rnnkit.models.builders import build_cnn8, build_recurrent_model, mixed_precision
from rnnkit.tasks import TASKS
from tests.clitools import call, fresh_dir

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROJECT = ("rnnkit", "export", "tuning")
TF_FREE = ("rnnkit.core.cli", "rnnkit.core.codecs", "rnnkit.core.metadata", "rnnkit.core.errors", "rnnkit.core.quiet",
           "rnnkit.core.config", "rnnkit.core.options", "rnnkit.core.flags", "rnnkit.tasks", "rnnkit.command",
           "export.predict", "export.micro.runtime",
           # The CLIs parse before loading TensorFlow, so --help and a mistyped flag answer at once.
           "rnnkit.train", "rnnkit.predict", "export.__main__", "tuning.search", "tuning.report")


def imported_modules(path):
    """Every module name a Python file imports (absolute names; relative imports resolved to the package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.module if node.level == 0 else f"{path.parent.name}.{node.module or ''}"


class ImportDirectionTest(tf.test.TestCase):
    def test_rnnkit_imports_neither_export_nor_tuning(self):
        offenders = [f"{path.relative_to(ROOT)} imports {name}"
                     for path in sorted((ROOT / "rnnkit").rglob("*.py"))
                     for name in imported_modules(path) if name.split(".")[0] in ("export", "tuning")]
        self.assertEqual(offenders, [])

    def test_the_walker_sees_imports_in_every_form(self):
        path = pathlib.Path(fresh_dir(self), "probe.py")
        path.write_text("import export.convert\nfrom tuning import space\ndef f():\n    from export import predict\n")
        self.assertEqual(list(imported_modules(path)), ["export.convert", "tuning", "export"])

    def test_core_modules_export_predict_and_the_clis_load_without_tensorflow_or_keras(self):
        code = ("import sys\n" + "".join(f"import {name}\n" for name in TF_FREE)
                + "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.strip(), "[]")


def stale_project_names(path):
    """`module.name` strings a script takes from rnnkit, export or tuning that those modules no longer have: names
    in `from project.module import name`, and attributes read off a project module it imported by name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules, missing = {}, []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module.split(".")[0] in PROJECT:
            module = importlib.import_module(node.module)
            for alias in node.names:
                if not hasattr(module, alias.name):
                    try:
                        modules[alias.asname or alias.name] = importlib.import_module(f"{node.module}.{alias.name}")
                    except ImportError:
                        missing.append(f"{node.module}.{alias.name}")
                elif isinstance(getattr(module, alias.name), type(module)):
                    modules[alias.asname or alias.name] = getattr(module, alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            if not hasattr(modules[node.value.id], node.attr):
                missing.append(f"{modules[node.value.id].__name__}.{node.attr}")
    return missing


class BenchmarkScriptsTest(tf.test.TestCase):
    def test_benchmark_scripts_use_only_names_the_project_still_has(self):
        scripts = sorted((ROOT / "benchmarks").glob("*.py"))
        self.assertNotEmpty(scripts)
        stale = {path.name: stale_project_names(path) for path in scripts}
        self.assertEqual({name: names for name, names in stale.items() if names}, {})

    def test_the_checker_sees_a_removed_function_and_a_moved_one(self):
        path = pathlib.Path(fresh_dir(self), "probe.py")
        path.write_text("from rnnkit.models.builders import as_keras, build_mlp\nfrom export import checks\n"
                        "from export import __main__ as cli\ncli.fit_calibration\nchecks.fit_calibration\n")
        self.assertEqual(stale_project_names(path),
                         ["rnnkit.models.builders.as_keras", "export.__main__.fit_calibration"])


class KerasAdapterTest(tf.test.TestCase):
    def test_installed_keras_is_in_the_pinned_range(self):
        pins = [req for req in map(Requirement, importlib.metadata.requires("rnnkit")) if req.name == "keras"]
        self.assertLen(pins, 1)
        self.assertIn(keras.__version__, pins[0].specifier)

    def test_track_loss_feeds_the_loss_that_fit_reports(self):
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        keras_adapter.build_training_state(model, (tf.TensorSpec((None, 2)), tf.TensorSpec((None, 1))))
        keras_adapter.track_loss(model, tf.constant(3.0), sample_weight=2)
        keras_adapter.track_loss(model, tf.constant(6.0), sample_weight=1)
        self.assertAllClose(model.get_metrics_result()["loss"], 4.0)

    def test_build_training_state_builds_the_metrics_without_data(self):
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        before = len(model.metrics_variables)  # the loss tracker's total and count
        keras_adapter.build_training_state(model, (tf.TensorSpec((None, 2)), tf.TensorSpec((None,), tf.int32)))
        self.assertGreater(len(model.metrics_variables), before)  # accuracy's, created from the spec alone
        self.assertEqual(sorted(model.get_metrics_result()), ["accuracy", "loss"])

    def test_nested_layers_reach_inside_bidirectional(self):
        model = build_recurrent_model(name="probe", cell="gru", units=(3,), num_classes=10, vocab_size=10,
                                      embed_dim=2, bidirectional=True)
        self.assertLen(steps.recurrent_layers(model), 2)
        self.assertTrue(all(isinstance(layer, keras.layers.GRU) for layer in steps.recurrent_layers(model)))

    def test_restored_epoch_reads_what_backup_and_restore_set(self):
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        self.assertEqual(keras_adapter.restored_epoch(model), 0)
        backup = fresh_dir(self)
        x, y = np.ones((4, 1)), np.ones((4, 1))
        model.fit(x, y, epochs=2, verbose=0,
                  callbacks=[keras.callbacks.BackupAndRestore(backup, delete_checkpoint=False)])
        restored = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        restored.compile(optimizer="sgd", loss="mse")
        callback = keras.callbacks.BackupAndRestore(backup)
        callback.set_model(restored)
        callback.on_train_begin()
        self.assertEqual(keras_adapter.restored_epoch(restored), 2)


class NoProcessStateTest(tf.test.TestCase):
    def test_mixed_precision_is_set_only_while_building(self):
        before = keras.mixed_precision.global_policy().name
        with mixed_precision():
            model = build_cnn8(name="probe", input_shape=(32, 32, 3), num_classes=10, l2=0.0, dropout=0.0)
        self.assertEqual(keras.mixed_precision.global_policy().name, before)
        self.assertEqual(model.layers[1].dtype_policy.name, "mixed_float16")
        self.assertEqual(model.layers[-1].dtype_policy.name, "float32")  # the softmax head stays float32
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        self.assertIsInstance(model.optimizer, keras.optimizers.LossScaleOptimizer)

    def test_cifar10_model_leaves_the_global_policy_alone(self):
        task = TASKS["cifar10"]
        before = keras.mixed_precision.global_policy().name
        task.build_model(Config(task="cifar10", source="tfds", data_dir="x", arch="mlp", units=(4,)))
        self.assertEqual(keras.mixed_precision.global_policy().name, before)

    def test_deterministic_kernels_only_while_training(self):
        before = tf_config.is_op_determinism_enabled()
        with deterministic_ops():
            self.assertTrue(tf_config.is_op_determinism_enabled())
        self.assertEqual(tf_config.is_op_determinism_enabled(), before)

    def test_data_cache_is_keyed_on_what_the_data_depends_on(self):
        task = TASKS["moons"]
        cfg = Config(task="moons", backend="keras")
        self.assertIs(task.splits(cfg), task.splits(cfg.replace(lr=0.5, units=(7,), seed=3)))
        names = TASKS["names"]
        embedded = names.splits(Config(task="names", source="embedded"))
        self.assertIs(embedded, names.splits(Config(task="names", source="embedded", lr=0.1)))
        folder = fresh_dir(self)
        for language, surnames in (("Czech", "Novak\nSvoboda\n"), ("Greek", "Papadopoulos\nGeorgiou\n")):
            with open(os.path.join(folder, f"{language}.txt"), "w", encoding="utf-8") as handle:
                handle.write(surnames)
        from_folder = names.splits(Config(task="names", source="folder", data_dir=folder))
        self.assertEqual(list(from_folder.class_names), ["Czech", "Greek"])
        self.assertIsNot(from_folder, embedded)


class RnnkitCommandTest(tf.test.TestCase):
    def test_version_and_the_subcommands(self):
        status, out, _ = call(command.main, ["--version"])
        self.assertEqual((status, out.strip()), (0, "rnnkit 0.1.0"))
        self.assertEqual(sorted(command.commands()),
                         ["export", "export-predict", "predict", "report", "train", "tune"])
        status, out, _ = call(command.main, ["--help"])
        self.assertEqual(status, 0)
        self.assertIn("python -m tuning.search", out)

    def test_unknown_command_and_bad_flags_are_one_line_naming_the_command(self):
        status, _, err = call(command.main, ["trian"])
        self.assertEqual((status, err.count("\n")), (2, 1))
        self.assertIn("unknown command 'trian'", err)
        status, _, err = call(command.main, ["train", "--task", "adder", "--len", "0"])
        self.assertEqual((status, err.count("\n")), (2, 1))
        self.assertTrue(err.startswith("rnnkit train: error: argument --len"), err)
        status, _, err = call(command.main, ["export-predict", "missing.tflite", "1+2"])
        self.assertEqual((status, err.count("\n")), (2, 1))
        self.assertTrue(err.startswith("rnnkit export-predict: error:"), err)

    def test_console_script_is_installed(self):
        done = subprocess.run(["rnnkit", "--version"], capture_output=True, text=True, timeout=120)
        self.assertEqual((done.returncode, done.stdout.strip()), (0, "rnnkit 0.1.0"))
