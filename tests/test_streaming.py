"""`python -m export RUN --streaming`: one time step per invoke, the state inside the model, in LiteRT and TFLM."""
import io
import json
import os
import sys
import tempfile
from unittest import mock

from absl.testing import parameterized
import keras
import numpy as np
import tensorflow as tf
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

from export import __main__ as export_cli
from export import predict as export_predict
from export.streaming import step_module as streaming
from export.streaming.runtime import LiteStream, MicroStream
from rnnkit import predict as rnnkit_predict
from rnnkit.core.errors import UsageError
from rnnkit.models.builders import build_conv_recurrent_model, build_image_recurrent_model, build_recurrent_model
from rnnkit.tasks import carries
from tests.clitools import call, fresh_dir
from tests.test_micro import trained

INT8, INT16 = schema.TensorType.INT8, schema.TensorType.INT16


def per_step_model(cell, seed=0):
    """A tiny stacked, untrained adder-shaped model: two digit tokens per step, ten classes per step."""
    keras.utils.set_random_seed(seed)
    return build_recurrent_model(name="tiny", cell=cell, units=(6, 5), num_classes=10, vocab_size=10, embed_dim=4,
                                 operands=2)


def _gathers(data):
    """The table types of every GATHER in the main graph of flatbuffer `data`."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    graph = model.subgraphs[0]
    return [graph.tensors[int(op.inputs[0])].type for op in graph.operators
            if model.operatorCodes[op.opcodeIndex].builtinCode == schema.BuiltinOperator.GATHER]


def stream_of(model, data, runtime):
    """A LiteRT or TFLM stream over `data` with the model's stepping facts."""
    stream = MicroStream(data) if runtime == "micro" else LiteStream(data)
    stream.per_step, stream.skip_padding = streaming.per_step_output(model), streaming.skips_padding(model)
    return stream


class StepModuleTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters("rnn", "lstm", "gru")
    def test_each_family_streams_like_the_full_sequence_at_every_step(self, cell):
        model = per_step_model(cell)
        x = np.random.default_rng(1).integers(0, 10, (3, 9, 2)).astype(np.int32)
        full = model.predict(x, verbose=0)
        data = streaming.to_tflite(streaming.StepModule(model))
        self.assertContainsSubset({"VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE"}, streaming.builtin_ops(data))
        self.assertNotIn("WHILE", streaming.builtin_ops(data))
        for runtime in ("litert", "micro"):
            stream = stream_of(model, data, runtime)
            streamed = np.concatenate([stream.run(x[i: i + 1]) for i in range(len(x))])
            self.assertAllClose(streamed, full, atol=1e-5, rtol=0, msg=runtime)

    def test_state_survives_invokes_and_reset_clears_it(self):
        model = per_step_model("gru")
        data = streaming.to_tflite(streaming.StepModule(model))
        x = np.random.default_rng(2).integers(0, 10, (1, 6, 2)).astype(np.int32)
        for runtime in ("litert", "micro"):
            stream = stream_of(model, data, runtime)
            first = stream.run(x)
            continued = np.stack([stream._invoke(step[None]) for step in x[0]], axis=1)  # no reset: state carries on
            self.assertGreater(np.max(np.abs(continued - first)), 1e-4, runtime)
            self.assertAllClose(stream.run(x), first, atol=0, rtol=0, msg=runtime)  # run() resets first

    def test_classifier_streams_its_running_prediction_and_skips_padding(self):
        keras.utils.set_random_seed(3)
        model = build_recurrent_model(name="tiny", cell="lstm", units=(5,), num_classes=4, vocab_size=8,
                                      embed_dim=3, mask_zero=True, return_sequences=False)
        x = np.array([[3, 1, 4, 1, 5, 0, 0], [2, 7, 1, 0, 0, 0, 0]], dtype=np.int32)  # padded at the end
        running = streaming.running_model(model).predict(x, verbose=0)
        final = model.predict(x, verbose=0)
        stream = stream_of(model, streaming.to_tflite(streaming.StepModule(model)), "micro")
        for i, length in enumerate((5, 3)):
            steps = np.concatenate(list(stream.steps(x[i: i + 1])))
            self.assertEqual(len(steps), length)  # the padding is never fed
            self.assertAllClose(steps, running[i, :length], atol=1e-5, rtol=0)
            self.assertAllClose(stream.run(x[i: i + 1])[0], final[i], atol=1e-5, rtol=0)

    def test_int16_lookups_are_split_into_int8_ones_without_changing_a_value(self):
        model = per_step_model("rnn")
        x = np.random.default_rng(4).integers(0, 10, (40, 7, 2)).astype(np.int32)
        data = streaming.to_tflite(streaming.StepModule(model), "int8", x, integer_io=True, int16_activations=True)
        split = streaming.for_micro(data)
        self.assertEqual(_gathers(data), [INT16])
        self.assertEqual(_gathers(split), [INT8, INT8])
        whole, parts = stream_of(model, data, "litert"), stream_of(model, split, "litert")
        for i in range(5):
            self.assertAllEqual(parts.run(x[i: i + 1]), whole.run(x[i: i + 1]))
        # TFLM has no int16 GATHER; it runs the split file, as LiteRT runs the whole one.
        self.assertAllClose(stream_of(model, split, "micro").run(x[:1]), whole.run(x[:1]), atol=2e-3, rtol=0)

    def test_models_that_cannot_stream_are_refused_with_the_reason(self):
        bidirectional = build_recurrent_model(name="b", cell="gru", units=(4,), num_classes=3, features=2,
                                              bidirectional=True, return_sequences=False)
        bag = build_recurrent_model(name="n", cell="lstm", units=(4,), num_classes=3, vocab_size=9, mask_zero=True,
                                    return_sequences=False, ngram_orders=(1, 2), ngram_dim=4)
        mlp = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
        convolved = build_image_recurrent_model(name="c", height=4, width=4, filters=2, cell="gru", units=(3,),
                                                num_classes=2)
        series = build_conv_recurrent_model(name="s", length=8, channels=1, num_classes=2, mean=[0.0],
                                            variance=[1.0], filters=2, cell="gru", units=(3,))
        for model, reason in ((bidirectional, "bidirectional"), (bag, "n-gram"), (mlp, "recurrent"),
                              (convolved, "Conv2D layer one step at a time: a convolution .* \\(--filters 0\\)$"),
                              # its Concatenate joins the mean over time: no n-gram bag to blame
                              (series, "^--streaming cannot run a Conv1D layer one step at a time: a convolution "
                                       "reads neighbouring steps together; train a model without one "
                                       "\\(--filters 0\\)$")):
            with self.assertRaisesRegex(UsageError, reason):
                streaming.StepModule(model)
        # Every kind of obstacle in one line, so one retraining removes them all.
        both = build_recurrent_model(name="nb", cell="lstm", units=(4,), num_classes=3, vocab_size=9, mask_zero=True,
                                     return_sequences=False, ngram_orders=(1, 2), ngram_dim=4, bidirectional=True)
        convolved_both_ways = build_image_recurrent_model(name="cb", height=4, width=4, filters=2, cell="gru",
                                                          units=(3,), num_classes=2, bidirectional=True)
        for model, reasons in ((both, "--no-bidirectional; the n-gram bag .* --no-ngrams$"),
                               (convolved_both_ways, "Conv2D layer .* \\(--filters 0\\); a bidirectional model")):
            with self.assertRaisesRegex(UsageError, reasons):
                streaming.StepModule(model)


class StreamingExportTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        root = cls.enterClassContext(tempfile.TemporaryDirectory())
        cls.adder = trained(root, "binary_add", length=6, train_len=(6, 6), epochs=4, steps_per_epoch=150,
                            restarts=1, stress_samples=1, eval_lens=())
        cls.recall = trained(root, "recall", units=(8,), epochs=1, steps_per_epoch=30, stress_samples=1)
        cls.bidirectional = trained(os.path.join(root, "bi"), "recall", units=(4,), bidirectional=True, epochs=1,
                                    steps_per_epoch=2, stress_samples=1)

    def export(self, run, *flags):
        """(folder, rnnkit_export.json, stdout) of a successful streaming export into a fresh folder."""
        folder = os.path.join(fresh_dir(self), "stream")
        status, out, err = call(export_cli.main, [run, "--streaming", "--out", folder, *flags])
        self.assertEqual(status, 0, err)
        with open(os.path.join(folder, "rnnkit_export.json")) as handle:
            return folder, json.load(handle), out

    def ask(self, argv, stdin=""):
        """(status, stdout, stderr) of export.predict with `stdin` as standard input."""
        with mock.patch.object(sys, "stdin", io.StringIO(stdin)):
            return call(export_predict.main, argv)

    def test_float_stream_matches_keras_at_every_step_and_on_the_stress_families(self):
        folder, metadata, out = self.export(self.adder, "--check-samples", "40", "--stress-samples", "3")
        self.assertEqual(metadata["streaming"]["step_input"], [1, 2])
        self.assertEqual(metadata["input"]["shape"], [1, -1, 2])
        check = metadata["check"]
        self.assertTrue(check["every_step"])
        self.assertLess(check["max_abs_diff"], 1e-5)
        self.assertEqual(check["export"], check["keras"])
        self.assertEqual(list(check["stress"]), list(carries.stress_operands(np.random.default_rng(0), 3, 6, 2)))
        for family, figures in check["stress"].items():
            self.assertEqual(figures["export"], figures["keras"], family)
        self.assertIn("every step below was compared with Keras", out)

    def test_quantized_litert_streams_keep_the_state_inside_and_match_keras(self):
        for quantize, flags in (("dynamic", ()), ("int8", ("--calibration-samples", "50"))):
            _, metadata, _ = self.export(self.adder, "--quantize", quantize, "--check-samples", "30",
                                         "--stress-samples", "0", *flags)
            self.assertEqual(metadata["quantize"], quantize)
            self.assertContainsSubset(["VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE"], metadata["ops"])
            check = metadata["check"]
            self.assertLessEqual(abs(check["export"]["accuracy"] - check["keras"]["accuracy"]), 0.02, quantize)
        self.assertEqual([state["dtype"] for state in metadata["streaming"]["states"]], ["int8"])

    def test_the_adder_streams_a_sum_longer_than_any_it_was_trained_or_exported_on(self):
        a, b = "1" * 45 + "0110", "1011" * 9
        status, keras_out, err = call(rnnkit_predict.main, [self.adder, f"{a}+{b}"])
        self.assertEqual(status, 0, err)
        for runtime, flags in (("litert", ()), ("micro", ("--target", "micro"))):
            folder, metadata, _ = self.export(self.adder, "--check-samples", "20", "--stress-samples", "0", *flags)
            model = os.path.join(folder, "model.tflite")
            status, out, err = self.ask([model, "--runtime", runtime, "-"], stdin=f"{a}+{b}\n\n101+11\n")
            self.assertEqual(status, 0, err)
            lines = out.splitlines()
            self.assertEqual(len(lines), 2)
            self.assertTrue(lines[1].startswith("101 + 11 = "), lines)
            status, out, err = self.ask([model, "--runtime", runtime, "-"], stdin="\n")
            self.assertEqual((status, out, err.count("\n")), (2, "", 1), err)
            self.assertIn("held no input", err)
            if runtime == "litert":
                self.assertEqual(lines[0], keras_out.strip())  # float: the same answer as Keras, 50 bits > 6
            else:
                self.assertEqual(len(lines[0].split(" = ")[1]), len(keras_out.strip().split(" = ")[1]))

    def test_micro_stream_writes_the_firmware_files_and_runs_in_tflm(self):
        folder, metadata, out = self.export(self.adder, "--target", "micro", "--check-samples", "40",
                                            "--stress-samples", "2", "--calibration-samples", "100")
        self.assertEqual((metadata["target"], metadata["quantize"]), ("micro", "16x8"))
        self.assertContainsSubset(["VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE"], metadata["ops"])
        self.assertNotIn("WHILE", metadata["ops"])
        self.assertGreater(metadata["arena_bytes"], 0)
        self.assertEqual(metadata["input_quantization"]["dtype"], "int16")  # ±1 bit features are quantized
        self.assertEqual(metadata["output_quantization"]["dtype"], "int16")
        states = metadata["streaming"]["states"]
        self.assertLen(states, 1)  # binary_add's one SimpleRNN layer
        self.assertEqual(states[0]["dtype"], "int16")
        self.assertEqual(states[0]["shape"][0], 1)
        self.assertGreater(states[0]["scale"], 0)
        self.assertLessEqual(abs(metadata["check"]["export"]["accuracy"] - metadata["check"]["keras"]["accuracy"]),
                             0.02)
        self.assertIn("TensorFlow Lite Micro", out)
        for name in ("model_data.cc", "model_data.h", "micro_ops.h", "stream_example.cc"):
            self.assertTrue(os.path.isfile(os.path.join(folder, name)), name)
        with open(os.path.join(folder, "micro_ops.h")) as handle:
            resolver = handle.read()
        for op in ("AddVarHandle", "AddReadVariable", "AddAssignVariable", "AddCallOnce"):
            self.assertIn(f"resolver.{op}()", resolver)
        with open(os.path.join(folder, "stream_example.cc")) as handle:
            self.assertIn("Reset()", handle.read())
        # The same file in LiteRT (its zero_state signature) answers as TFLM does.
        model = os.path.join(folder, "model.tflite")
        with open(model, "rb") as handle:
            data = handle.read()
        x = np.array([[[1, -1], [1, 1], [-1, 1], [1, 1], [-1, -1]]], dtype=np.float32)
        micro_out, lite_out = MicroStream(data).run(x), LiteStream(data).run(x)
        self.assertAllClose(micro_out[0, -1], lite_out[0, -1], atol=0.02, rtol=0)

    def test_a_classifier_prints_its_running_prediction_every_n_steps(self):
        folder, metadata, _ = self.export(self.recall, "--check-samples", "30")
        self.assertFalse(metadata["streaming"]["per_step"])
        self.assertTrue(metadata["streaming"]["skip_padding"])
        self.assertLess(metadata["check"]["max_abs_diff"], 1e-5)
        self.assertEqual(metadata["check"]["export"], metadata["check"]["keras"])
        model = os.path.join(folder, "model.tflite")
        status, out, err = self.ask([model, "3 5 8 6 8 1", "--every", "2"])
        self.assertEqual(status, 0, err)
        lines = out.splitlines()
        self.assertEqual([line.split(":")[0] for line in lines[:3]],
                         ["  after 2 steps", "  after 4 steps", "  after 6 steps"])
        status, keras_out, err = call(rnnkit_predict.main, [self.recall, "3 5 8 6 8 1"])
        self.assertEqual(lines[3].split("→")[1].split()[0], keras_out.split("→")[1].split()[0])

    def test_bad_streaming_requests_are_one_line_and_make_no_folder(self):
        root = fresh_dir(self)
        for argv, message in (([self.bidirectional], "bidirectional model cannot stream"),
                              ([self.adder, "--len", "8"], "--len and --unroll"),
                              ([self.adder, "--format", "saved_model"], "drop --format"),
                              ([self.adder, "--target", "micro", "--quantize", "dynamic"], "drop --quantize"),
                              ([self.adder, "--target", "micro", "--activations", "int16"], "always 16x8"),
                              ([self.adder, "--quantize", "int8", "--input-coverage", "0.99"], "step by step")):
            out_dir = os.path.join(root, "never")
            status, _, err = call(export_cli.main, [*argv, "--streaming", "--out", out_dir])
            self.assertEqual((status, err.count("\n")), (2, 1), err)
            self.assertIn(message, err)
            self.assertFalse(os.path.exists(out_dir))
        folder, _, _ = self.export(self.recall, "--check-samples", "5")
        status, _, err = self.ask([os.path.join(folder, "model.tflite"), "3 5", "--every", "0"])
        self.assertEqual(status, 2, err)
        folder, _, _ = self.export(self.adder, "--check-samples", "5", "--stress-samples", "0")
        status, _, err = self.ask([os.path.join(folder, "model.tflite"), "101+11", "--every", "2"])
        self.assertEqual((status, err.count("\n")), (2, 1), err)
        self.assertIn("--every applies to a --streaming classifier", err)


