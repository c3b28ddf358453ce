"""`--task series`: the .ts, CSV and .npz readers on files the tests write, bad files refused in one line, and a
small model that learns, answers and exports with its normalization inside."""
import contextlib
import io
import json
import os
import shutil
import tempfile

import keras
import numpy as np
import tensorflow as tf

from export import __main__ as export_cli
from export import predict as export_predict
from export.streaming import step_module as streaming
import rnnkit
from rnnkit import predict as rnnkit_predict
from rnnkit import train
from rnnkit.core.errors import UsageError
from rnnkit.runs.artifacts import read_history
from rnnkit.tasks import TASKS, series_data
from rnnkit.tasks.series import (MANY_CHANNEL_FILTERS, MIN_VALIDATION, ONE_CHANNEL_FILTERS, RAW_CLIPNORM,
                                 SEARCH_VAL_FRACTION, VAL_FRACTION, validation_split)
from tests.clitools import assert_refused, call, fresh_dir
from tuning import search

MULTIVARIATE_TS = """# a comment
@problemName Toy
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true up down
@data
1,2,3,4:0,0,1,1:up
4,3,?,1:1,1,0,0:down
5,6,7:1,1,1:up
"""


# A two-channel series as predict takes it: the first channel rises over the model's 20 steps.
RISING = ",".join(str(v) for v in np.linspace(7, 13, 20)) + ":" + ",".join(["0"] * 20)


def write(folder, name, text):
    """Write `text` to folder/name; its path."""
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def toy_ts(n, length, seed):
    """A .ts text of `n` noisy series that rise ("up") or fall ("down"), two channels."""
    rng = np.random.default_rng(seed)
    lines = ["@problemName Slopes", "@univariate false", "@dimensions 2", "@equalLength true",
             f"@seriesLength {length}", "@classLabel true up down", "@data"]
    for i in range(n):
        label = "up" if i % 2 else "down"
        ramp = np.linspace(-1, 1, length) * (1 if label == "up" else -1) * 3 + 10
        first = ramp + rng.normal(0, 0.3, length)
        second = rng.normal(0, 1, length)
        lines.append(",".join(f"{v:.4f}" for v in first) + ":" + ",".join(f"{v:.4f}" for v in second) + ":" + label)
    return "\n".join(lines) + "\n"


def train_slopes(test_class, filters, extra=()):
    """Train a GRU 8 with `filters` (and `extra` flags) on 60 rising and falling series (40 to test) into
    test_class.run_dir, for the class's lifetime; its (status, stdout, stderr) go to test_class.status, .stdout,
    .stderr."""
    keras.utils.set_random_seed(0)
    test_class.folder = test_class.enterClassContext(tempfile.TemporaryDirectory())
    write(test_class.folder, "Slopes_TRAIN.ts", toy_ts(60, 20, seed=1))
    write(test_class.folder, "Slopes_TEST.ts", toy_ts(40, 20, seed=2))
    test_class.run_dir = os.path.join(test_class.folder, "run")
    test_class.status, test_class.stdout, test_class.stderr = call(train.main, [
        "--task", "series", "--data", os.path.join(test_class.folder, "Slopes_TRAIN.ts"), "--units", "8",
        "--filters", str(filters), "--epochs", "15", *extra, "--out", test_class.run_dir])


