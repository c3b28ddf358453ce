"""Predict inputs for every task, and bad input to the export and predict CLIs: one line, exit status 2."""
import json
import os
import shutil
import tempfile

from PIL import Image, ImageDraw
import numpy as np
import tensorflow as tf

from export import __main__ as export_cli
from export import predict as export_predict
from rnnkit import predict as rnnkit_predict
from rnnkit import train
from rnnkit.core import codecs
from rnnkit.core.config import make_config
from rnnkit.core.errors import UsageError
from rnnkit.core.metadata import metadata_for
from rnnkit.tasks import get_task
from tests.clitools import call, fresh_dir
from tests.test_export import TINY


def metadata(task_name, shape, dtype="int32", **overrides):
    """Export metadata for a task's default config with the given model input shape."""
    task = get_task(task_name)
    return metadata_for(task, make_config(task, overrides), shape, dtype, "model.tflite", {})


class CodecTest(tf.test.TestCase):
    def setUp(self):
        self.folder = fresh_dir(self)

    def test_adder_and_binary_add_operands_are_lsb_first_and_padded(self):
        x = codecs.encode(metadata("adder", (1, None, 2)), "123+4")
        self.assertAllEqual(x[0, :, 0], [3, 2, 1, 0])
        self.assertAllEqual(x[0, :, 1], [4, 0, 0, 0])
        bits = codecs.encode(metadata("binary_add", (1, None, 2), "float32"), "110+1")
        self.assertAllEqual(bits[0, :, 0], [-1, 1, 1, -1])
        output = np.zeros((1, 4, 10), np.float32)
        output[0, [0, 1, 2, 3], [7, 2, 1, 0]] = 1
        self.assertEqual(codecs.describe(metadata("adder", (1, None, 2)), "123+4", x, output), "123 + 4 = 127")

    def test_recall_palindrome_and_names_tokens(self):
        recall = metadata("recall", (1, None), k=2)
        self.assertAllEqual(codecs.encode(recall, "3 5 8"), [[4, 6, 9]])
        with self.assertRaisesRegex(UsageError, "k=2"):
            codecs.encode(recall, "7")
        self.assertAllEqual(codecs.encode(metadata("palindrome", (1, None)), "31441"), [[3, 1, 4, 4, 1]])
        names = metadata("names", (1, None))
        self.assertIn("Vietnamese", names["labels"])
        tokens = codecs.encode(names, "Müller")  # romanized like the training lists
        probabilities = np.eye(len(names["labels"]), dtype=np.float32)[names["labels"].index("German")][None]
        line = codecs.describe(names, "Müller", tokens, probabilities)
        self.assertTrue(line.startswith("Muller → German 1.00, "), line)
        self.assertEqual(len(line.split(", ")), 3)  # the top three languages

    def test_a_dark_digit_on_light_paper_becomes_an_mnist_like_digit(self):
        path = os.path.join(self.folder, "seven.png")
        image = Image.new("L", (120, 200), 235)
        ImageDraw.Draw(image).line([(20, 20), (100, 20), (50, 180)], fill=15, width=12)
        image.save(path)
        x = codecs.encode(metadata("mnist", (1, 28, 28), "float32"), path)
        self.assertEqual(x.shape, (1, 28, 28))
        self.assertAllClose(x[0, :4].max(), 0.0)  # MNIST's empty margin
        self.assertGreater(x.max(), 0.9)  # white ink on black
        rows, cols = np.nonzero(x[0] > 0.2)
        self.assertLessEqual(rows.max() - rows.min() + 1, 20)
        self.assertAllClose(np.average(np.arange(28), weights=x[0].sum(1)), 14, atol=1.5)
        self.assertAllClose(np.average(np.arange(28), weights=x[0].sum(0)), 14, atol=1.5)

    def test_point_and_cifar_image(self):
        self.assertAllClose(codecs.encode(metadata("moons", (1, 2), "float32"), "0.5, -1"), [[0.5, -1.0]])
        path = os.path.join(self.folder, "photo.jpg")
        Image.new("RGB", (64, 48), (255, 0, 0)).save(path)
        x = codecs.encode(metadata("cifar10", (1, 32, 32, 3), "float32", data_dir="unused"), path)
        self.assertEqual(x.shape, (1, 32, 32, 3))
        self.assertAllClose(x[0, 16, 16], [1.0, 0.0, 0.0], atol=0.02)

    def test_bad_texts_and_images_raise_one_line_errors(self):
        blank = os.path.join(self.folder, "blank.png")
        Image.new("L", (30, 30), 255).save(blank)
        not_image = os.path.join(self.folder, "text.png")
        with open(not_image, "w") as handle:
            handle.write("not an image")
        cases = [("adder", (1, None, 2), "12+x", "only 0-9"),
                 ("adder", (1, None, 2), "12", "two decimal numbers joined"),
                 ("adder", (1, None, 2), "1+", "two decimal numbers joined"), ("adder", (1, None, 2), "", "empty"),
                 ("adder", (1, None, 2), "1" * 100_001 + "+1", "at most 100000"),
                 ("adder", (1, 5, 2), "12345+1", "at most 4 digits"),
                 ("binary_add", (1, None, 2), "102+1", "only 0-1"), ("recall", (1, None), "3 a 5", "only 0-9"),
                 ("recall", (1, 4), "1 2 3 4 5", "at most 4 digits"),
                 ("palindrome", (1, 5), "1 2 3", "palindromes of 6 digits"), ("names", (1, None), "123", "no letters"),
                 ("names", (1, None), "☃☃", "no letters"), ("names", (1, 3), "Nguyen", "at most 3 characters"),
                 ("moons", (1, 2), "1", "two"), ("moons", (1, 2), "a,b", "two numbers"),
                 ("moons", (1, 2), "nan,1", "finite"), ("moons", (1, 2), "1e9,1", "finite"),
                 ("mnist", (1, 28, 28), os.path.join(self.folder, "missing.png"), "not an image file"),
                 ("mnist", (1, 28, 28), not_image, "cannot read"), ("mnist", (1, 28, 28), blank, "blank")]
        for task, shape, text, message in cases:
            with self.subTest(task=task, text=text[:20]):
                with self.assertRaisesRegex(UsageError, message):
                    codecs.encode(metadata(task, shape, "float32" if task in ("moons", "mnist") else "int32"), text)