class NoBidirectionalFlagTest(tf.test.TestCase):
    def test_no_bidirectional_turns_off_a_task_default_of_two_directions(self):
        import rnnkit
        from rnnkit.core import flags
        parsed = flags.build_parser().parse_args(["--task", "mnist", "--no-bidirectional"])
        self.assertIs(parsed.bidirectional, False)
        one_way = rnnkit.compiled_model(rnnkit.configure("mnist", bidirectional=False, units=(4,)))
        both_ways = rnnkit.compiled_model(rnnkit.configure("mnist", units=(4,)))
        wrapped = lambda model: any(isinstance(layer, keras.layers.Bidirectional) for layer in model.layers)  # noqa
        self.assertEqual((wrapped(one_way), wrapped(both_ways)), (False, True))

    def test_mnist_default_reads_convolved_bands_and_filters_0_the_raw_rows_one_a_step(self):
        import rnnkit
        from rnnkit.core import flags
        parsed = flags.parse(["--task", "mnist", "--filters", "0"], lambda task: flags.build_parser(task=task))
        self.assertEqual(parsed["filters"], 0)
        recurrent_input = lambda model: tuple(next(layer for layer in model.layers  # noqa
                                                   if isinstance(layer, streaming.RECURRENT)).input.shape)
        default = rnnkit.compiled_model(rnnkit.configure("mnist", bidirectional=False, units=(4,)))
        raw = rnnkit.compiled_model(rnnkit.configure("mnist", bidirectional=False, units=(4,), filters=0))
        self.assertEqual(recurrent_input(default), (None, 14, 7 * 32))  # two rows a step, 7 pooled columns × 32
        self.assertEqual(recurrent_input(raw), (None, 28, 28))
        self.assertFalse(any(isinstance(layer, keras.layers.Conv2D) for layer in raw.layers))
        streaming.StepModule(raw)  # the raw-row reader streams one row per invoke
        with self.assertRaisesRegex(UsageError, "--filters 0"):
            streaming.StepModule(default)