class ReadersTest(tf.test.TestCase):
    def test_ts_multivariate_unequal_with_missing_values(self):
        path = write(fresh_dir(self), "Toy_TRAIN.ts", MULTIVARIATE_TS)
        series, labels = series_data.read_series(path)
        self.assertEqual(labels, ["up", "down", "up"])
        self.assertEqual([case.shape for case in series], [(4, 2), (4, 2), (3, 2)])
        self.assertTrue(np.isnan(series[1][2, 0]))
        filled = series_data.fill_missing(series[1])
        self.assertAllClose(filled[:, 0], [4, 3, 2, 1])  # interpolated between its neighbours
        padded = series_data.stack(series, 5)
        self.assertEqual(padded.shape, (3, 5, 2))
        self.assertAllClose(padded[2, :, 0], [5, 6, 7, 7, 7])  # padded with the last value

    def test_csv_with_a_label_header_ragged_rows_and_empty_cells(self):
        folder = fresh_dir(self)
        series, labels = series_data.read_series(write(folder, "a.csv", "t1,t2,t3,label\n1,2,3,a\n4,,6,b\n7,8,,a\n"))
        self.assertEqual(labels, ["a", "b", "a"])
        self.assertEqual([len(case) for case in series], [3, 3, 2])  # a trailing empty cell shortens the row
        self.assertTrue(np.isnan(series[1][1, 0]))
        series, labels = series_data.read_series(write(folder, "b.csv", "0.5,0.25,x\n1.5,2.5,y\n"))
        self.assertEqual(labels, ["x", "y"])  # no header: the last column
        self.assertAllClose(series[1][:, 0], [1.5, 2.5])

    def test_a_spreadsheet_csv_reads_like_a_plain_one(self):
        # Excel's "CSV UTF-8" starts with a byte-order mark and ends lines with CRLF; in a locale whose decimal mark
        # is a comma it separates fields with ';'. Each reads as the plain file does.
        folder = fresh_dir(self)
        plain = series_data.read_series(write(folder, "plain.csv", "label,t1,t2\nup,0.5,1.5\ndown,2,\n"))
        variants = {"bom.csv": "\ufefflabel,t1,t2\r\nup,0.5,1.5\r\ndown,2,\r\n",
                    "semicolon.csv": "\ufefflabel;t1;t2\r\nup;0,5;1,5\r\ndown;2;\r\n",
                    "tab.tsv": "label\tt1\tt2\nup\t0.5\t1.5\ndown\t2\t\n"}
        for name, text in variants.items():
            with self.subTest(name=name):
                series, labels = series_data.read_series(write(folder, name, text))
                self.assertEqual(labels, plain[1])
                self.assertEqual(len(series), len(plain[0]))
                for case, expected in zip(series, plain[0]):
                    self.assertAllClose(case, expected)
        series, labels = series_data.read_series(write(folder, "headless.csv", "0,25;1,75;b\n"))
        self.assertEqual(labels, ["b"])
        self.assertAllClose(series[0][:, 0], [0.25, 1.75])
        ts = series_data.read_series(write(folder, "Bom.ts", "\ufeff" + MULTIVARIATE_TS))
        self.assertEqual(ts[1], ["up", "down", "up"])

    def test_npz_univariate_and_multivariate(self):
        folder = fresh_dir(self)
        path = os.path.join(folder, "u.npz")
        np.savez(path, X=np.arange(6.0).reshape(2, 3), y=np.array([1, 2]))
        series, labels = series_data.read_series(path)
        self.assertEqual((series[0].shape, labels), ((3, 1), ["1", "2"]))
        np.savez(path, X=np.zeros((2, 3, 4)), y=np.array(["a", "b"]))
        self.assertEqual(series_data.read_series(path)[0][1].shape, (3, 4))
        # Unequal lengths, NaN-padded: trailing all-NaN steps end a case; a NaN inside it stays a missing value.
        np.savez(path, X=np.array([[1.0, np.nan, 3.0, np.nan], [4.0, 5.0, np.nan, np.nan]]), y=np.array([1, 2]))
        series, _ = series_data.read_series(path)
        self.assertEqual([len(case) for case in series], [3, 2])
        self.assertTrue(np.isnan(series[0][1, 0]))

    def test_bad_npz_files_say_what_is_wrong(self):
        folder = fresh_dir(self)
        ragged = np.empty(2, dtype=object)
        ragged[0], ragged[1] = np.zeros(3), np.zeros(5)
        cases = [(dict(X=ragged, y=np.array([1, 2])), "holds Python objects, which rnnkit does not unpickle"),
                 (dict(data=np.zeros((2, 3)), labels=np.array([1, 2])), "needs arrays 'X' and 'y', found data, labels"),
                 (dict(X=np.array([["a", "b"]] * 2), y=np.array([1, 2])), "X must hold numbers"),
                 (dict(X=np.zeros((3, 4)), y=np.array([1, 2])), r"X must be \(cases, length")]
        for number, (arrays, message) in enumerate(cases):
            with self.subTest(message=message):
                path = os.path.join(folder, f"bad{number}.npz")
                np.savez(path, **arrays)
                with self.assertRaisesRegex(UsageError, message):
                    series_data.read_series(path)

    def test_the_ucr_archives_tsv_layout_reads_its_label_from_the_first_column(self):
        # The UCR archive's own files (GunPoint_TRAIN.tsv): no header, a tab, the class first, then the values.
        folder = fresh_dir(self)
        rows = [f"{1 + i % 2}\t" + "\t".join(f"{0.1 * i + 0.01 * step:.3f}" for step in range(5)) for i in range(6)]
        ucr = write(folder, "Toy_TRAIN.tsv", "\n".join(rows) + "\n")
        series, labels = series_data.read_series(ucr)
        self.assertEqual(labels, ["1", "2", "1", "2", "1", "2"])
        self.assertAllClose(series[1][:, 0], [0.1, 0.11, 0.12, 0.13, 0.14])
        self.assertEqual(series_data.label_side(ucr), "first")
        series, labels = series_data.read_series(ucr, "last")  # told otherwise: the last value is the label
        self.assertEqual((labels[1], len(series[1])), ("0.140", 5))
        # Where the first column does not read as classes, or both ends do, the label stays last.
        unique_first = write(folder, "u.csv", "".join(f"{i}.5,1,2,up\n" for i in range(6)))
        both = write(folder, "b.csv", "".join(f"{i % 2},7,{i % 3}\n" for i in range(6)))
        text_first = write(folder, "t.csv", "".join(f"{name},0.5,{i}.25\n" for i, name in enumerate("abab")))
        headed = write(folder, "h.csv", "t1,label,t2\n1,up,2\n3,down,4\n")
        decimal_commas = write(folder, "d.csv", "".join(f"{1 + i % 2};0,5;{i},25\n" for i in range(6)))
        self.assertEqual([series_data.label_side(path) for path in (unique_first, both, text_first, headed,
                                                                    decimal_commas)],
                         ["last", "last", "first", "header", "first"])
        self.assertIsNone(series_data.label_side(write(folder, "x.ts", MULTIVARIATE_TS)))
        # The loader summary lists numeric classes in numeric order, as the model's classes are.
        counts = series_data.summary("s.csv", series[:4], ["10", "2", "1", "2"])["classes"]
        self.assertEqual(list(counts.items()), [("1", 1), ("2", 2), ("10", 1)])

    def test_a_train_file_finds_its_test_sibling(self):
        folder = fresh_dir(self)
        train_path = write(folder, "Toy_TRAIN.ts", MULTIVARIATE_TS)
        self.assertIsNone(series_data.test_file(train_path))
        test_path = write(folder, "Toy_TEST.ts", MULTIVARIATE_TS)
        self.assertEqual(series_data.test_file(train_path), test_path)

    def test_malformed_files_name_the_file_and_the_line(self):
        folder = fresh_dir(self)
        cases = [("bad.ts", MULTIVARIATE_TS.replace("5,6,7", "5,x,7"), "bad.ts:12: 'x' is not a number"),
                 ("chan.ts", MULTIVARIATE_TS.replace("5,6,7:1,1,1:up", "5,6,7:up"), "chan.ts:12: 1 channels"),
                 ("nodata.ts", "@problemName X\n", "no @data line"),
                 ("stamps.ts", "@timeStamps true\n@data\n", "time-stamped"),
                 ("regression.ts", "@targetLabel true\n@data\n1,2,3:0.25\n", "regression.ts:1: a regression file"),
                 ("short.csv", "1\n", "short.csv:1: a row needs values and a label"),
                 ("file.txt", "1,2\n", "unknown format .txt"),
                 ("Set_TRAIN.arff", "@relation Set\n", r"unknown format .arff.*holds the same data as a .ts file")]
        for name, text, message in cases:
            with self.subTest(name=name):
                with self.assertRaisesRegex(UsageError, message):
                    series_data.read_series(write(folder, name, text))


