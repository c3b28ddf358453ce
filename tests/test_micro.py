"""`python -m export RUN --target micro`: int8, static shapes, checked and run by the real TFLM interpreter."""
import contextlib
import copy
import io
import json
import os
import re
import tempfile

from absl.testing import parameterized
from ai_edge_litert.interpreter import Interpreter
import keras
import numpy as np
import tensorflow as tf
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

from export import __main__ as export_cli
from export import convert, defaults, fused_lstm
from export import predict as export_predict
from export.micro import convert as micro
from export.micro import flatbuffer as micro_flatbuffer
from export.micro import graph as micro_graph
from export.micro import layers as micro_layers
from export.micro import unroll as micro_unroll
from export.micro.layers import IntegerNgramBag, PlainLookupEmbedding
from export.micro.runtime import MicroInterpreter, MicroModel
from export.twin_layers import INT8_LAYERS
import rnnkit
from rnnkit import predict as rnnkit_predict
from rnnkit.core.errors import UsageError
from rnnkit.core.quiet import captured_output
from rnnkit.models.builders import build_recurrent_model
from rnnkit.models.layers import HashedNgramBag
from rnnkit.tasks import carries
from tests.clitools import call, fresh_dir

QUIET = dict(show_samples=0)


def trained(folder, task, **values):
    """A small trained run folder for `task`, inside `folder`."""
    out = os.path.join(folder, f"{task}-run")
    with contextlib.redirect_stdout(io.StringIO()):
        rnnkit.train_and_evaluate(rnnkit.configure(task, out=out, **QUIET, **values))
    return out


def micro_export(test, run, *flags):
    """(folder, rnnkit_export.json, stdout) of a successful `python -m export RUN --target micro` (a fresh folder)."""
    folder = os.path.join(fresh_dir(test), "micro")
    status, out, err = call(export_cli.main, [run, "--target", "micro", "--out", folder, *flags])
    test.assertEqual(status, 0, err)
    with open(os.path.join(folder, "rnnkit_export.json")) as handle:
        return folder, json.load(handle), out


class MicroExportTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        root = cls.enterClassContext(tempfile.TemporaryDirectory())
        cls.moons = trained(root, "moons", epochs=5)
        cls.adder = trained(root, "binary_add", length=6, train_len=(6, 6), epochs=4, steps_per_epoch=150,
                            restarts=1, stress_samples=1, eval_lens=())

    def export(self, run, *flags):
        return micro_export(self, run, *flags)

    def test_mlp_export_has_the_firmware_files_and_matches_keras_in_tflm(self):
        folder, metadata, out = self.export(self.moons, "--check-samples", "200", "--calibration-samples", "50")
        self.assertIn("TensorFlow Lite Micro", out)
        self.assertEqual((metadata["target"], metadata["quantize"]), ("micro", "int8"))
        # The softmax head runs in 16x8 (export/micro_head.py): one QUANTIZE widens its input, probabilities are int16.
        self.assertEqual(metadata["ops"], ["FULLY_CONNECTED", "QUANTIZE", "SOFTMAX"])
        self.assertGreater(metadata["arena_bytes"], 0)
        self.assertEqual(metadata["input_quantization"]["dtype"], "int8")
        self.assertEqual(metadata["output_quantization"], {"dtype": "int16", "scale": 1 / 32768, "zero_point": 0})
        self.assertIsNone(metadata["length"])
        self.assertEqual(metadata["calibration_samples"], 50)
        self.assertEqual(metadata["input_coverage"], defaults.INPUT_COVERAGE)
        check = metadata["check"]
        self.assertLessEqual(abs(check["export"]["accuracy"] - check["keras"]["accuracy"]), 0.02)
        with open(os.path.join(folder, "model.tflite"), "rb") as handle:
            data = handle.read()
        with open(os.path.join(folder, "model_data.cc")) as handle:
            source = handle.read()
        self.assertEqual(bytes(int(b, 16) for b in re.findall(r"0x([0-9a-f]{2})", source)), data)
        self.assertIn(f"g_model_len = {len(data)};", source)
        self.assertIn("alignas(16)", source)
        with open(os.path.join(folder, "micro_ops.h")) as handle:
            resolver = handle.read()
        self.assertIn("MicroMutableOpResolver<3>", resolver)
        self.assertIn("resolver.AddFullyConnected()", resolver)
        self.assertIn("resolver.AddQuantize()", resolver)
        self.assertIn("resolver.AddSoftmax()", resolver)

    def test_predict_with_the_micro_runtime_agrees_with_keras(self):
        folder, _, _ = self.export(self.moons)
        status, micro_out, err = call(export_predict.main, [os.path.join(folder, "model.tflite"), "0.5,-0.25",
                                                            "1.5,0.3", "--runtime", "micro"])
        self.assertEqual(status, 0, err)
        status, keras_out, err = call(rnnkit_predict.main, [self.moons, "0.5,-0.25", "1.5,0.3"])
        self.assertEqual(status, 0, err)
        top = lambda text: [line.split("→")[1].split()[:2] for line in text.splitlines()]  # noqa: E731
        self.assertEqual(top(micro_out), top(keras_out))
        # Without --runtime a micro export runs in TFLM, its folder standing for its model.tflite; LiteRT refuses it.
        status, auto_out, err = call(export_predict.main, [folder, "0.5,-0.25", "1.5,0.3"])
        self.assertEqual((status, auto_out), (0, micro_out), err)
        status, _, err = call(export_predict.main, [os.path.join(folder, "model.tflite"), "0.5,-0.25", "--runtime",
                                                    "litert"])
        self.assertEqual((status, err.count("\n")), (2, 1))
        self.assertIn("--runtime micro", err)
        status, _, err = call(export_predict.main, [os.path.dirname(folder), "0.5,-0.25"])
        self.assertEqual((status, err.count("\n")), (2, 1))
        self.assertIn("a folder without a model.tflite", err)

    def test_recurrent_model_runs_as_one_static_while_loop_at_the_fixed_length(self):
        folder, metadata, _ = self.export(self.adder, "--len", "8", "--check-samples", "100", "--stress-samples", "0")
        self.assertEqual(metadata["length"], 9)  # 8 digits and the final carry
        self.assertEqual(metadata["input"]["shape"], [1, 9, 2])
        self.assertEqual((metadata["loop"], op_count(folder, "WHILE")), ("while", 1))
        self.assertEqual(passed_through(folder), [])  # what keeps the int8 calibrator alive (tensorflow#75140)
        self.assertNotIn("DEQUANTIZE", metadata["ops"])  # the loop variables are int8 all the way
        check = metadata["check"]
        self.assertNotIn("stress", check)
        self.assertLessEqual(abs(check["export"]["accuracy"] - check["keras"]["accuracy"]), 0.02)
        status, out, err = call(export_predict.main, [os.path.join(folder, "model.tflite"), "101+11", "--runtime",
                                                      "micro"])
        self.assertEqual(status, 0, err)
        self.assertTrue(out.startswith("101 + 11 = "), out)
        # One loop body for any length: four times the steps, the same file but for a few shape constants (which
        # the flatbuffer rewrite may share at one length and not at another); unrolled, it grows.
        _, longer, _ = self.export(self.adder, "--len", "32", "--check-samples", "20", "--stress-samples", "0")
        self.assertLessEqual(abs(longer["bytes"] - metadata["bytes"]), 0.02 * metadata["bytes"])
        _, unrolled, _ = self.export(self.adder, "--len", "32", "--unroll", "--check-samples", "20",
                                     "--stress-samples", "0")
        self.assertEqual(unrolled["loop"], "unrolled")
        self.assertNotIn("WHILE", unrolled["ops"])
        self.assertGreater(unrolled["bytes"], 1.5 * longer["bytes"])
        self.assertLessEqual(abs(unrolled["check"]["export"]["accuracy"] - longer["check"]["keras"]["accuracy"]), 0.02)

    def test_stress_families_are_checked_in_tflm_next_to_keras(self):
        _, metadata, out = self.export(self.adder, "--check-samples", "50", "--stress-samples", "4")
        stress = metadata["check"]["stress"]
        expected = carries.stress_operands(np.random.default_rng(0), 4, 6, 2)
        self.assertEqual(list(stress), list(expected))  # every binary family at the run's length
        for family, figures in stress.items():
            self.assertEqual(figures["samples"], len(expected[family][0]), family)
            self.assertTrue(0.0 <= figures["keras"] <= 1.0 and 0.0 <= figures["export"] <= 1.0, figures)
        self.assertIn("stress (exact match)", out)
        self.assertIn("complement", out)

    def test_bad_micro_requests_are_one_line_and_make_no_folder(self):
        for argv, message in (([self.moons, "--target", "micro", "--len", "5"], "--len applies"),
                              ([self.moons, "--target", "micro", "--quantize", "dynamic"], "full-integer"),
                              ([self.adder, "--target", "micro", "--format", "saved_model"], "full-integer"),
                              ([self.adder, "--unroll"], "--unroll applies"),
                              ([self.moons, "--activations", "int16"], "--activations applies"),
                              ([self.adder, "--target", "micro", "--activations", "int16"], "16x8"),
                              ([self.adder, "--target", "micro", "--stress-samples", "-1"], "--stress-samples"),
                              ([self.moons, "--calibration-samples", "50"], "--calibration-samples applies"),
                              ([self.moons, "--input-coverage", "0.99"], "--input-coverage applies"),
                              ([self.adder, "--target", "micro", "--activations", "int16", "--input-coverage", "1"],
                               "--input-coverage applies"),
                              ([self.moons, "--target", "micro", "--input-coverage", "0.5"], "--input-coverage"),
                              ([self.moons, "--target", "micro", "--calibration-samples", "0"],
                               "--calibration-samples")):
            with self.subTest(argv=argv):
                status, _, err = call(export_cli.main, argv)
                self.assertEqual((status, err.count("\n")), (2, 1), err)
                self.assertIn(message, err)
        self.assertFalse(os.path.exists(os.path.join(self.moons, "export-micro")))


