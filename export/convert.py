"""Keras model → builtins-only TFLite (float, dynamic, float16, int8) or a SavedModel with a serving signature.

Keras 3 recurrent layers do not convert with `TFLiteConverter.from_keras_model` (TensorListReserve), and
`model.export(format="litert")` needs the Flex delegate. What converts to builtins only: trace the model as a
concrete function with a static batch of 1, freeze its variables, and convert that graph — the recurrent
layers become TFLite WHILE loops, and a free time axis (`None`) stays free, to be resized per input. A twin with
fused LSTMs (the micro target) goes through a SavedModel instead, since freezing would inline them.
"""
import copy
import tempfile
import warnings

import keras
import numpy as np
import tensorflow as tf
from tensorflow.lite.tools import flatbuffer_utils
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from export import fused_lstm
from export.defaults import INPUT_COVERAGE
from export.micro import graph
from rnnkit.core.quiet import parked_stderr
from rnnkit.engine.steps import recurrent_layers

RECURRENT = ("SimpleRNN", "LSTM", "GRU")


class FlexOpsError(RuntimeError):
    """The converted model needs ops outside TFLite's builtins."""


def is_recurrent(model):
    """Whether any layer (bidirectional wrappers included) is recurrent."""
    return bool(recurrent_layers(model))