class BadCliInputTest(tf.test.TestCase):
    """Every bad input: exit status 2, one line on stderr naming the problem, no traceback, files untouched."""

    @classmethod
    def setUpClass(cls):
        cls.root = cls.enterClassContext(tempfile.TemporaryDirectory())
        cls.run_dir = os.path.join(cls.root, "run")
        status, _, err = call(train.main, ["--task", "recall", "--units", "4", "--embed-dim", "2", *TINY,
                                           "--out", cls.run_dir])
        assert status == 0, err
        cls.export_dir = os.path.join(cls.root, "export")
        status, _, err = call(export_cli.main, [cls.run_dir, "--out", cls.export_dir, "--check-samples", "8"])
        assert status == 0, err

    def setUp(self):
        self.folder = tempfile.mkdtemp(dir=self.root)

    def copy_export(self, edit):
        """A copy of the export folder changed by `edit(folder)`; returns its model path."""
        folder = tempfile.mkdtemp(dir=self.folder)
        os.rmdir(folder)
        shutil.copytree(self.export_dir, folder)
        edit(folder)
        return os.path.join(folder, "model.tflite")

    def write(self, name, content, mode="w"):
        path = os.path.join(self.folder, name)
        with open(path, mode) as handle:
            handle.write(content)
        return path

    def edit_metadata(self, change):
        def edit(folder):
            path = os.path.join(folder, "rnnkit_export.json")
            with open(path) as handle:
                data = json.load(handle)
            change(data)
            with open(path, "w") as handle:
                json.dump(data, handle)
        return edit

    def test_bad_inputs_of_the_export_and_predict_clis(self):
        model = os.path.join(self.export_dir, "model.tflite")
        fake_run = os.path.join(self.folder, "fake-run")
        os.makedirs(fake_run)
        self.write("fake-run/config.json", "{not json")
        truncated_run = os.path.join(self.folder, "truncated-run")
        shutil.copytree(self.run_dir, truncated_run)
        with open(os.path.join(truncated_run, "model.keras"), "r+b") as handle:
            handle.truncate(100)
        no_model_run = os.path.join(self.folder, "no-model")
        os.makedirs(no_model_run)
        shutil.copy(os.path.join(self.run_dir, "config.json"), no_model_run)
        other_task = os.path.join(self.folder, "other-task")
        shutil.copytree(self.run_dir, other_task)
        with open(os.path.join(other_task, "config.json")) as handle:
            config = json.load(handle)
        config["task"] = "unknown_task"
        with open(os.path.join(other_task, "config.json"), "w") as handle:
            json.dump(config, handle)
        existing = os.path.join(self.folder, "existing")
        os.makedirs(existing)
        self.write("existing/keep.txt", "precious")
        cases = [
            (export_predict.main, [model, "3 x 5"], "only 0-9"),
            (export_predict.main, [model, ""], "empty"),
            (export_predict.main, [model, "1" * 100_001], "at most 100000"),
            (export_predict.main, [model, "٣ ٥"], "only 0-9"),
            (export_predict.main, [model], "required"),
            (export_predict.main, [model, "1 2 3", "--threads", "0"], "--threads"),
            (export_predict.main, [os.path.join(self.folder, "none.tflite"), "1 2 3"], "no rnnkit_export.json"),
            (export_predict.main, [self.copy_export(lambda f: open(os.path.join(f, "model.tflite"), "w").write(
                "this is not a flatbuffer")), "1 2 3"], "not a TFLite model"),
            (export_predict.main, [self.copy_export(lambda f: os.remove(os.path.join(f, "rnnkit_export.json"))),
                                   "1 2 3"], "no rnnkit_export.json"),
            (export_predict.main, [self.copy_export(lambda f: open(os.path.join(f, "rnnkit_export.json"), "w").write(
                "{oops")), "1 2 3"], "not valid JSON"),
            (export_predict.main, [self.copy_export(self.edit_metadata(lambda d: d.pop("labels"))), "1 2 3"],
             "'labels'"),
            (export_predict.main, [self.copy_export(self.edit_metadata(lambda d: d.update(codec="klingon"))),
                                   "1 2 3"], "unknown codec"),
            (export_predict.main, [self.copy_export(self.edit_metadata(lambda d: d["input"].update(dtype="float32"))),
                                   "1 2 3"], "says float32"),
            (export_predict.main, [self.copy_export(lambda f: os.rename(os.path.join(f, "model.tflite"),
                                                                        os.path.join(f, "other.tflite"))), "1 2"],
             "not a file"),
            (rnnkit_predict.main, [self.run_dir, "3 x 5"], "only 0-9"),
            (rnnkit_predict.main, [self.run_dir, "1 2", "--frobnicate"], "unrecognized"),
            (rnnkit_predict.main, [os.path.join(self.folder, "missing"), "1 2"], "not a run folder"),
            (rnnkit_predict.main, [fake_run, "1 2"], "not valid JSON"),
            (rnnkit_predict.main, [truncated_run, "1 2"], "cannot load"),
            (rnnkit_predict.main, [no_model_run, "1 2"], "did not finish"),
            (rnnkit_predict.main, [other_task, "1 2"], "unknown task"),
            (rnnkit_predict.main, [self.folder, "1 2"], "no config.json"),
            (export_cli.main, [self.run_dir, "--format", "onnx"], "--format"),
            (export_cli.main, [self.run_dir, "--quantize", "int4"], "--quantize"),
            (export_cli.main, [self.run_dir, "--format", "saved_model", "--quantize", "int8"], "tflite only"),
            (export_cli.main, [self.run_dir, "--out", existing], "not empty"),
            (export_cli.main, [self.run_dir, "--check-samples", "0"], "--check-samples"),
            (export_cli.main, [os.path.join(self.folder, "missing")], "not a run folder"),
            (export_cli.main, [truncated_run], "cannot load"),
            (export_cli.main, [], "required"),
        ]
        for main, argv, message in cases:
            with self.subTest(cli=main.__module__, argv=[a[:40] for a in argv]):
                status, out, err = call(main, argv)
                self.assertEqual(status, 2, err)
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertIn(message, err)
                self.assertNotIn("Traceback", err)
        with open(os.path.join(existing, "keep.txt")) as handle:
            self.assertEqual(handle.read(), "precious")
        self.assertEqual(sorted(os.listdir(existing)), ["keep.txt"])