def dynamic_tensors(data):
    """Names (or indices) of the tensors in a flatbuffer whose shape signature has a free (-1) axis."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    return [i for graph in model.subgraphs for i, tensor in enumerate(graph.tensors)
            if tensor.shapeSignature is not None and -1 in list(tensor.shapeSignature)]


def op_census(data):
    """(tensor types UNPACK splits, how many FULLY_CONNECTED ops carry a bias) in a flatbuffer."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    unpacked, biased = set(), 0
    for graph in model.subgraphs:
        for op in graph.operators:
            kind = micro_graph.builtin_code(model, op)
            if kind == schema.BuiltinOperator.UNPACK:
                unpacked.add(graph.tensors[op.inputs[0]].type)
            elif kind == schema.BuiltinOperator.FULLY_CONNECTED:
                biased += len(op.inputs) > 2 and op.inputs[2] >= 0
    return unpacked, biased


def flatbuffer(folder):
    """The model.tflite in `folder` as a flatbuffer object."""
    with open(os.path.join(folder, "model.tflite"), "rb") as handle:
        return flatbuffer_utils.convert_bytearray_to_object(bytearray(handle.read()))


def ops_of(model, graph):
    """The builtin op codes of one subgraph, in order."""
    return [micro_graph.builtin_code(model, op) for op in graph.operators]


def op_count(folder, name):
    """How many ops named `name` the model in `folder` has, over all subgraphs."""
    model = flatbuffer(folder)
    return sum(ops_of(model, graph).count(getattr(schema.BuiltinOperator, name)) for graph in model.subgraphs)


def passed_through(folder):
    """(body subgraph, slot) of every WHILE loop variable its body returns unchanged."""
    model = flatbuffer(folder)
    found = []
    for graph in model.subgraphs:
        for op in graph.operators:
            if op.builtinOptionsType == schema.BuiltinOptions.WhileOptions:
                body = model.subgraphs[op.builtinOptions.bodySubgraphIndex]
                found += [(op.builtinOptions.bodySubgraphIndex, slot) for slot, (i, o) in
                          enumerate(zip(body.inputs, body.outputs)) if i == o]
    return found


def requantizing(data, in_loops=False):
    """How many QUANTIZE ops take an int8 tensor (a change of scale, rather than float in); with `in_loops`, only
    those inside WHILE bodies (every step's)."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    graphs = model.subgraphs[1:] if in_loops else model.subgraphs
    return sum(graph.tensors[op.inputs[0]].type == schema.TensorType.INT8 for graph in graphs
               for op, code in zip(graph.operators, ops_of(model, graph)) if code == schema.BuiltinOperator.QUANTIZE)


def float_loop_variables(data):
    """How many WHILE loop variables are float (the converter leaves them so; micro_loops carries them in int8)."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    return sum(graph.tensors[i].type == schema.TensorType.FLOAT32 for graph in model.subgraphs
               for op, code in zip(graph.operators, ops_of(model, graph)) if code == schema.BuiltinOperator.WHILE
               for i in op.inputs)