class LabelColumnTest(tf.test.TestCase):
    def test_a_ucr_tsv_pair_trains_and_answers_with_labels_from_its_first_column(self):
        folder = fresh_dir(self)
        rng = np.random.default_rng(0)
        for part, count in (("TRAIN", 12), ("TEST", 6)):
            rows = [f"{1 + i % 2}\t" + "\t".join(f"{v:.4f}" for v in rng.normal(size=8)) for i in range(count)]
            write(folder, f"Toy_{part}.tsv", "\n".join(rows) + "\n")
        train_path, test_path = (os.path.join(folder, f"Toy_{part}.tsv") for part in ("TRAIN", "TEST"))
        task = TASKS["series"]
        cfg = rnnkit.configure("series", data=train_path)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            task.load_data(cfg)
        self.assertIn("each row's label is its first value", out.getvalue())
        self.assertEqual(task.splits(cfg).class_names, ("1", "2"))
        self.assertEqual(task.splits(cfg).test[0].shape, (6, 8, 1))
        info = task.codec_info(cfg)
        self.assertEqual(info["label_column"], "first")
        # predict reads a labelled file as training read it, even one too small for the rule to tell.
        two_rows = write(folder, "two.tsv", "2\t0.5\t0.25\n1\t1.5\t0.75\n")
        x, labels, _ = task.codec.read_cases({"input": info}, two_rows)
        self.assertEqual((labels, x.shape), (["2", "1"], (2, 8, 1)))
        # Told the label is last, the test file's classes are unknown; the refusal names the other column.
        assert_refused(self, train.main, ["--task", "series", "--data", train_path, "--label-column", "last"],
                       "give --label-column first", folder)


