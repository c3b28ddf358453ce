"""Export: every model family converts to builtins-only TFLite with float parity; quantized exports, the
SavedModel signature, and the two predict CLIs agree with the Keras model."""
import json
import os
import subprocess
import sys
import tempfile

from absl.testing import parameterized
from ai_edge_litert.interpreter import Interpreter
import keras
import numpy as np
import tensorflow as tf

from export import __main__ as export_cli
from export import convert
from export import predict as export_predict
from export.litert import LiteModel
from export.run import ExportOptions, export_run
from rnnkit import predict as rnnkit_predict
from rnnkit import train
from rnnkit.core import codecs
from rnnkit.core.errors import UsageError
from rnnkit.models.builders import build_cnn8, build_mlp, build_recurrent_model
from tests.clitools import call

TINY = ["--epochs", "2", "--steps-per-epoch", "20", "--batch-size", "16", "--val-samples", "32",
        "--test-samples", "64", "--eval-samples", "16", "--show-samples", "0"]


def run_tflite(data, x):
    """Outputs of a TFLite flatbuffer, one example at a time, resizing free axes to each example."""
    interpreter = Interpreter(model_content=data)
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    results = []
    for row in x:
        interpreter.resize_tensor_input(inp["index"], [1, *row.shape], strict=True)
        interpreter.allocate_tensors()
        interpreter.set_tensor(inp["index"], row[None])
        interpreter.invoke()
        results.append(interpreter.get_tensor(out["index"])[0])
    return np.array(results)


def family(cell, bidirectional, kind):
    """A small untrained model of one family and matching random inputs."""
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(0)
    common = dict(name="m", cell=cell, units=(6, 5), num_classes=4, bidirectional=bidirectional)
    if kind == "operands":  # adder-like: two token operands through one Embedding, output per step
        model = build_recurrent_model(vocab_size=10, embed_dim=3, operands=2, **common)
        return model, [rng.integers(0, 10, (7, 2)).astype(np.int32), rng.integers(0, 10, (13, 2)).astype(np.int32)]
    if kind in ("masked", "ngrams"):  # recall / names-like: padded tokens, masked, last state [+ n-gram bag]
        model = build_recurrent_model(vocab_size=12, embed_dim=3, mask_zero=True, return_sequences=False,
                                      ngram_orders=(1, 2, 3) if kind == "ngrams" else (), ngram_dim=4, **common)
        return model, [np.array([3, 4, 5, 0, 0], np.int32), np.array([1, 2, 3, 4, 5, 6, 7, 8], np.int32)]
    model = build_recurrent_model(features=3, **common)  # binary_add / mnist-like float features
    return model, [rng.normal(size=(9, 3)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)]


class FamilyConversionTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.product(cell=["rnn", "lstm", "gru"], bidirectional=[False, True],
                           kind=["operands", "masked", "features"])
    def test_recurrent_families_are_builtins_only_with_float_parity(self, cell, bidirectional, kind):
        model, examples = family(cell, bidirectional, kind)
        data = convert.to_tflite(convert.inference_twin(model))
        ops = convert.builtin_ops(data)
        self.assertIn("WHILE", ops)
        self.assertFalse([op for op in ops if op.startswith("Flex") or op == "CUSTOM"], ops)
        for x in examples:  # different lengths through the same free time axis
            expected = model(x[None], training=False)
            self.assertAllClose(run_tflite(data, [x]), expected, atol=1e-5, rtol=0)

    def test_masked_padding_gives_the_unpadded_answer(self):
        for kind in ("masked", "ngrams"):  # the n-gram bag (names) converts to builtins too
            model, _ = family("gru", True, kind)
            data = convert.to_tflite(convert.inference_twin(model))
            self.assertFalse([op for op in convert.builtin_ops(data) if op.startswith("Flex") or op == "CUSTOM"])
            short, padded = np.array([3, 4, 5], np.int32), np.array([3, 4, 5, 0, 0, 0], np.int32)
            self.assertAllClose(run_tflite(data, [short]), model.predict(short[None], verbose=0), atol=1e-5, rtol=0)
            self.assertAllClose(run_tflite(data, [short]), run_tflite(data, [padded]), atol=1e-6, rtol=0)

    def test_cnn8_and_mlp_are_builtins_only_with_float_parity(self):
        keras.utils.set_random_seed(2)
        x = np.random.default_rng(0).random((2, 32, 32, 3)).astype(np.float32)
        for model in (build_cnn8(name="c", input_shape=(32, 32, 3), num_classes=10, dropout=0.5),
                      build_mlp(name="p", input_shape=(32, 32, 3), hidden=(16, 8), num_classes=10, dropout=0.5)):
            data = convert.to_tflite(convert.inference_twin(model))
            self.assertFalse([op for op in convert.builtin_ops(data) if op.startswith("Flex")])
            self.assertAllClose(run_tflite(data, x), model.predict(x, verbose=0), atol=1e-5, rtol=0)

    def test_a_flex_only_model_is_refused_in_one_line(self):
        inputs = keras.Input((4,))
        square = keras.layers.Reshape((2, 2))(inputs)
        outputs = keras.layers.Lambda(lambda t: tf.linalg.inv(t))(square)  # MatrixInverse: Flex only
        model = keras.Model(inputs, outputs)
        with self.assertRaisesRegex(convert.FlexOpsError, "builtin"):
            convert.to_tflite(model)