def repeated_constants(data):
    """How many constant tensors repeat another of their subgraph's (buffer, shape, type and quantization)."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    repeats = 0
    for graph in model.subgraphs:  # a tensor belongs to one subgraph: loop bodies cannot share one
        keys = [micro_flatbuffer.constant_key(model, tensor) for tensor in graph.tensors]
        keys = [key for key in keys if key is not None]
        repeats += len(keys) - len(set(keys))
    return repeats


@parameterized.named_parameters(*[(f"{cell}_{'bi' if bi else 'uni'}", cell, bi)
                                  for cell in ("rnn", "gru", "lstm") for bi in (False, True)])
class CellDirectionTest(tf.test.TestCase, parameterized.TestCase):
    def test_each_cell_and_direction_runs_in_tflm_like_keras(self, cell, bidirectional):
        run = trained(fresh_dir(self), "palindrome", length=6, cell=cell, bidirectional=bidirectional, units=(8,),
                      embed_dim=4, epochs=2, steps_per_epoch=60, stress_samples=1, lr=1e-2)
        folder, metadata, _ = micro_export(self, run, "--check-samples", "300")
        with open(os.path.join(folder, "model.tflite"), "rb") as handle:
            data = handle.read()
        ops = set(metadata["ops"])
        model = flatbuffer(folder)
        main_codes = ops_of(model, model.subgraphs[0])
        main = {name for name, code in vars(schema.BuiltinOperator).items() if code in main_codes}
        self.assertEqual(dynamic_tensors(data), [])
        self.assertEqual(repeated_constants(data), 0)  # steps share their bias tensors
        self.assertIn("GATHER", ops)  # the plain lookup: no negative-index wrap (LESS, SELECT on int32)
        self.assertFalse({"LESS", "SELECT", "SELECT_V2"} & main, main)
        self.assertFalse({"SELECT", "SELECT_V2"} & ops, ops)
        directions = 2 if bidirectional else 1
        if cell == "lstm":  # one fused op per direction, no gate arithmetic, no loop
            self.assertEqual(op_count(folder, "UNIDIRECTIONAL_SEQUENCE_LSTM"), directions)
            self.assertFalse({"LOGISTIC", "TANH", "WHILE"} & ops, ops)
        else:  # one WHILE per direction; the directions share one condition subgraph
            self.assertEqual((metadata["loop"], op_count(folder, "WHILE")), ("while", directions))
            self.assertEqual(len(model.subgraphs), 2 + directions)
            self.assertEqual(passed_through(folder), [])
            self.assertEqual(float_loop_variables(data), 0)
        if bidirectional:
            self.assertIn("REVERSE_V2" if cell == "lstm" else "CONCATENATION", ops)
        check = metadata["check"]
        self.assertLessEqual(abs(check["export"]["accuracy"] - check["keras"]["accuracy"]), 0.02)
        with open(os.path.join(folder, "model_data.cc")) as handle:
            self.assertEqual(bytes(int(b, 16) for b in re.findall(r"0x([0-9a-f]{2})", handle.read())), data)


class FusedLSTMTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.product(bidirectional=(False, True), masked=(False, True))
    def test_fused_twin_answers_as_keras_stacked_masked_or_not(self, bidirectional, masked):
        keras.utils.set_random_seed(0)
        model = build_recurrent_model(name="probe", cell="lstm", units=(6, 5), num_classes=3, vocab_size=7,
                                      embed_dim=4, bidirectional=bidirectional, mask_zero=masked,
                                      return_sequences=not masked)
        x = np.random.default_rng(1).integers(1, 7, (4, 9))
        if masked:  # padding only at the end, several lengths
            x[1, 5:], x[2, 1:], x[3, 8:] = 0, 0, 0
        twin = micro.micro_twin(model, 9, batch=len(x))
        self.assertTrue(all(isinstance(layer, fused_lstm.FusedLSTM) for layer in convert.recurrent_layers(twin)))
        self.assertAllClose(twin(x), model(x), atol=1e-6)

    def test_masked_lstm_reads_each_sequence_at_its_last_real_step(self):
        run = trained(fresh_dir(self), "recall", units=(8,), embed_dim=4, epochs=3, steps_per_epoch=60,
                      bidirectional=True, stress_samples=1)
        folder, metadata, _ = micro_export(self, run, "--check-samples", "300")
        self.assertIn("UNIDIRECTIONAL_SEQUENCE_LSTM", metadata["ops"])
        check = metadata["check"]
        self.assertGreater(check["keras"]["accuracy"], 0.3)  # trained enough that a wrong read would show
        self.assertLessEqual(abs(check["export"]["accuracy"] - check["keras"]["accuracy"]), 0.02)
        # Every input starts from a zero state: the fused op's state tensors are reset before each run.
        model = MicroModel(os.path.join(folder, "model.tflite"))
        first, second = np.zeros((2, 1, metadata["input"]["shape"][1]), np.int32)
        first[0, :3], second[0, :5] = [3, 4, 5], [9, 8, 7, 6, 5]
        before = model.run(first)
        model.run(second)
        self.assertAllEqual(model.run(first), before)

    def test_the_arena_report_stays_off_the_terminal(self):
        runner = MicroInterpreter(micro.to_micro(*tiny_mlp()))
        runner.run(np.zeros((1, 2), np.float32))
        with captured_output(1) as out, captured_output(2) as err:
            self.assertGreater(micro.arena_bytes(runner), 0)
        self.assertNotIn("RecordingMicroAllocator", out.text + err.text)


def tiny_mlp():
    """(inference twin, calibration inputs) of an untrained 2-4-2 Keras MLP."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,), batch_size=1), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    return model, np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)


class MicroUnrolledTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters(*[(cell, bidirectional, return_sequences, masked, loop) for cell in ("gru", "rnn")
                                for bidirectional in (False, True) for return_sequences in (False, True)
                                for masked in (False, True) for loop in ("while", "unrolled")
                                if masked or return_sequences or loop == "while"])  # unmasked unrolled: one read
    def test_micro_steps_answer_as_keras_on_real_steps(self, cell, bidirectional, return_sequences, masked, loop):
        keras.utils.set_random_seed(0)
        model = build_recurrent_model(name="probe", cell=cell, units=(6, 5), num_classes=3, vocab_size=7,
                                      embed_dim=4, bidirectional=bidirectional, mask_zero=masked,
                                      return_sequences=return_sequences)
        x = np.random.default_rng(1).integers(1, 7, (4, 9))
        x[1, 5:], x[2, 1:], x[3, 8:] = 0, 0, 0
        twin = micro.micro_twin(model, 9, batch=len(x), unroll=loop == "unrolled", for_int8=False)
        for layer in convert.recurrent_layers(twin):
            self.assertIsInstance(layer, (micro_unroll.MicroGRU, micro_unroll.MicroSimpleRNN))
            self.assertEqual(layer.loop, loop)
        unrolled, expected = twin(x).numpy(), model(x).numpy()
        real = x != 0 if return_sequences and masked else slice(None)  # a padded step's output is never read
        self.assertAllClose(unrolled[real], expected[real], atol=1e-6)

    def test_micro_twin_layers_keep_their_settings_through_get_config(self):
        model = build_recurrent_model(name="probe", cell="rnn", units=(4,), num_classes=3, vocab_size=7,
                                      embed_dim=2)
        twin = micro.micro_twin(model, 5, unroll=True)
        rebuilt = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(twin), safe_mode=True)
        layer = convert.recurrent_layers(rebuilt)[0]
        self.assertIsInstance(layer, micro_unroll.MicroSimpleRNN)
        self.assertEqual((layer.loop, layer.pin_to_tanh_grid), ("unrolled", True))
        self.assertIsInstance(rebuilt.layers[1], PlainLookupEmbedding)

    @parameterized.parameters(keras.layers.GRU(5, reset_after=False, return_sequences=True),
                              keras.layers.GRU(5, use_bias=False, return_sequences=True),
                              keras.layers.GRU(5, recurrent_activation="hard_sigmoid", return_sequences=True),
                              keras.layers.SimpleRNN(5, use_bias=False, activation="relu", return_sequences=True))
    def test_every_gru_and_simple_rnn_variant_answers_as_keras(self, layer):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((7, 3)), layer])
        model.set_weights([np.random.default_rng(2).normal(size=w.shape) for w in model.get_weights()])
        x = np.random.default_rng(1).normal(size=(1, 7, 3)).astype(np.float32)
        for loop in ("while", "unrolled"):
            twin = micro.micro_twin(model, 7, unroll=loop == "unrolled", for_int8=False)
            self.assertIsInstance(twin.layers[0], (micro_unroll.MicroGRU, micro_unroll.MicroSimpleRNN))
            self.assertAllClose(twin(x), model(x), atol=1e-5)

    def test_tanh_steps_are_stacked_without_requantizing(self):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((6, 2), batch_size=1), keras.layers.SimpleRNN(4, return_sequences=True),
                                  keras.layers.Dense(1, activation="sigmoid")])
        x = np.random.default_rng(0).uniform(-1, 1, (40, 6, 2)).astype(np.float32)
        unrolled = micro.to_micro(micro.micro_twin(model, 6, unroll=True), x)
        self.assertNotIn("QUANTIZE", convert.builtin_ops(unrolled))  # one per step before the stack was pinned
        looped = micro.to_micro(micro.micro_twin(model, 6), x)
        self.assertIn("WHILE", convert.builtin_ops(looped))
        self.assertEqual(float_loop_variables(looped), 0)  # carried in int8 (micro_loops), not float
        self.assertEqual(requantizing(looped, in_loops=True), 0)  # and no step re-scales them
        for data in (unrolled, looped):
            runner = MicroInterpreter(data)
            for row in x[:5]:
                self.assertAllClose(runner.run(row[None]), model(row[None]), atol=0.03)

    def test_a_masked_gru_runs_in_tflm_like_keras(self):
        run = trained(fresh_dir(self), "recall", cell="gru", units=(8,), embed_dim=4, epochs=3, steps_per_epoch=60,
                      stress_samples=1)
        folder, metadata, _ = micro_export(self, run, "--check-samples", "300")
        with open(os.path.join(folder, "model.tflite"), "rb") as handle:
            unpacked, biased = op_census(handle.read())
        self.assertNotIn(schema.TensorType.BOOL, unpacked)  # Keras' own masked loop unpacks a boolean mask
        self.assertEqual(biased, 2)  # the input projection and the head: no step carries its own bias
        check = metadata["check"]
        self.assertGreater(check["keras"]["accuracy"], 0.3)
        self.assertLessEqual(abs(check["export"]["accuracy"] - check["keras"]["accuracy"]), 0.02)