class DefaultModelTest(tf.test.TestCase):
    def test_the_first_convolution_is_wider_for_several_channels_unless_filters_is_given(self):
        folder = fresh_dir(self)
        rng = np.random.default_rng(0)
        labels = np.array(["a", "b"] * 10)
        for channels, filters, expected in ((1, None, ONE_CHANNEL_FILTERS), (3, None, MANY_CHANNEL_FILTERS),
                                            (3, 5, 5)):
            with self.subTest(channels=channels, filters=filters):
                path = os.path.join(folder, f"c{channels}.npz")
                np.savez(path, X=rng.normal(size=(20, 8, channels)), y=labels)
                cfg = rnnkit.configure("series", data=path, filters=filters)
                model = TASKS["series"].build_model(cfg)
                self.assertEqual(model.get_layer("conv_1").filters, expected)
                self.assertEqual(model.get_layer("conv_2").filters, 2 * expected)

    def test_state_dropout_is_off_by_default_and_drops_only_the_recurrent_state_in_training(self):
        path = os.path.join(fresh_dir(self), "c1.npz")
        np.savez(path, X=np.random.default_rng(0).normal(size=(20, 8, 1)), y=np.array(["a", "b"] * 10))
        task = TASKS["series"]
        self.assertNotIn("state_dropout", [layer.name for layer in task.build_model(rnnkit.configure(
            "series", data=path)).layers])
        self.assertEqual(task.default_space(rnnkit.configure("series", data=path))["state_dropout"], [0.0, 0.5])
        for filters in (None, 0):
            with self.subTest(filters=filters):
                keras.utils.set_random_seed(0)
                model = task.build_model(rnnkit.configure("series", data=path, filters=filters, state_dropout=0.5))
                dropped = model.get_layer("state_dropout")
                self.assertEqual(dropped.rate, 0.5)
                recurrent = [layer for layer in model.layers if isinstance(layer, keras.layers.GRU)]
                self.assertIs(dropped.input, recurrent[-1].output)
                features = keras.Model(model.inputs, dropped.output)
                x = np.random.default_rng(1).normal(size=(4, 8, 1)).astype(np.float32)
                self.assertAllEqual(features(x, training=False), features(x, training=False))
                self.assertGreater(np.mean(np.asarray(features(x, training=True)) == 0), 0.3)
        with self.assertRaises(UsageError):
            rnnkit.configure("series", data=path, state_dropout=1.0)


class RawReaderDefaultsTest(tf.test.TestCase):
    def test_filters_0_clips_gradients_unless_told_otherwise(self):
        flags = ["--task", "series", "--data", "x.ts"]
        for extra, clipnorm in (([], None), (["--filters", "0"], RAW_CLIPNORM), (["--filters", "4"], None),
                                (["--filters", "0", "--no-clipnorm"], None),
                                (["--filters", "0", "--clipnorm", "5"], 5.0)):
            with self.subTest(extra=extra):
                self.assertEqual(train.config_from_args([*flags, *extra])[0].clipnorm, clipnorm)