class Int8InputRangeTest(tf.test.TestCase):
    def test_a_rare_spike_does_not_coarsen_the_int8_input_grid(self):
        keras.utils.set_random_seed(3)
        inputs = keras.Input((16, 1))
        hidden = keras.layers.Conv1D(4, 3, activation="relu")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling1D()(hidden)))
        rng = np.random.default_rng(0)
        calibration = rng.uniform(-1, 1, (200, 16, 1)).astype(np.float32)
        calibration[0, 5, 0] = 100.0  # one value in 3 200: calibrated on its own, it would set the input's range
        interpreter = Interpreter(model_content=convert.to_tflite(model, "int8", calibration, integer_io=True))
        interpreter.allocate_tensors()
        inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        (scale, zero), (out_scale, out_zero) = inp["quantization"], out["quantization"]
        self.assertLess(scale, 2.1 / 255)  # the central values' range, not the spike's (about 101 / 255)
        x = rng.uniform(-1, 1, (20, 16, 1)).astype(np.float32)
        x[0, 3, 0] = 100.0  # a spike at run time saturates like the clipped calibration
        got = []
        for row in x:
            quantized = np.clip(np.round(row / scale + zero), -128, 127).astype(np.int8)
            interpreter.set_tensor(inp["index"], quantized[None])
            interpreter.invoke()
            got.append((interpreter.get_tensor(out["index"])[0].astype(np.float32) - out_zero) * out_scale)
        expected = model.predict(np.clip(x, calibration.min(), np.sort(calibration, axis=None)[-2]), verbose=0)
        self.assertAllClose(np.array(got), expected, atol=0.03, rtol=0)
        self.assertAllClose(convert.clip_tails(np.arange(10000.0), 0.999)[[0, -1]], [5.0, 9994.0], atol=0.01)
        tokens = np.arange(10000, dtype=np.int32)
        self.assertAllEqual(convert.clip_tails(tokens, 0.999), tokens)  # token ids are never clipped
        full = Interpreter(model_content=convert.to_tflite(model, "int8", calibration, integer_io=True,
                                                           input_coverage=1.0))
        self.assertAllClose(full.get_input_details()[0]["quantization"][0], 101 / 255, rtol=0.01)