class MicroLoopsTest(tf.test.TestCase):
    def test_int8_loop_variables_answer_as_the_float_ones(self):
        # A bi-GRU read by a float CONCATENATION, from a float zero state, whose body writes its state on
        # another scale than it reads it: every path of micro_loops.
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((7, 3), batch_size=1), keras.layers.Bidirectional(keras.layers.GRU(5)),
                                  keras.layers.Dense(2)])
        x = np.random.default_rng(0).normal(size=(40, 7, 3)).astype(np.float32)
        converted = convert.to_tflite(micro.micro_twin(model, 7), "int8", x, integer_io=True)
        floats = flatbuffer_utils.convert_bytearray_to_object(bytearray(converted))
        for graph in floats.subgraphs:
            micro_flatbuffer.share_constant_tensors(floats, graph)
        floats = bytes(flatbuffer_utils.convert_object_to_bytearray(floats))
        int8 = micro_flatbuffer.for_micro(converted)
        self.assertEqual(float_loop_variables(floats), 4)  # the converter's: two buffers for each direction
        self.assertEqual(float_loop_variables(int8), 0)
        self.assertIn("DEQUANTIZE", convert.builtin_ops(floats))
        in_loops = [sum(t.type == schema.TensorType.FLOAT32 for g in model.subgraphs[1:] for t in g.tensors)
                    for model in (flatbuffer_utils.convert_bytearray_to_object(bytearray(d)) for d in (floats, int8))]
        self.assertEqual(in_loops[1], 0)  # conditions and bodies: int8 and the int32 counter only
        self.assertGreater(in_loops[0], 0)
        before, after = MicroInterpreter(floats), MicroInterpreter(int8)
        step = after.output["quantization_parameters"]["scales"][0]
        for row in x[:10]:
            self.assertAllClose(after.run(row[None]), before.run(row[None]), atol=step * 1.01)
        self.assertLess(micro.arena_bytes(after), micro.arena_bytes(before))


