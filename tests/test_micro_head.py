"""export/micro_head.py: the micro export's softmax head in 16x8, so near-tied classes stay apart in TFLM."""
import keras
import numpy as np
import tensorflow as tf
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

from export import convert
from export.micro import convert as micro
from export.micro import flatbuffer as micro_flatbuffer
from export.micro import head as micro_head
from export.micro.runtime import MicroInterpreter

TYPES = schema.TensorType


def near_tie_model():
    """A 1 → 3 softmax model whose logits span about ±20 (one int8 step ≈ 0.16) while classes 0 and 1 are
    0.02 apart everywhere: class 1 wins for x > 0, class 2 for x < 0; class 0 never."""
    inputs = keras.Input((1,), batch_size=1)
    head = keras.layers.Dense(3, activation="softmax")
    model = keras.Model(inputs, head(inputs))
    head.set_weights([np.array([[20.0, 20.0, -20.0]], "float32"), np.array([0.0, 0.02, 0.0], "float32")])
    return model


def run_all(data, x):
    """TFLM's outputs for every row of `x`."""
    runner = MicroInterpreter(data)
    return np.concatenate([runner.run(x[i: i + 1]) for i in range(len(x))])


def ops_and_tensors(data):
    """[(op name, [input tensor types], [output tensor types])] of the main graph, in order."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    names = {code: name for name, code in vars(schema.BuiltinOperator).items() if not name.startswith("_")}
    graph = model.subgraphs[0]
    result = []
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        result.append((names[max(code.builtinCode, code.deprecatedBuiltinCode)],
                       [graph.tensors[int(i)].type for i in op.inputs if i >= 0],
                       [graph.tensors[int(i)].type for i in op.outputs]))
    return result


class Int16HeadTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        keras.utils.set_random_seed(0)
        self.model = near_tie_model()
        self.calibration = np.linspace(-1, 1, 201, dtype="float32")[:, None]
        self.x = np.random.default_rng(1).uniform(-1, 1, size=(60, 1)).astype("float32")
        self.keras_out = self.model.predict(self.x, verbose=0)

    def test_near_tied_classes_keep_keras_answer_in_tflm(self):
        data = micro.to_micro(self.model, self.calibration)
        out = run_all(data, self.x)
        np.testing.assert_array_equal(out.argmax(1), self.keras_out.argmax(1))
        self.assertAllClose(out, self.keras_out, atol=0.03)  # the int8 input's step (1/127) moves a logit by 0.16
        # The same model with the converter's int8 head: logits 0.02 apart share one int8 step, and argmax takes
        # the lower index wherever class 1 should win.
        int8_only = micro_flatbuffer.for_micro(convert.to_tflite(self.model, "int8", self.calibration, integer_io=True))
        wrong = run_all(int8_only, self.x).argmax(1) != self.keras_out.argmax(1)
        self.assertGreater(wrong.sum(), 10)

    def test_the_head_is_16x8_with_an_int64_bias_and_int16_probabilities(self):
        data = micro.to_micro(self.model, self.calibration)
        self.assertEqual(ops_and_tensors(data), [
            ("QUANTIZE", [TYPES.INT8], [TYPES.INT16]),
            ("FULLY_CONNECTED", [TYPES.INT16, TYPES.INT8, TYPES.INT64], [TYPES.INT16]),
            ("SOFTMAX", [TYPES.INT16], [TYPES.INT16])])
        output = MicroInterpreter(data).output
        self.assertEqual(output["dtype"], np.int16)
        self.assertEqual(list(output["quantization_parameters"]["scales"]), [1 / 32768])

    def test_a_model_without_a_softmax_head_is_left_as_it_was(self):
        inputs = keras.Input((4,), batch_size=1)
        sigmoid = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs))
        data = convert.to_tflite(sigmoid, "int8", np.random.default_rng(0).normal(size=(50, 4)).astype("float32"),
                                 integer_io=True)
        model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
        self.assertEqual(micro_head.int16_softmax_heads(model), 0)
        self.assertEqual(micro_flatbuffer.for_micro(data, int16_head=True), micro_flatbuffer.for_micro(data))