class TimeShiftTest(tf.test.TestCase):
    def test_each_training_series_moves_by_whole_steps_within_the_bound_repeating_its_ends(self):
        from rnnkit.models.layers import RandomTimeShift
        x = np.stack([np.arange(20.0) + 100 * row for row in range(8)])[..., None] * np.array([1.0, -1.0])
        layer = RandomTimeShift(0.1, seed=3)
        shifted = np.asarray(layer(x.astype(np.float32), training=True))
        shifts = set()
        for row, moved in zip(x, shifted):
            # moved[t] = row[clip(t - s)] for one s in [-2, 2], the same on both channels
            matches = [s for s in range(-2, 3) if np.array_equal(moved, row[np.clip(np.arange(20) - s, 0, 19)])]
            self.assertLen(matches, 1)
            shifts.add(matches[0])
        self.assertGreater(len(shifts), 1, "each series draws its own shift")
        self.assertAllEqual(layer(x, training=False), x)
        self.assertEqual(RandomTimeShift.from_config(layer.get_config()).fraction, 0.1)

    def test_the_flag_shifts_training_batches_only_and_is_off_by_default(self):
        path = os.path.join(fresh_dir(self), "ramps.npz")
        x = np.tile(np.arange(30.0), (16, 1))[..., None] + np.arange(16)[:, None, None]
        np.savez(path, X=x, y=np.array(["a", "b"] * 8))
        task = TASKS["series"]
        cfg = rnnkit.configure("series", data=path, batch_size=8, val_fraction=0.25)
        self.assertEqual(cfg.time_shift, 0.0)
        self.assertIsNone(task.preprocess(cfg, training=True))
        shifted = cfg.replace(time_shift=0.2)
        self.assertEqual(json.loads(shifted.to_json())["time_shift"], 0.2)
        train, _ = next(iter(task.build_inputs(shifted, "train")))
        steps = np.diff(np.asarray(train)[..., 0], axis=1)  # 1 between kept steps, 0 where an end repeats
        self.assertTrue(np.isin(steps, [0.0, 1.0]).all())
        self.assertGreater((steps == 0).sum(), 0, "some series moved")
        for split in ("val", "test"):
            batch, _ = next(iter(task.build_inputs(shifted, split)))
            self.assertTrue((np.diff(np.asarray(batch)[..., 0], axis=1) == 1).all(), split)