class TaskDefaultsTest(tf.test.TestCase):
    def test_row_by_row_mnist_takes_int8_rows_and_matches_keras(self):
        run = trained(fresh_dir(self), "mnist", units=(8,), epochs=1, steps_per_epoch=20)
        _, metadata, _ = micro_export(self, run, "--check-samples", "200")
        self.assertEqual(metadata["input"]["shape"], [1, 28, 28])
        self.assertEqual(metadata["input_quantization"]["dtype"], "int8")
        check = metadata["check"]
        self.assertLessEqual(abs(check["export"]["accuracy"] - check["keras"]["accuracy"]), 0.02)

    def test_names_default_with_its_n_gram_bag_runs_in_tflm_like_keras(self):
        run = trained(fresh_dir(self), "names", units=(8,), embed_dim=4, epochs=2, steps_per_epoch=20, patience=0)
        _, metadata, _ = micro_export(self, run, "--check-samples", "300")
        self.assertFalse({"ONE_HOT", "FLOOR_MOD", "SELECT_V2"} & set(metadata["ops"]), metadata["ops"])
        self.assertNotIn("input_coverage", metadata)  # token ids are never clipped
        status, _, err = call(export_cli.main, [run, "--quantize", "int8", "--input-coverage", "0.99"])
        self.assertEqual((status, err.count("\n")), (2, 1), err)
        self.assertIn("this model reads token ids", err)
        self.assertFalse(os.path.exists(os.path.join(run, "export-tflite-int8")))
        check = metadata["check"]
        self.assertGreater(check["keras"]["accuracy"], 0.3)
        self.assertLessEqual(abs(check["export"]["accuracy"] - check["keras"]["accuracy"]), 0.02)

    def test_integer_n_gram_bag_equals_the_layer(self):
        bag = HashedNgramBag(58, (1, 2, 3, 4), 8)
        x = np.random.default_rng(0).integers(1, 59, (5, 12))
        x[1, 4:], x[2, 1:], x[3, 11:], x[4, :] = 0, 0, 0, 0  # several lengths, an empty name
        expected = bag(x)  # builds the layer's table
        # The mean is one matmul of shares here and a sum then a division in the layer: equal to float rounding
        # (1e-9); one wrong n-gram id would move it by about 1e-3.
        integer = IntegerNgramBag.from_config(bag.get_config())
        integer(x)
        integer.set_weights(bag.get_weights())
        self.assertAllClose(integer(x), expected, rtol=1e-6, atol=1e-8)
        values = np.arange(0, 60**4, 997, dtype=np.int32)
        self.assertAllEqual(micro_layers._remainder(tf.constant(values), 16381, 60**4 - 1), values % 16381)

    def test_a_long_name_keeps_its_n_gram_mean_in_tflm(self):
        model, calibration, long_names = long_name_bag()
        runner = MicroInterpreter(micro.to_micro(micro.micro_twin(model), calibration))
        got = np.concatenate([runner.run(row[None]) for row in long_names])
        step = runner.output["quantization_parameters"]["scales"][0]
        self.assertAllClose(got, model.predict(long_names, verbose=0), atol=4 * step, rtol=0)

    def test_a_long_name_keeps_its_n_gram_mean_in_the_int8_litert_export(self):
        model, calibration, long_names = long_name_bag()
        twin = convert.inference_twin(model, layers=INT8_LAYERS)
        interpreter = Interpreter(model_content=convert.to_tflite(twin, "int8", calibration))
        interpreter.allocate_tensors()
        source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        got = []
        for row in long_names:
            interpreter.set_tensor(source["index"], row[None].astype(source["dtype"]))
            interpreter.invoke()
            got.append(interpreter.get_tensor(target["index"]))
        expected = model.predict(long_names, verbose=0)
        step = np.abs(expected).max() / 127  # at most the int8 step of a range that holds the largest value
        self.assertAllClose(np.concatenate(got), expected, atol=4 * step, rtol=0)