def _dicts(tree):
    """Every dict nested anywhere in a serialized config."""
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _dicts(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _dicts(value)


def inference_twin(model, steps=None, batch=1, layers=None):
    """The same network rebuilt for inference: static `batch`, no dropout, no cuDNN, optionally unrolled.

    Dropout's seed state would otherwise be traced into the graph, and a model traced on a GPU would
    carry cuDNN-only ops. With `steps`, the time axis is fixed to that many steps and recurrent layers are
    unrolled (no WHILE loop: what full-integer calibration needs). `layers` maps a Keras class name to
    (subclass, extra config): each such layer is rebuilt as that subclass with those settings where the subclass
    `fits` its config (e.g. `twin_layers.INT8_LAYERS`, `micro.convert.micro_twin`). Weights are copied unchanged.
    """
    config = copy.deepcopy(keras.saving.serialize_keras_object(model))
    config.pop("compile_config", None)
    layers = layers or {}
    for node in _dicts(config):
        if node.get("class_name") in RECURRENT:
            node["config"].update(dropout=0.0, recurrent_dropout=0.0, unroll=steps is not None)
        if node.get("class_name") in layers:
            layer, settings = layers[node["class_name"]]
            if getattr(layer, "fits", lambda _: True)(node["config"]):
                node["config"].update(settings)
                node.update(class_name=layer.__name__, module=layer.__module__,
                            registered_name=keras.saving.get_registered_name(layer))
        elif node.get("class_name") == "InputLayer":
            shape = list(node["config"]["batch_shape"])
            shape[0] = batch
            if steps is not None and len(shape) > 1 and shape[1] is None:
                shape[1] = steps
            node["config"]["batch_shape"] = shape
    twin = keras.saving.deserialize_keras_object(config, safe_mode=True)
    twin.set_weights(model.get_weights())
    for layer in recurrent_layers(twin):
        if hasattr(layer, "use_cudnn"):
            layer.use_cudnn = False
    return twin


def masked(model):
    """Whether any layer of `model` makes a mask (an Embedding with mask_zero or a Masking layer)."""
    return any(getattr(layer, "mask_zero", False) or isinstance(layer, keras.layers.Masking)
               for layer in model.layers)


def has_step_loop(model):
    """Whether `model` has a GRU or SimpleRNN (which the micro target runs as a WHILE loop or unrolled)."""
    return any(isinstance(layer, (keras.layers.GRU, keras.layers.SimpleRNN)) for layer in recurrent_layers(model))


def has_fused_lstm(twin):
    """Whether `twin` holds a FusedLSTM (bidirectional wrappers included)."""
    return any(isinstance(layer, fused_lstm.FusedLSTM) for layer in recurrent_layers(twin))


def input_spec(twin):
    """The twin's single input as a TensorSpec (batch 1; free axes stay None)."""
    tensor = twin.inputs[0]
    return tf.TensorSpec(tensor.shape, tensor.dtype, name=tensor.name)


def to_tflite(twin, quantize="none", calibration=None, integer_io=False, int16_activations=False,
              input_coverage=INPUT_COVERAGE):
    """TFLite flatbuffer bytes of `twin`, builtins only, tensor names stripped.

    quantize: none (float32); dynamic (int8 weights, float activations); float16 (float16 weights);
    int8 (int8 weights and activations calibrated on `calibration`, float input and output; with
    `integer_io`, a float input and the output are int8 too, as a microcontroller takes them). With
    `int16_activations` int8 is 16x8: int8 weights, int16 activations (and int16 integer I/O). An int8 (not 16x8)
    calibration sees float inputs clipped to the central `input_coverage` of their values (1: unclipped).
    """
    with parked_stderr(quiet_for=FlexOpsError), warnings.catch_warnings():  # freezing, converting log pages
        warnings.simplefilter("ignore")
        if quantize == "int8" and not int16_activations and calibration is not None:
            calibration = clip_tails(np.asarray(calibration), input_coverage)
        data = _convert(twin, quantize, calibration, integer_io, int16_activations)
    ops = builtin_ops(data)
    foreign = sorted(op for op in ops if op.startswith("Flex") or op in ("CUSTOM", "DELEGATE"))
    if foreign:
        raise FlexOpsError(f"the converted model needs non-builtin ops: {', '.join(foreign)}")
    return strip_names(data)


def _convert(twin, quantize, calibration, integer_io=False, int16_activations=False):
    """The converter run itself (see `to_tflite`)."""
    function = tf.function(lambda x: twin(x, training=False)).get_concrete_function(input_spec(twin))
    if not has_fused_lstm(twin):
        converter = tf.lite.TFLiteConverter.from_concrete_functions([convert_variables_to_constants_v2(function)])
        return _run_converter(converter, twin, quantize, calibration, integer_io, int16_activations)
    # Freezing a concrete function would inline the fusable function: go through a SavedModel that holds only
    # the weights, which the converter then freezes (none is ever assigned).
    with tempfile.TemporaryDirectory(prefix="rnnkit-fused-") as folder:
        module = tf.Module()
        module.weights = [variable.value for variable in twin.variables]
        tf.saved_model.save(module, folder, signatures=function)
        return _run_converter(tf.lite.TFLiteConverter.from_saved_model(folder), twin, quantize, calibration,
                              integer_io, int16_activations)


def configure(converter, quantize, representative=None, float_input=False, integer_io=False,
              int16_activations=False):
    """Set `converter`'s ops, quantization and I/O types (see `to_tflite`); `representative` yields calibration
    inputs for int8, with `integer_io` a float input and the output are integers (int8, or int16 with
    `int16_activations`: 16x8)."""
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        integer = tf.int8
        if int16_activations:
            converter.target_spec.supported_ops = [
                tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
            integer = tf.int16
        if integer_io:
            converter.inference_output_type = integer
            if float_input:
                converter.inference_input_type = integer


def _run_converter(converter, twin, quantize, calibration, integer_io, int16_activations=False):
    """Configure `converter` and convert (see `to_tflite`)."""
    samples = np.asarray(calibration) if calibration is not None else None
    configure(converter, quantize, lambda: ([samples[i: i + 1]] for i in range(len(samples))),
              twin.inputs[0].dtype.startswith("float"), integer_io, int16_activations)
    try:
        return converter.convert()
    except Exception as error:  # the converter raises ConverterError and friends with long logs
        raise FlexOpsError(f"TFLite conversion failed with builtin ops only: {first_line(error)}") from None


def clip_tails(samples, coverage):
    """Float `samples` clipped to the central `coverage` of their values (one range for the whole input tensor, as
    an int8 input has one scale); token ids and a coverage of 1 come back unchanged."""
    if samples.dtype.kind != "f" or coverage >= 1.0:
        return samples
    tail = 50.0 * (1.0 - coverage)
    low, high = np.percentile(samples, [tail, 100.0 - tail])
    return np.clip(samples, low, high).astype(samples.dtype)


def first_line(error):
    """The first informative line of a converter error."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0][:300] if lines else error.__class__.__name__


def builtin_ops(data):
    """The set of op names in a TFLite flatbuffer (Flex ops show as `Flex…`, custom ops as CUSTOM)."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    names = set()
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            code = model.operatorCodes[op.opcodeIndex]
            builtin = graph.code_of(code)
            if code.customCode:
                names.add(code.customCode.decode() if isinstance(code.customCode, bytes) else str(code.customCode))
            else:
                names.add(_BUILTIN_NAMES.get(builtin, f"BUILTIN_{builtin}"))
    return names


def _builtin_names():
    """Builtin op code → name, from the TFLite schema module."""
    from tensorflow.lite.python import schema_py_generated as schema
    return {value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")}


_BUILTIN_NAMES = _builtin_names()


def strip_names(data):
    """Drop tensor and signature names (debug strings): a third of a small recurrent model's file."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    flatbuffer_utils.strip_strings(model)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def save_saved_model(twin, path):
    """A SavedModel whose `serve` signature takes the twin's input (build it with batch=None for any batch)."""
    archive = keras.export.ExportArchive()
    archive.track(twin)
    archive.add_endpoint("serve", lambda x: twin(x, training=False), input_signature=[input_spec(twin)])
    archive.write_out(path, verbose=False)