class ValidationSplitTest(tf.test.TestCase):
    def test_the_default_holds_cases_out_only_where_they_make_a_curve(self):
        small = np.arange(100) % 2
        large = np.arange(int(MIN_VALIDATION / VAL_FRACTION)) % 2
        self.assertEqual([len(part) for part in validation_split(small, None)], [100, 0])
        kept, val = validation_split(large, None)
        self.assertEqual(len(val), MIN_VALIDATION)
        self.assertAllEqual(np.bincount(large[val]), [MIN_VALIDATION // 2] * 2)  # stratified
        self.assertEqual([len(part) for part in validation_split(large, 0.0)], [len(large), 0])
        kept, val = validation_split(small, 0.2)
        self.assertEqual((len(kept), len(val)), (80, 20))
        self.assertFalse(set(kept) & set(val))

    def test_both_loops_train_with_and_without_validation_cases(self):
        folder = fresh_dir(self)
        data = write(folder, "Slopes_TRAIN.ts", toy_ts(20, 8, seed=1))
        write(folder, "Slopes_TEST.ts", toy_ts(10, 8, seed=2))
        tiny = ["--task", "series", "--data", data, "--units", "4", "--filters", "2", "--epochs", "2",
                "--steps-per-epoch", "2", "--show-samples", "0"]
        for loop, extra, held_out in (("function", [], 0), ("fit", ["--val-fraction", "0.2"], 4)):
            with self.subTest(loop=loop):
                out = os.path.join(folder, loop)
                status, _, err = call(train.main, [*tiny, "--loop", loop, *extra, "--out", out])
                self.assertEqual(status, 0, err)
                with open(os.path.join(out, "metrics.json")) as handle:
                    self.assertEqual(json.load(handle)["data"]["validation_cases"], held_out)
                history = read_history(os.path.join(out, "history.csv"))
                self.assertLen(history["loss"], 2)
                self.assertEqual("val_loss" in history, bool(held_out))

    def test_what_watches_validation_is_refused_without_it(self):
        folder = fresh_dir(self)
        data = write(folder, "Slopes_TRAIN.ts", toy_ts(20, 8, seed=1))
        write(folder, "Slopes_TEST.ts", toy_ts(10, 8, seed=2))
        for extra, message in ((["--lr-schedule", "plateau"], "--lr-schedule plateau watches the validation loss"),
                               (["--patience", "3"], "--patience watches the validation loss")):
            with self.subTest(extra=extra):
                assert_refused(self, train.main, ["--task", "series", "--data", data, *extra], message, folder)
        status, _, err = call(search.main, ["--task", "series", "--data", data, "--val-fraction", "0",
                                            "--max-trials", "1", "--dir", os.path.join(folder, "search")])
        self.assertEqual(status, 2, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("a search ranks its trials on validation cases, and --val-fraction 0 holds none out", err)
        self.assertFalse(os.path.exists(os.path.join(folder, "search")))

    def test_a_search_holds_validation_cases_out_where_a_run_would_not(self):
        folder = fresh_dir(self)
        data = write(folder, "Slopes_TRAIN.ts", toy_ts(20, 8, seed=1))
        write(folder, "Slopes_TEST.ts", toy_ts(10, 8, seed=2))
        task = TASKS["series"]
        self.assertEmpty(task.splits(rnnkit.configure("series", data=data)).val[1])
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            cfg, _, _ = search.parse(["--task", "series", "--data", data])
        self.assertEqual(cfg.val_fraction, SEARCH_VAL_FRACTION)
        self.assertIn("20% of the training cases held out", out.getvalue())
        train_labels, val_labels = task.splits(cfg).train[1], task.splits(cfg).val[1]
        self.assertLen(val_labels, 4)
        self.assertEqual(sorted(set(val_labels)), sorted(set(train_labels)))
        # A file large enough for the run's own 10% keeps it, and nothing is said.
        large = write(folder, "Many_TRAIN.ts", toy_ts(MIN_VALIDATION * 10, 8, seed=3))
        write(folder, "Many_TEST.ts", toy_ts(10, 8, seed=4))
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            cfg, _, _ = search.parse(["--task", "series", "--data", large])
        self.assertIsNone(cfg.val_fraction)
        self.assertLen(task.splits(cfg).val[1], MIN_VALIDATION)
        self.assertNotIn("held out", out.getvalue())


class SeriesTaskTest(tf.test.TestCase):
    """One small run on rising and falling two-channel series: it learns, answers and exports alike (with its
    recurrent state dropped in training, so every export meets a Dropout layer)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        train_slopes(cls, filters=4, extra=("--state-dropout", "0.5"))

    def test_it_learns_and_prints_and_stores_the_loader_summary(self):
        self.assertEqual(self.status, 0, self.stderr)
        self.assertIn("Slopes_TRAIN.ts: 60 series, 2 channel(s), length 20, 0 missing values, 2 classes", self.stdout)
        with open(os.path.join(self.run_dir, "metrics.json")) as handle:
            metrics = json.load(handle)
        self.assertGreaterEqual(metrics["test"]["accuracy"], 0.95)
        self.assertEqual(metrics["data"]["files"][1]["cases"], 40)
        self.assertEqual(sorted(metrics["per_class"]), ["down", "up"])
        # 60 training cases are too few for the default to hold any out: all train, and no curve is invented.
        self.assertIn("all 60 training cases train the model", self.stdout)
        self.assertEqual(metrics["data"]["validation_cases"], 0)
        history = read_history(os.path.join(self.run_dir, "history.csv"))
        self.assertLen(history["loss"], 15)
        self.assertFalse([key for key in history if key.startswith("val_")], history.keys())

    def test_keras_litert_and_tflm_answer_alike_with_the_normalization_inside(self):
        falling = ",".join(str(v) for v in np.linspace(13, 7, 15)) + ":" + ",".join(["0.5"] * 15)  # padded
        status, keras_out, err = call(rnnkit_predict.main, [self.run_dir, RISING, falling])
        self.assertEqual(status, 0, err)
        self.assertEqual([line.split("→ ")[1].split()[0] for line in keras_out.splitlines()], ["up", "down"])
        for flags, runtime in (([], []), (["--target", "micro"], ["--runtime", "micro"])):
            folder = os.path.join(fresh_dir(self), "export")
            status, out, err = call(export_cli.main, [self.run_dir, *flags, "--out", folder])
            self.assertEqual(status, 0, err)
            with open(os.path.join(folder, "rnnkit_export.json")) as handle:
                check = json.load(handle)["check"]
            self.assertLessEqual(abs(check["export"]["accuracy"] - check["keras"]["accuracy"]), 0.03)
            status, lite_out, err = call(export_predict.main, [os.path.join(folder, "model.tflite"), *runtime,
                                                               RISING, falling])
            self.assertEqual(status, 0, err)
            self.assertEqual([line.split("→ ")[1].split()[0] for line in lite_out.splitlines()], ["up", "down"])

    def test_a_labelled_file_is_answered_with_the_runs_test_accuracy_in_every_runtime(self):
        test_file = os.path.join(self.folder, "Slopes_TEST.ts")
        with open(os.path.join(self.run_dir, "metrics.json")) as handle:
            right = round(json.load(handle)["test"]["accuracy"] * 40)
        status, keras_out, err = call(rnnkit_predict.main, [self.run_dir, test_file])
        self.assertEqual(status, 0, err)
        self.assertEqual(keras_out.splitlines()[0], f"{test_file}: 40 cases, accuracy {right / 40:.4f} ({right} right)")
        self.assertIn("confusion (rows: true, columns: predicted)", keras_out)
        matrix = [[int(count) for count in line.split()[1:]] for line in keras_out.splitlines()[-2:]]
        self.assertEqual((sum(map(sum, matrix)), matrix[0][0] + matrix[1][1]), (40, right))
        for flags, runtime in (([], []), (["--target", "micro"], ["--runtime", "micro"])):
            folder = os.path.join(fresh_dir(self), "export")
            status, _, err = call(export_cli.main, [self.run_dir, *flags, "--out", folder])
            self.assertEqual(status, 0, err)
            status, out, err = call(export_predict.main, [os.path.join(folder, "model.tflite"), *runtime, test_file])
            self.assertEqual(status, 0, err)
            self.assertEqual(out.splitlines()[0], keras_out.splitlines()[0], runtime)
        # A file whose labels or channels the model does not know is refused in one line naming the file.
        odd = fresh_dir(self)
        for name, text, message in (("odd.csv", "label,a,b\nup,1,2\n",
                                     "odd.csv: 1 channel(s) where this model reads 2"),
                                    ("odd.ts", "@data\n1,2:3,4:up\n1,2:3,4:sideways\n",
                                     "odd.ts: case 2: label 'sideways' is not one of the model's classes (down, up)")):
            status, _, err = call(rnnkit_predict.main, [self.run_dir, write(odd, name, text)])
            self.assertEqual((status, len(err.strip().splitlines())), (2, 1), err)
            self.assertIn(message, err)

    def test_predict_needs_the_run_folder_only(self):
        # The data file moved away (here: config.json naming one that is gone): predict answers from the run's
        # record of its labels and input length.
        moved = os.path.join(fresh_dir(self), "run")
        shutil.copytree(self.run_dir, moved)
        with open(os.path.join(moved, "config.json")) as handle:
            config = json.load(handle)
        self.assertTrue(os.path.isabs(config["data"]))
        config["data"] = os.path.join(fresh_dir(self), "gone", "Slopes_TRAIN.ts")
        with open(os.path.join(moved, "config.json"), "w") as handle:
            json.dump(config, handle)
        status, out, err = call(rnnkit_predict.main, [moved, RISING])
        self.assertEqual(status, 0, err)
        self.assertEqual(out, call(rnnkit_predict.main, [self.run_dir, RISING])[1])
        # An export calibrates and checks on the data, so it says in one line that the file is gone.
        assert_refused(self, export_cli.main, [moved], "an export calibrates and checks on the run's data, and "
                       f"--data {config['data']} is gone", fresh_dir(self))
        self.assertEqual(TASKS["series"].option_table()["data"].parser()("data/a.csv"), os.path.abspath("data/a.csv"))

    def test_a_16x8_micro_export_runs_in_tflm_like_keras(self):
        folder = os.path.join(fresh_dir(self), "export")
        status, out, err = call(export_cli.main, [self.run_dir, "--target", "micro", "--activations", "int16",
                                                  "--out", folder])
        self.assertEqual(status, 0, err)
        with open(os.path.join(folder, "rnnkit_export.json")) as handle:
            metadata = json.load(handle)
        self.assertEqual(metadata["quantize"], "16x8")
        self.assertEqual(metadata["input_quantization"]["dtype"], "int16")
        self.assertEqual(metadata["loop"], "unrolled")  # 16x8 calibration cannot see inside a WHILE loop
        check = metadata["check"]
        self.assertEqual(check["export"]["accuracy"], check["keras"]["accuracy"])
        # int16 steps are 256 times finer than int8's: the outputs agree to a few hundredths at most.
        self.assertLess(check["max_abs_diff"], 0.05)
        status, out, err = call(export_predict.main, [os.path.join(folder, "model.tflite"), "--runtime", "micro",
                                                      RISING])
        self.assertEqual(status, 0, err)
        self.assertEqual(out.split("→ ")[1].split()[0], "up")

    def test_bad_inputs_exit_2_with_one_line(self):
        folder = fresh_dir(self)
        write(folder, "Odd_TRAIN.ts", toy_ts(10, 8, seed=3))
        write(folder, "Odd_TEST.ts", toy_ts(10, 8, seed=4).replace(":down", ":sideways"))
        write(folder, "Mixed_TRAIN.ts", toy_ts(10, 8, seed=3))
        write(folder, "Mixed_TEST.ts", MULTIVARIATE_TS.replace("@dimensions 2", "@dimensions 1")
              .replace(":0,0,1,1", "").replace(":1,1,0,0", "").replace(":1,1,1", ""))
        cases = [(["--task", "series"], "needs --data"),
                 (["--task", "series", "--data", os.path.join(folder, "Odd_TRAIN.ts")],
                  "Odd_TEST.ts: label 'sideways' has no training example"),
                 (["--task", "series", "--data", os.path.join(folder, "Mixed_TRAIN.ts")],
                  "Mixed_TEST.ts: 1 channels where"),
                 (["--task", "series", "--data", os.path.join(folder, "missing.ts")], "is not a file"),
                 (["--task", "series", "--data", os.path.join(folder, "missing.csv")], "is not a file"),
                 (["--task", "series", "--data", write(folder, "pair.csv", "1,2,3,a\n2,3,4,b\n")],
                  "pair.csv: too few series to hold 20% of each class out as a test split")]
        for argv, message in cases:
            with self.subTest(argv=argv):
                assert_refused(self, train.main, argv, message, folder)
        status, _, err = call(rnnkit_predict.main, [self.run_dir, os.path.join(folder, "moved_TEST.ts")])
        self.assertEqual((status, len(err.strip().splitlines())), (2, 1), err)
        self.assertIn("moved_TEST.ts' is not a file", err)
        status, _, err = call(rnnkit_predict.main, [self.run_dir, "1,2,3"])  # one channel for a two-channel model
        self.assertEqual(status, 2, err)
        self.assertIn("2 channel(s)", err)
        status, _, err = call(rnnkit_predict.main, [self.run_dir, RISING + ":up"])  # a .ts line, label and all
        self.assertEqual(status, 2, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("got 3 (a .ts line ends with its label, ':up': leave it off)", err)


class StreamingSeriesTest(tf.test.TestCase):
    """`--filters 0`: no convolution, so the series model streams, in LiteRT and in TFLM, any number of steps."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        train_slopes(cls, filters=0, extra=("--state-dropout", "0.2"))

    def test_it_learns_without_a_convolution(self):
        self.assertEqual(self.status, 0, self.stderr)
        model = keras.saving.load_model(os.path.join(self.run_dir, "model.keras"))
        self.assertEmpty([layer for layer in model.layers if isinstance(layer, keras.layers.Conv1D)])
        with open(os.path.join(self.run_dir, "metrics.json")) as handle:
            self.assertGreaterEqual(json.load(handle)["test"]["accuracy"], 0.9)

    def test_each_stream_answers_every_step_like_keras_and_a_short_series_at_its_own_end(self):
        model = keras.saving.load_model(os.path.join(self.run_dir, "model.keras"))
        # 12 steps, fewer than the 20 trained on, starting below zero as a user's recording may.
        steps = np.stack([np.linspace(-1, 12, 12), np.zeros(12)], axis=1).astype(np.float32)
        text = ",".join(f"{v:g}" for v in steps[:, 0]) + ":" + ",".join(f"{v:g}" for v in steps[:, 1])
        # Keras at every step: the running model reads the trained 20 steps, and a step sees only those before it.
        padded = np.concatenate([steps, np.repeat(steps[-1:], 8, axis=0)])
        running = streaming.running_model(model).predict(padded[None], verbose=0)[0]
        status, out, err = call(rnnkit_predict.main, [self.run_dir, text])  # "-1,…" is an input, not a flag
        self.assertEqual(status, 0, err)
        self.assertStartsWith(out, "series of 12 steps → ")
        for extra, tolerance in (([], 1e-4), (["--target", "micro"], 0.05)):  # micro streams are 16x8
            with self.subTest(extra=extra):
                folder = os.path.join(fresh_dir(self), "stream")
                status, _, err = call(export_cli.main, [self.run_dir, "--streaming", *extra, "--out", folder])
                self.assertEqual(status, 0, err)
                with open(os.path.join(folder, "rnnkit_export.json")) as handle:
                    metadata = json.load(handle)
                check = metadata["check"]
                self.assertTrue(check["every_step"])
                self.assertEqual(check["export"]["accuracy"], check["keras"]["accuracy"])
                self.assertLess(check["max_abs_diff"], tolerance)
                runtime = ["--runtime", "micro"] if extra else []
                status, out, err = call(export_predict.main, [os.path.join(folder, "model.tflite"), *runtime,
                                                              "--every", "4", text])
                self.assertEqual(status, 0, err)
                labels = metadata["labels"]
                answers = [line.split("→ ")[1].split()[0] for line in out.splitlines()]
                self.assertEqual(answers, [labels[int(np.argmax(running[step]))] for step in (3, 7, 11, 11)])