class RunExportTest(tf.test.TestCase):
    """One small trained adder run (units 32: the quantizers skip tensors under 1 024 values), exported every
    way and asked through both predict CLIs."""

    @classmethod
    def setUpClass(cls):
        cls.root = cls.enterClassContext(tempfile.TemporaryDirectory())
        cls.run_dir = os.path.join(cls.root, "adder")
        status, _, err = call(train.main, ["--task", "adder", "--len", "6", "--units", "32", "--embed-dim", "4",
                                           *TINY, "--out", cls.run_dir])
        assert status == 0, err

    def export(self, *flags):
        status, out, err = call(export_cli.main, [self.run_dir, *flags])
        self.assertEqual(status, 0, err)
        self.assertEqual(err, "")
        return out

    def test_export_run_is_the_library_under_the_cli(self):
        metadata, folder = export_run(self.run_dir, ExportOptions(out=os.path.join(self.root, "library")))
        self.assertEqual(folder, os.path.join(self.root, "library"))
        with open(os.path.join(folder, "rnnkit_export.json")) as handle:
            self.assertEqual(json.load(handle), metadata)  # written once, the check included
        self.assertLessEqual(metadata["check"]["max_abs_diff"], 1e-5)
        with self.assertRaisesRegex(UsageError, "--unroll applies to --target micro only"):
            export_run(self.run_dir, ExportOptions(unroll=True, out=os.path.join(self.root, "refused")))
        self.assertFalse(os.path.exists(os.path.join(self.root, "refused")))

    def test_float_export_matches_keras_and_both_predict_clis_agree(self):
        out = self.export("--out", os.path.join(self.root, "float"))
        self.assertIn("max |export - keras|", out)
        with open(os.path.join(self.root, "float", "rnnkit_export.json")) as handle:
            metadata = json.load(handle)
        check = metadata["check"]
        self.assertLessEqual(check["max_abs_diff"], 1e-5)
        self.assertEqual(check["keras"], check["export"])
        self.assertEqual(metadata["input"]["shape"], [1, -1, 2])
        self.assertEqual(metadata["labels"], [str(d) for d in range(10)])
        inputs = ["31415+27182", "7+5", "123456+654321"]
        status, lite_out, err = call(export_predict.main, [os.path.join(self.root, "float", "model.tflite"), *inputs])
        self.assertEqual(status, 0, err)
        status, keras_out, err = call(rnnkit_predict.main, [self.run_dir, *inputs])
        self.assertEqual(status, 0, err)
        self.assertEqual(lite_out, keras_out)
        self.assertEqual(len(lite_out.splitlines()), 3)
        self.assertTrue(lite_out.startswith("31415 + 27182 = "))

    def test_quantized_exports_write_their_sizes_and_checks(self):
        sizes = {}
        for quantize in ("none", "dynamic", "float16", "int8"):
            folder = os.path.join(self.root, f"q-{quantize}")
            self.export("--quantize", quantize, "--out", folder, "--check-samples", "50")
            with open(os.path.join(folder, "rnnkit_export.json")) as handle:
                metadata = json.load(handle)
            sizes[quantize] = os.path.getsize(os.path.join(folder, "model.tflite"))
            self.assertEqual(metadata["bytes"], sizes[quantize])
            self.assertEqual(metadata["check"]["samples"], 50)
            self.assertFalse([op for op in metadata["ops"] if op.startswith("Flex")])
            self.assertLess(metadata["check"]["max_abs_diff"], 0.2)
        self.assertLess(sizes["dynamic"], sizes["none"])
        self.assertLess(sizes["float16"], sizes["none"])
        # int8 is unrolled at the exported length (7 steps): shorter sums are padded, longer ones refused
        int8 = LiteModel(os.path.join(self.root, "q-int8", "model.tflite"))
        self.assertEqual(int8.metadata["input"]["shape"], [1, 7, 2])
        self.assertEqual(codecs.encode(int8.metadata, "12+3").shape, (1, 7, 2))
        with self.assertRaisesRegex(ValueError, "at most 6 digits"):
            codecs.encode(int8.metadata, "1234567+1")

    def test_saved_model_serves_batches_without_keras(self):
        folder = os.path.join(self.root, "sm")
        self.export("--format", "saved_model", "--out", folder)
        x = np.random.default_rng(3).integers(0, 10, (5, 7, 2)).astype(np.int32)
        expected = keras.saving.load_model(os.path.join(self.run_dir, "model.keras")).predict(x, verbose=0)
        script = ("import sys, numpy as np, tensorflow as tf; m = tf.saved_model.load(sys.argv[1]); "
                  "x = np.load(sys.argv[2]); np.save(sys.argv[3], m.serve(tf.constant(x)).numpy())")
        np.save(os.path.join(self.root, "x.npy"), x)
        subprocess.run([sys.executable, "-c", script, os.path.join(folder, "saved_model"),
                        os.path.join(self.root, "x.npy"), os.path.join(self.root, "y.npy")], check=True,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        self.assertAllClose(np.load(os.path.join(self.root, "y.npy")), expected, atol=1e-5, rtol=0)

    def test_litert_predict_imports_neither_tensorflow_nor_keras(self):
        self.export("--out", os.path.join(self.root, "lite"))
        script = ("import sys; from export import predict; predict.main([sys.argv[1], '1+2']); "
                  "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))")
        done = subprocess.run([sys.executable, "-c", script, os.path.join(self.root, "lite", "model.tflite")],
                              capture_output=True, text=True, check=True)
        self.assertEqual(done.stdout.splitlines()[-1], "[]")
        self.assertEqual(done.stderr, "")
