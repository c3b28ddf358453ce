"""`--streaming`: a .tflite that reads one time step per invoke and keeps the recurrent state inside the model.

The trained model's layers are re-run one step at a time in a `tf.Module` whose recurrent states are variables:
`step(x)` reads the states, runs each recurrent layer's own Keras cell once, assigns the new states and returns
the head's output for that step (the adder's sum digit, a classifier's running prediction). `zero_state(unused)`
sets the states back to zero. The converter keeps assigned variables as resource variables (VAR_HANDLE /
READ_VARIABLE / ASSIGN_VARIABLE, initialised by CALL_ONCE), which LiteRT and TensorFlow Lite Micro both run, and
freezes the weights, which are only read. So a sequence of any length runs in the memory of one step.

The micro target is 16x8 (int16 activations and states, int8 weights): an int8 state's rounding, carried over
thousands of steps, sends rare steps wrong (docs/design.md). TFLM has no int16 GATHER, so `for_micro` splits each
embedding lookup into int8 ones (export/micro_gather.py).

Why state inside the model rather than state tensors in and out: firmware then holds no state buffers of its own,
cannot feed a state back on the wrong int8 scale, and the same file serves every length. Resetting is
`MicroInterpreter::Reset()` in TFLM (it sets resource variables to their zero point, i.e. a zero state) and the
`zero_state` signature in LiteRT, whose `reset_all_variables()` leaves resource variables alone. `zero_state` takes
one ignored int32 because TFLite's int8 calibrator refuses a signature without inputs. The converter orders
subgraphs by signature name and TFLM invokes subgraph 0, so the step's name sorts first.

Only a chain of Embedding / Normalization / Reshape / unidirectional SimpleRNN, LSTM, GRU / Dense layers streams: a
bidirectional layer reads each sequence from its end, and the names n-gram bag reads the whole name at once.
"""
import tempfile
import warnings

import keras
import numpy as np
import tensorflow as tf
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

from export.convert import FlexOpsError, builtin_ops, configure, first_line
from export.micro import gather as micro_gather
from export.micro import graph
from rnnkit.core.errors import UsageError
from rnnkit.core.quiet import parked_stderr

RECURRENT = (keras.layers.SimpleRNN, keras.layers.LSTM, keras.layers.GRU)
PASS_THROUGH = (keras.layers.InputLayer, keras.layers.Dropout, keras.layers.Masking)
CONVOLUTIONS = (keras.layers.Conv1D, keras.layers.Conv2D)
PER_STEP = (keras.layers.Dense, keras.layers.Normalization)  # each step alone, as in the full-sequence model
# Steps of validation sequences that calibrate an int8 streaming export (whole sequences, reset between them).
CALIBRATION_STEPS = 20_000


def check_streamable(model):
    """UsageError, in one line, unless `model` is a chain of layers that can run one time step at a time; the line
    names every kind of obstacle (the first layer of each), so one retraining removes them all."""
    reasons = {}  # kind → reason, first layer of each kind, in layer order
    bag = any(layer.__class__.__name__ == "HashedNgramBag" for layer in model.layers)
    # Of the layers that cannot stream, a convolution is the one to name: the normalization and activations
    # around it would run per step, and no model without it has them.
    convolution = next((layer for layer in model.layers if isinstance(layer, CONVOLUTIONS)), None)
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            reasons.setdefault("bidirectional", "a bidirectional model cannot stream: its backward layer starts at "
                               "the sequence's end, which a stream has not reached; train with --no-bidirectional")
        elif layer.__class__.__name__ == "HashedNgramBag" or (bag and isinstance(layer, keras.layers.Concatenate)):
            reasons.setdefault("ngrams", "the n-gram bag reads the whole sequence at once, so this model cannot "
                               "stream; train with --no-ngrams")
        elif not isinstance(layer, (*PASS_THROUGH, *RECURRENT, *PER_STEP, keras.layers.Embedding,
                                    keras.layers.Reshape)):
            reasons.setdefault("layer", unstreamable(convolution or layer))
    if reasons:
        raise UsageError("; ".join(reasons.values()))
    if not any(isinstance(layer, RECURRENT) for layer in model.layers):
        raise UsageError("--streaming needs a recurrent model: this one reads each input whole")


def unstreamable(layer):
    """Why `layer` stops a model from streaming, in a few words."""
    reason = f"--streaming cannot run a {layer.__class__.__name__} layer one step at a time"
    if isinstance(layer, CONVOLUTIONS):
        return reason + ": a convolution reads neighbouring steps together; train a model without one (--filters 0)"
    return reason


def per_step_output(model):
    """Whether the model answers at every step (the adders) rather than once per sequence (a classifier)."""
    return [layer for layer in model.layers if isinstance(layer, RECURRENT)][-1].return_sequences


def skips_padding(model):
    """Whether token 0 is padding the model masks (so a stream never feeds it)."""
    return any(getattr(layer, "mask_zero", False) for layer in model.layers)


def step_spec(model):
    """The input of one step: the model's input without its time axis, batch 1."""
    tensor = model.inputs[0]
    return tf.TensorSpec((1, *tensor.shape[2:]), tensor.dtype, name="x")


