"""A softmax head in 16x8 for TensorFlow Lite Micro: int16 logits and probabilities, int8 weights.

In the int8 model the head's logits are int8: over a calibrated range of about ±20 one step is about 0.15, so two
classes whose logits are closer than that get the same int8 logit, the same probability, and argmax takes the
lower class index, a flip against Keras wherever the true class is the higher one. The converter makes no 16x8
op inside an otherwise int8 model (and refuses 16x8 for the fused LSTM), so this rewrite does it:

    x (int8) -> QUANTIZE -> x (int16, same scale) -> FULLY_CONNECTED (int8 weights, int64 bias)
      -> logits (int16) [-> RESHAPE ...] -> SOFTMAX -> probabilities (int16, scale 1/32768)

The QUANTIZE only moves the zero point (exact), the bias keeps its scale (input scale × weight scale) in int64, as
TFLM's 16x8 FULLY_CONNECTED reads it, and the logits get twice the int8 range on 65 536 steps: 128 times finer,
clipping twice as far out. The model's output becomes int16; its recorded quantization says so.
"""
import copy

import numpy as np
from tensorflow.lite.python import schema_py_generated as schema

from export.micro.graph import INT8, INT16, INT64, OPS, builtin_code, opcode, readers, writer

# Ops between the head's FULLY_CONNECTED and its SOFTMAX that only move values (a sequence head's reshapes).
SHAPE_ONLY = (OPS.RESHAPE,)
# Headroom over the int8 logits' calibrated range: a logit past it clips at twice the distance instead.
HEADROOM = 2.0


def int16_softmax_heads(model):
    """Rewrite every int8 FULLY_CONNECTED → SOFTMAX head that writes a model output of the main graph as 16x8,
    in place; returns how many were rewritten (0 for a model without such a head, which is left as it was)."""
    graph = model.subgraphs[0]
    heads = [head for head in (_head(model, graph, int(out)) for out in graph.outputs) if head is not None]
    for dense, between, softmax in heads:
        _rewrite(model, graph, dense, between, softmax)
    return len(heads)


def _head(model, graph, output):
    """(FULLY_CONNECTED, [shape-only ops], SOFTMAX) that end in graph output `output`, or None."""
    softmax = writer(graph, output)
    if softmax is None or builtin_code(model, softmax) != OPS.SOFTMAX or readers(graph, output):
        return None
    between, tensor = [], int(softmax.inputs[0])
    while True:
        producer = writer(graph, tensor)
        if producer is None or len(readers(graph, tensor)) != 1 or tensor in [int(i) for i in graph.outputs]:
            return None
        if builtin_code(model, producer) == OPS.FULLY_CONNECTED:
            break
        if builtin_code(model, producer) not in SHAPE_ONLY:
            return None
        between.insert(0, producer)
        tensor = int(producer.inputs[0])
    dense = producer
    x, weights = (graph.tensors[int(i)] for i in dense.inputs[:2])
    if (x.type != INT8 or weights.type != INT8 or graph.tensors[output].type != INT8
            or dense.builtinOptions.fusedActivationFunction != schema.ActivationFunctionType.NONE):
        return None
    return dense, between, softmax


def _rewrite(model, graph, dense, between, softmax):
    """Turn one head found by `_head` into 16x8 (see the module)."""
    x = int(dense.inputs[0])
    wide = copy.deepcopy(graph.tensors[x])
    wide.type, wide.buffer = INT16, 0
    wide.quantization.zeroPoint = np.zeros_like(np.asarray(wide.quantization.zeroPoint))
    graph.tensors.append(wide)
    quantize = schema.OperatorT()
    quantize.opcodeIndex = opcode(model, OPS.QUANTIZE)
    quantize.inputs, quantize.outputs = [x], [len(graph.tensors) - 1]
    graph.operators.insert(graph.operators.index(dense), quantize)
    inputs = [len(graph.tensors) - 1, int(dense.inputs[1])]
    if len(dense.inputs) > 2 and int(dense.inputs[2]) >= 0:
        inputs.append(_int64_bias(model, graph, int(dense.inputs[2])))
    dense.inputs = inputs
    dense.builtinOptions.quantizedBiasType = INT64 if len(inputs) > 2 else 0
    logits = graph.tensors[int(dense.outputs[0])]
    scale, zero = float(logits.quantization.scale[0]), int(logits.quantization.zeroPoint[0])
    reach = HEADROOM * scale * max(zero + 128, 127 - zero)
    for op in [dense, *between]:
        _make_int16(graph.tensors[int(op.outputs[0])], reach / 32767)
    _make_int16(graph.tensors[int(softmax.outputs[0])], 1 / 32768)


def _int64_bias(model, graph, index):
    """A new int64 copy of the int32 bias tensor `index` (same scale; TFLM's 16x8 FULLY_CONNECTED reads int64)."""
    bias = copy.deepcopy(graph.tensors[index])
    values = np.frombuffer(bytes(bytearray(model.buffers[bias.buffer].data)), dtype=np.int32).astype("<i8")
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(values.tobytes(), dtype=np.uint8)
    model.buffers.append(buffer)
    bias.type, bias.buffer = INT64, len(model.buffers) - 1
    graph.tensors.append(bias)
    return len(graph.tensors) - 1


def _make_int16(tensor, scale):
    """Retype `tensor` as int16 with `scale` and zero point 0 (TFLM's int16 kernels take symmetric tensors)."""
    tensor.type = INT16
    tensor.quantization.scale = np.array([scale], dtype=np.float32)
    tensor.quantization.zeroPoint = np.array([0], dtype=np.int64)
    tensor.quantization.min = tensor.quantization.max = None