class LabelledFolderTest(tf.test.TestCase):
    """`rnnkit predict RUN DIR` over a folder of labelled digit images: accuracy and a confusion matrix."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = cls.enterClassContext(tempfile.TemporaryDirectory())
        cls.run_dir = os.path.join(cls.root, "mnist")
        status, _, err = call(train.main, ["--task", "mnist", "--units", "8", "--epochs", "1", "--steps-per-epoch",
                                           "20", "--no-augment", "--no-bidirectional", "--out", cls.run_dir])
        assert status == 0, err
        x, y = get_task("mnist").splits(make_config(get_task("mnist"), {})).test
        picks = [int(i) for digit in range(10) for i in np.flatnonzero(y == digit)[:2]]
        cls.folder = os.path.join(cls.root, "digits")
        for i in picks:  # dark ink on white paper, larger than MNIST's 28 × 28
            os.makedirs(os.path.join(cls.folder, str(y[i])), exist_ok=True)
            Image.fromarray((255 - 255 * x[i]).astype(np.uint8)).resize((84, 84)).save(
                os.path.join(cls.folder, str(y[i]), f"{i}.png"))
        Image.fromarray((255 - 255 * x[picks[0]]).astype(np.uint8)).save(os.path.join(cls.folder, "0_loose.png"))

    def test_accuracy_and_confusion_agree_with_answering_each_file(self):
        status, out, err = call(rnnkit_predict.main, [self.run_dir, self.folder])
        self.assertEqual(status, 0, err)
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith(f"{self.folder}: 21 images, accuracy "), lines[0])
        matrix = np.array([[int(v) for v in line.split()[1:]] for line in lines[-10:]])
        self.assertEqual(matrix.sum(), 21)
        self.assertEqual(matrix.sum(axis=1).tolist(), [3] + [2] * 9)  # 0_loose.png is labelled by its name
        files = [os.path.join(root, name) for root, _, names in os.walk(self.folder) for name in names]
        status, single, err = call(rnnkit_predict.main, [self.run_dir, *files])
        self.assertEqual(status, 0, err)
        right = sum(line.split("→ ")[1].split()[0] == (os.path.basename(os.path.dirname(path))
                                                        if os.path.dirname(path) != self.folder else "0")
                    for path, line in zip(files, single.splitlines()))
        self.assertEqual(np.trace(matrix), right)
        self.assertIn(f"accuracy {right / 21:.4f} ({right} right)", lines[0])

    def test_an_unknown_label_is_one_line_and_exit_2(self):
        folder = fresh_dir(self)
        os.makedirs(os.path.join(folder, "seven"))
        shutil.copy(os.path.join(self.folder, "0_loose.png"), os.path.join(folder, "seven", "a.png"))
        status, _, err = call(rnnkit_predict.main, [self.run_dir, folder])
        self.assertEqual((status, err.count("\n")), (2, 1))
        self.assertIn("label 'seven' is not one of the model's classes", err)