def long_name_bag(width=32):
    """(a bag-only model whose every mean is near 0.5, 3-6-letter calibration names, five 25-30-letter names).

    Calibrated on the short names, a sum of the n-gram vectors would need a range 4-5 times the calibrated one
    for the long names (the bag that summed first was 12 int8 steps off there); the mean's range is the same.
    """
    keras.utils.set_random_seed(0)
    tokens = keras.Input((width,), dtype="int32")
    bag = HashedNgramBag(58, (1, 2, 3, 4), 4)
    model = keras.Model(tokens, bag(tokens))
    noise = np.random.default_rng(0).standard_normal(bag.table.embeddings.shape).astype("float32")
    bag.table.embeddings.assign(0.5 + 0.05 * noise)
    rng = np.random.default_rng(1)

    def names(count, shortest, longest):
        x = np.zeros((count, width), np.int32)
        for row, length in zip(x, rng.integers(shortest, longest + 1, count)):
            row[:length] = rng.integers(1, 59, length)
        return x

    return model, names(100, 3, 6), names(5, 25, 30)


class MicroRefusalTest(tf.test.TestCase):
    def test_a_missing_kernel_is_named(self):
        function = tf.function(lambda x: tf.reduce_prod(x, axis=-1)).get_concrete_function(
            tf.TensorSpec((1, 3), tf.float32))
        data = tf.lite.TFLiteConverter.from_concrete_functions([function]).convert()
        with self.assertRaisesRegex(UsageError, "no kernel for REDUCE_PROD"):
            MicroInterpreter(data)

    def test_a_model_whose_activations_outweigh_it_gets_a_larger_arena(self):
        function = tf.function(lambda x: tf.tanh(x) * 2.0).get_concrete_function(tf.TensorSpec((1, 20_000), tf.float32))
        data = tf.lite.TFLiteConverter.from_concrete_functions([function]).convert()
        self.assertLess(10 * len(data), 2 * 4 * 20_000)  # TFLM's default arena holds neither tensor
        x = np.linspace(-2, 2, 20_000, dtype=np.float32)[None]
        self.assertAllClose(MicroInterpreter(data).run(x), np.tanh(x) * 2.0, atol=1e-5)

    def test_select_becomes_select_v2_with_the_same_answers_at_batch_1(self):
        function = tf.function(lambda x: tf.raw_ops.Select(condition=x > 0, x=x, y=-x)).get_concrete_function(
            tf.TensorSpec((1, 4), tf.float32))
        data = tf.lite.TFLiteConverter.from_concrete_functions([function]).convert()
        with self.assertRaisesRegex(UsageError, "SELECT"):
            MicroInterpreter(data)
        patched = micro_flatbuffer.for_micro(data)
        x = np.array([[1.5, -2.0, 0.0, -0.25]], np.float32)
        self.assertAllClose(MicroInterpreter(patched).run(x), np.abs(x))

    def test_repeated_constants_become_one_tensor_with_the_same_answers(self):
        weight = tf.constant(np.arange(12, dtype=np.float32).reshape(4, 3) / 10)
        unrolled = tf.function(lambda x: tf.tanh(tf.tanh(x @ weight) @ tf.transpose(weight)) @ weight)
        data = tf.lite.TFLiteConverter.from_concrete_functions(
            [unrolled.get_concrete_function(tf.TensorSpec((1, 4), tf.float32))]).convert()
        data = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
        graph = data.subgraphs[0]
        for op in graph.operators:  # a copy of every constant input, as the int8 converter makes per step
            for slot, index in enumerate(op.inputs):
                if index >= 0 and data.buffers[graph.tensors[index].buffer].data is not None:
                    graph.tensors.append(copy.deepcopy(graph.tensors[index]))
                    op.inputs[slot] = len(graph.tensors) - 1
        data = bytes(flatbuffer_utils.convert_object_to_bytearray(data))
        self.assertGreater(repeated_constants(data), 0)
        shared = micro_flatbuffer.for_micro(data)
        self.assertEqual(repeated_constants(shared), 0)
        self.assertLess(len(shared), len(data))
        model = flatbuffer_utils.convert_bytearray_to_object(bytearray(shared))
        tensors = model.subgraphs[0].tensors
        read = [tensor.buffer for tensor in tensors] + [entry.buffer for entry in model.metadata]
        self.assertEqual(sorted(set(read) | {0}), list(range(len(model.buffers))))  # no buffer unread
        self.assertEqual({t.buffer for t in tensors if model.buffers[t.buffer].data is None}, {0})  # the sentinel
        x = np.array([[0.5, -1.0, 2.0, 0.25]], np.float32)
        self.assertAllEqual(MicroInterpreter(shared).run(x), MicroInterpreter(data).run(x))