class StepModule(tf.Module):
    """`model` one time step per call, its recurrent states held in variables (see the module docstring)."""

    def __init__(self, model):
        super().__init__()
        check_streamable(model)
        self.model = model
        self.layers = [layer for layer in model.layers if not isinstance(layer, PASS_THROUGH)]
        self.weights = [variable.value for variable in model.variables]  # tracked, so the SavedModel holds them
        self.states = [[tf.Variable(tf.zeros((1, size)), trainable=False, name=f"{layer.name}_state_{i}")
                        for i, size in enumerate(_state_sizes(layer.cell))]
                       for layer in self.layers if isinstance(layer, RECURRENT)]
        self.step = tf.function(self._step, input_signature=[step_spec(model)], autograph=False)
        self.reset = tf.function(self._reset, input_signature=[tf.TensorSpec((1,), tf.int32, name="unused")],
                                 autograph=False)

    def _step(self, x):
        """The head's output after one more step `x`; the states move on."""
        states = iter(self.states)
        h = x
        for layer in self.layers:
            if isinstance(layer, keras.layers.Embedding):
                h = tf.gather(layer.embeddings, tf.cast(h, tf.int32))  # ids are never negative: no wrap-around
            elif isinstance(layer, keras.layers.Reshape):
                h = tf.reshape(h, (1, -1))
            elif isinstance(layer, keras.layers.Normalization):  # its statistics broadcast over (batch, time)
                h = tf.reshape(layer(h, training=False), (1, -1))
            elif isinstance(layer, RECURRENT):
                variables = next(states)
                h, new = layer.cell(h, [tf.convert_to_tensor(v) for v in variables], training=False)
                for variable, value in zip(variables, new if isinstance(new, (list, tuple)) else [new]):
                    variable.assign(value)
            else:
                h = layer(h, training=False)
        return h

    def _reset(self, unused):
        """Every state back to zero (`unused` is ignored)."""
        for variables in self.states:
            for variable in variables:
                variable.assign(tf.zeros_like(variable))
        return tf.zeros((1,), tf.int32)


def _state_sizes(cell):
    """The cell's state sizes as a list (an LSTM has two: h and c)."""
    size = cell.state_size
    return list(size) if isinstance(size, (list, tuple)) else [size]


def running_model(model):
    """The same network answering at every step (its last recurrent layer returns sequences): the Keras reference
    a classifier's running prediction is checked against."""
    config = keras.saving.serialize_keras_object(model)
    config.pop("compile_config", None)
    for layer in config["config"]["layers"]:
        if layer["class_name"] in ("SimpleRNN", "LSTM", "GRU"):
            layer["config"]["return_sequences"] = True
    twin = keras.saving.deserialize_keras_object(config, safe_mode=True)
    twin.set_weights(model.get_weights())
    return twin


def to_tflite(module, quantize="none", calibration=None, integer_io=False, int16_activations=False):
    """Streaming TFLite bytes (signatures `step` and `zero_state`), builtins only; see convert.to_tflite for `quantize`.

    int8 calibrates on `calibration`, whole sequences fed step by step with a reset before each, so the states'
    ranges are those a real stream reaches. With `int16_activations` (the micro target) it is 16x8: int8 weights,
    int16 activations and states, and integer I/O in int16.
    """
    module.reset(tf.zeros((1,), tf.int32))  # the SavedModel stores the states' current values as their start
    with tempfile.TemporaryDirectory(prefix="rnnkit-stream-") as folder, parked_stderr(quiet_for=FlexOpsError), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tf.saved_model.save(module, folder, signatures={"step": module.step.get_concrete_function(),
                                                         "zero_state": module.reset.get_concrete_function()})
        converter = tf.lite.TFLiteConverter.from_saved_model(folder, signature_keys=["step", "zero_state"])
        converter.experimental_enable_resource_variables = True
        configure(converter, quantize, lambda: _calibration_steps(module.model, calibration),
                  module.model.inputs[0].dtype.startswith("float"), integer_io, int16_activations)
        if quantize == "int8":
            converter._experimental_variable_quantization = True  # the states' READ / ASSIGN quantized too
        try:
            data = converter.convert()
        except Exception as error:  # the converter raises ConverterError and friends with long logs
            raise FlexOpsError(f"streaming TFLite conversion failed: {first_line(error)}") from None
    foreign = sorted(op for op in builtin_ops(data) if op.startswith("Flex") or op in ("CUSTOM", "DELEGATE"))
    if foreign:
        raise FlexOpsError(f"the streaming model needs non-builtin ops: {', '.join(foreign)}")
    return data


def _calibration_steps(model, sequences):
    """(signature, inputs) pairs for the calibrator: a reset, then every real step of a sequence, in turn."""
    skip = skips_padding(model)
    length = max(1, sequences.shape[1])
    for sequence in sequences[: max(1, CALIBRATION_STEPS // length)]:
        yield "zero_state", {"unused": np.zeros((1,), np.int32)}
        for x in real_steps(sequence, skip):
            yield "step", {"x": x[None]}


def real_steps(sequence, skip_padding):
    """The steps of one sequence (no batch axis) a stream feeds: all of them, or those not all padding (0)."""
    if not skip_padding:
        return sequence
    flat = sequence.reshape(len(sequence), -1)
    return sequence[np.any(flat != 0, axis=1)]



def for_micro(data):
    """`data` with its int16 embedding lookups split into int8 ones TFLM runs (export/micro_gather.py)."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    micro_gather.int16_gathers(model)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def state_quantization(data):
    """[{dtype, scale, zero_point}] of each recurrent state the step reads (READ_VARIABLE's outputs), in order."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    main = model.subgraphs[0]
    names = {value: name for name, value in vars(schema.TensorType).items() if not name.startswith("_")}
    states = []
    for op in main.operators:
        if graph.builtin_code(model, op) == graph.OPS.READ_VARIABLE:
            tensor = main.tensors[int(op.outputs[0])]
            q = tensor.quantization
            quantized = q is not None and q.scale is not None and len(q.scale) > 0
            states.append({"dtype": names[tensor.type].lower(), "shape": [int(d) for d in tensor.shape],
                           "scale": float(q.scale[0]) if quantized else None,
                           "zero_point": int(q.zeroPoint[0]) if quantized else None})
    return states
