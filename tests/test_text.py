"""`--task text`: labelled short texts from a folder of <label>.txt files or a text,label CSV."""
import contextlib
import io
import json
import os
import re
import tempfile

import numpy as np
import tensorflow as tf

from export import __main__ as export_cli
from export import predict as export_predict
import rnnkit
from rnnkit import predict as rnnkit_predict
from rnnkit import train
from rnnkit.core import codecs
from rnnkit.tasks import TASKS, names_data, text
from tests.clitools import assert_refused, call, fresh_dir

FLAGS = ["--units", "8", "--embed-dim", "4", "--no-ngrams", "--epochs", "6", "--batch-size", "16", "--patience", "0",
         "--lr-schedule", "none"]


def write_folder(folder, count, seed):
    """<label>.txt files: short texts of digits, of vowels, or of punctuation, one a line."""
    rng = np.random.default_rng(seed)
    alphabets = {"digits": "0123456789", "vowels": "aeiouAEIOU", "marks": "!?.,;:-"}
    for label, alphabet in alphabets.items():
        lines = {"".join(rng.choice(list(alphabet), rng.integers(3, 12))) for _ in range(count)}
        with open(os.path.join(folder, f"{label}.txt"), "w", encoding="utf-8") as handle:
            handle.write("\n".join(sorted(lines)) + "\n")


class TextTaskTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tf.keras.utils.set_random_seed(0)
        cls.root = cls.enterClassContext(tempfile.TemporaryDirectory())
        cls.data = os.path.join(cls.root, "data")
        os.mkdir(cls.data)
        write_folder(cls.data, 80, seed=1)
        cls.run_dir = os.path.join(cls.root, "run")
        cls.result = call(train.main, ["--task", "text", "--data", cls.data, *FLAGS, "--out", cls.run_dir])

    def test_it_learns_with_per_class_figures_and_the_loader_report(self):
        status, out, err = self.result
        self.assertEqual(status, 0, err)
        with open(os.path.join(self.run_dir, "metrics.json")) as handle:
            metrics = json.load(handle)
        self.assertGreaterEqual(metrics["test"]["accuracy"], 0.9)
        self.assertEqual(sorted(metrics["per_class"]), ["digits", "marks", "vowels"])
        self.assertEqual(sorted(metrics["data"]), ["digits", "marks", "vowels"])
        table = out[out.index("\nlabel ") + 1:]  # the per-label loader table after the results, headed by label
        self.assertIn("kept", table.splitlines()[0])
        self.assertTrue(any(line.startswith("vowels ") for line in table.splitlines()))

    def test_keras_and_litert_give_the_same_answers(self):
        inputs = ["31415926", "aeiou ea", "?!;..,"]
        status, keras_out, err = call(rnnkit_predict.main, [self.run_dir, *inputs])
        self.assertEqual(status, 0, err)
        self.assertEqual([line.split("→ ")[1].split()[0] for line in keras_out.splitlines()],
                         ["digits", "vowels", "marks"])
        folder = os.path.join(fresh_dir(self), "lite")
        status, _, err = call(export_cli.main, [self.run_dir, "--out", folder])
        self.assertEqual(status, 0, err)
        status, lite_out, err = call(export_predict.main, [os.path.join(folder, "model.tflite"), *inputs])
        self.assertEqual(status, 0, err)
        self.assertEqual(lite_out, keras_out)
        # The labelled folder itself: one summary, the same in Keras and in LiteRT, counting every text.
        status, keras_out, err = call(rnnkit_predict.main, [self.run_dir, self.data])
        self.assertEqual(status, 0, err)
        cases = sum(len(text.read_texts(self.data)[label]) for label in ("digits", "marks", "vowels"))
        self.assertRegex(keras_out.splitlines()[0],
                         rf"^{re.escape(self.data)}: {cases} cases, accuracy (0\.9\d{{3}}|1\.0000) ")
        status, lite_out, err = call(export_predict.main, [os.path.join(folder, "model.tflite"), self.data])
        self.assertEqual(status, 0, err)
        self.assertEqual(lite_out, keras_out)

    def test_a_csv_reads_like_a_folder(self):
        folder = fresh_dir(self)
        path = os.path.join(folder, "texts.csv")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write('Text,Label\n"Привет, мир",ru\nhello world,en\nhello world,en\n')
        self.assertEqual(text.read_texts(path), {"ru": ["Привет, мир"], "en": ["hello world", "hello world"]})
        self.assertEqual(text.fold("  Привет,   мир "), "Privet, mir")
        metadata = {"codec": "text", "labels": ["a"], "input": {"shape": [1, -1], "alphabet": text.ALPHABET,
                                                                "max_chars": 64}}
        self.assertAllEqual(codecs.encode(metadata, "Привет,   мир"), codecs.encode(metadata, "Privet, mir"))

    def test_spreadsheet_and_notepad_files_read_like_plain_ones(self):
        # A byte-order mark (Excel's "CSV UTF-8", Windows Notepad) and ';' or tab separators change nothing read.
        folder = fresh_dir(self)
        expected = {"ru": ["Привет, мир"], "en": ["hello; world"]}
        for name, content in (("comma.csv", '\ufefftext,label\r\n"Привет, мир",ru\r\nhello; world,en\r\n'),
                           ("semicolon.csv", '\ufeffText;Label\r\nПривет, мир;ru\r\n"hello; world";en\r\n'),
                           ("tab.csv", "text\tlabel\nПривет, мир\tru\nhello; world\ten\n"),
                           ("tab.tsv", "text\tlabel\nПривет, мир\tru\nhello; world\ten\n")):
            with self.subTest(name=name):
                path = os.path.join(folder, name)
                with open(path, "w", encoding="utf-8", newline="") as handle:
                    handle.write(content)
                self.assertEqual(text.read_texts(path), expected)
        labels = os.path.join(folder, "labels")
        os.mkdir(labels)
        with open(os.path.join(labels, "Czech.txt"), "w", encoding="utf-8-sig") as handle:
            handle.write("Novak\r\nDvorak\r\n")
        self.assertEqual(text.read_texts(labels), {"Czech": ["Novak", "Dvorak"]})
        self.assertEqual(names_data.folder_surnames(labels), {"Czech": ["Novak", "Dvorak"]})

    def test_texts_longer_than_max_chars_are_counted_and_announced(self):
        cfg = rnnkit.configure("text", data=self.data, max_chars=8)
        task = TASKS["text"]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            data = task.splits(cfg)  # the first load of this folder at 8 characters
        texts = text.read_texts(self.data)  # distinct within a label, and no text under two labels: all kept
        expected = {label: sum(len(line) > 8 for line in lines) for label, lines in texts.items()}
        self.assertEqual({label: row["cut"] for label, row in data.report.items()}, expected)
        self.assertGreater(sum(expected.values()), 0)
        self.assertEqual(data.train[0].shape[1], 8)
        self.assertEqual(out.getvalue(), f"rnnkit: {sum(expected.values())} of {sum(map(len, texts.values()))} "
                                         "texts are longer than --max-chars 8: the model reads their first characters "
                                         "only\n")
        default = rnnkit.configure("text", data=self.data)  # 64: none cut, nothing said
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            task.announce(default, task.splits(default))
        self.assertEqual(out.getvalue(), "")

    def test_bad_inputs_exit_2_with_one_line(self):
        folder = fresh_dir(self)
        no_label = os.path.join(folder, "bad.csv")
        with open(no_label, "w", encoding="utf-8") as handle:
            handle.write("text,label\nfine,a\norphan,\n")
        no_header = os.path.join(folder, "plain.csv")
        with open(no_header, "w", encoding="utf-8") as handle:
            handle.write("fine,a\n")
        one_label, two_texts = os.path.join(folder, "one.csv"), os.path.join(folder, "two.csv")
        with open(one_label, "w", encoding="utf-8") as handle:
            handle.write("text,label\n" + "".join(f"text {number},solo\n" for number in range(30)))
        with open(two_texts, "w", encoding="utf-8") as handle:
            handle.write("text,label\nfirst,a\nsecond,b\n")
        for argv, message in ((["--task", "text"], "needs --data"),
                              (["--task", "text", "--data", no_label], "bad.csv:3: the label is empty"),
                              (["--task", "text", "--data", no_header], "plain.csv:1: the header must name"),
                              (["--task", "text", "--data", one_label], "one class only (solo); a classifier needs"),
                              (["--task", "text", "--data", two_texts], "too few cases for a test split"),
                              (["--task", "text", "--data", os.path.join(folder, "none")], "neither a folder")):
            with self.subTest(argv=argv):
                assert_refused(self, train.main, argv, message, folder)
