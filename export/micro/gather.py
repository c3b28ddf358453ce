"""Int16 embedding lookups for TensorFlow Lite Micro, whose GATHER has no int16 kernel: a rewrite of the flatbuffer.

A 16x8 model (int16 activations, int8 weights: the streaming micro target) looks tokens up with a GATHER whose
table is an int16 constant on the output's scale `s` (zero point 0). Each such lookup becomes two int8 lookups and
an exact sum, every value the same as before:

    table = 256 · high + low,  high in [-128, 127] (int8, scale 256·s), low in [0, 255] (int8, scale s, zero -128)
    GATHER(high) -> QUANTIZE to int16 (scale s) ┐
    GATHER(low)  -> QUANTIZE to int16 (scale s) ┴> ADD -> the rows (int16, scale s)

Both QUANTIZEs are exact (a shift by 8 bits; a move of the zero point) and the sum is the original int16 value, so
it never leaves the int16 range. TFLM runs int8 GATHER, int8 → int16 QUANTIZE and int16 ADD.
"""
import copy

import numpy as np
from tensorflow.lite.python import schema_py_generated as schema

from export.micro.graph import INT8, INT16, OPS, builtin_code, opcode


def int16_gathers(model):
    """Rewrite every GATHER of a constant int16 table in the main graph as above, in place; returns how many."""
    graph = model.subgraphs[0]
    lookups = [op for op in graph.operators if builtin_code(model, op) == OPS.GATHER
               and _constant_int16(model, graph.tensors[int(op.inputs[0])])]
    for op in lookups:
        _split(model, graph, op)
    return len(lookups)


def _constant_int16(model, tensor):
    """Whether `tensor` is an int16 constant with one scale and zero point 0."""
    q = tensor.quantization
    return (tensor.type == INT16 and tensor.buffer and model.buffers[tensor.buffer].data is not None
            and q is not None and q.scale is not None and len(q.scale) == 1 and int(q.zeroPoint[0]) == 0)


def _split(model, graph, gather):
    """Replace one int16 GATHER by two int8 GATHERs, two QUANTIZEs and an ADD writing its output tensor."""
    table = graph.tensors[int(gather.inputs[0])]
    scale = float(table.quantization.scale[0])
    values = np.frombuffer(bytes(bytearray(model.buffers[table.buffer].data)), dtype="<i2").astype(np.int32)
    high = np.floor_divide(values, 256)
    low = values - 256 * high - 128
    rows = graph.tensors[int(gather.outputs[0])]
    high_table = _tensor(graph, table, INT8, 256 * scale, 0, _buffer(model, high))
    low_table = _tensor(graph, table, INT8, scale, -128, _buffer(model, low))
    high_rows, low_rows = _tensor(graph, rows, INT8, 256 * scale, 0), _tensor(graph, rows, INT8, scale, -128)
    high_wide, low_wide = _tensor(graph, rows, INT16, scale, 0), _tensor(graph, rows, INT16, scale, 0)
    index = int(gather.inputs[1])
    second = copy.deepcopy(gather)
    gather.inputs, gather.outputs = [high_table, index], [high_rows]
    second.inputs, second.outputs = [low_table, index], [low_rows]
    add = _op(model, OPS.ADD, [high_wide, low_wide], [int(gather_output) for gather_output in [_index(graph, rows)]])
    add.builtinOptionsType = schema.BuiltinOptions.AddOptions
    add.builtinOptions = schema.AddOptionsT()
    add.builtinOptions.potScaleInt16 = False  # general int16 scales (TFLM's int16 ADD)
    at = graph.operators.index(gather) + 1
    graph.operators[at:at] = [second, _op(model, OPS.QUANTIZE, [high_rows], [high_wide]),
                              _op(model, OPS.QUANTIZE, [low_rows], [low_wide]), add]


def _index(graph, tensor):
    """The index of `tensor` in `graph`."""
    return next(i for i, candidate in enumerate(graph.tensors) if candidate is tensor)


def _buffer(model, values):
    """A new buffer holding `values` as int8; its index."""
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(values.astype(np.int8).tobytes(), dtype=np.uint8)
    model.buffers.append(buffer)
    return len(model.buffers) - 1


def _tensor(graph, template, dtype, scale, zero, buffer=0):
    """A new tensor shaped like `template`, of `dtype` on (`scale`, `zero`), reading `buffer`; its index."""
    tensor = copy.deepcopy(template)
    tensor.type, tensor.buffer, tensor.name = dtype, buffer, None
    tensor.quantization = schema.QuantizationParametersT()
    tensor.quantization.scale = np.array([scale], dtype=np.float32)
    tensor.quantization.zeroPoint = np.array([zero], dtype=np.int64)
    graph.tensors.append(tensor)
    return len(graph.tensors) - 1


def _op(model, builtin, inputs, outputs):
    """A new operator of `builtin` from `inputs` to `outputs`."""
    op = schema.OperatorT()
    op.opcodeIndex = opcode(model, builtin)
    op.inputs, op.outputs = inputs, outputs
    return op
