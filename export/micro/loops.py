"""WHILE loop variables carried in int8: a rewrite of the converted flatbuffer for TensorFlow Lite Micro.

The int8 converter never quantizes a WHILE op, so the loop variables of the micro GRU / SimpleRNN loop
(export/micro_unroll.py) stay float: every iteration dequantizes the whole rotated sequence and output buffer at
the end of the body and quantizes them again at its start, and the arena holds them at 4 bytes a value. Where a
float loop variable is only ever read through QUANTIZE ops of one scale, this rewrite carries it in int8 at that
scale instead:
- in the body, the entry QUANTIZE ops go (their readers read the variable) and the exit DEQUANTIZE goes or
  becomes an int8 requantize (QUANTIZE) where the scales differ;
- before the loop, a DEQUANTIZE feeding it goes or becomes a requantize; any other float value is quantized;
- after the loop, readers that quantize the result at the same scale read it directly, others requantize it, and
  float readers read a dequantized copy.

Where the scales agree this changes no value (dequantizing and quantizing again at one scale is the identity);
where they differ, a requantize (a fixed-point rescale) replaces a dequantize-quantize pair (a float one), which
can round a value one int8 step apart.
"""
import copy

import numpy as np

from export.micro.graph import FLOAT32, INT8, OPS, builtin_code, readers, writer


def int8_loop_variables(model):
    """Carry every float WHILE loop variable that the body only quantizes (at one scale) in int8, in place (the
    float tensors it no longer uses stay: micro_flatbuffer.drop_unused_tensors removes them)."""
    for graph in model.subgraphs:
        for op in list(graph.operators):
            if builtin_code(model, op) == OPS.WHILE:
                for slot in range(len(op.inputs)):
                    _carry_in_int8(model, graph, op, slot)


def _scale(q):
    """(scales, zero points) of a tensor's quantization parameters `q`, or None for an unquantized tensor."""
    if q is None or q.scale is None or len(q.scale) == 0:
        return None
    return tuple(np.asarray(q.scale).tolist()), tuple(np.asarray(q.zeroPoint).tolist())


def _replace(graph, old, new):
    """Point every reader of tensor `old` (ops and the graph's outputs) at `new`."""
    for op in graph.operators:
        op.inputs = [new if int(i) == old else int(i) for i in op.inputs]
    graph.outputs = [new if int(i) == old else int(i) for i in graph.outputs]


def _make_int8(tensor, quantization):
    """Retype `tensor` as int8 with (a copy of) `quantization`."""
    tensor.type, tensor.quantization = INT8, copy.deepcopy(quantization)


def _hand_over(graph, dequantizer, quantization, template):
    """The int8 tensor to read in place of a DEQUANTIZE's float output: its input where the scales agree (the op
    goes), else its output, the op turned into a QUANTIZE like `template` (int8 in and out: a requantize)."""
    written, output = int(dequantizer.inputs[0]), int(dequantizer.outputs[0])
    if _scale(graph.tensors[written].quantization) == _scale(quantization):
        graph.operators.remove(dequantizer)
        return written
    dequantizer.opcodeIndex, dequantizer.builtinOptionsType = template.opcodeIndex, template.builtinOptionsType
    dequantizer.builtinOptions = copy.deepcopy(template.builtinOptions)
    _make_int8(graph.tensors[output], quantization)
    return output


def _put(indices, slot, tensor):
    """`indices` with position `slot` set to `tensor`."""
    return [tensor if i == slot else int(t) for i, t in enumerate(indices)]


def _carry_in_int8(model, graph, loop, slot):
    """Carry loop variable `slot` of the WHILE op `loop` in int8 where its uses allow it (see the module)."""
    options = loop.builtinOptions
    body, cond = model.subgraphs[options.bodySubgraphIndex], model.subgraphs[options.condSubgraphIndex]
    entry, exit_ = int(body.inputs[slot]), int(body.outputs[slot])
    if body.tensors[entry].type != FLOAT32 or entry in [int(i) for i in body.outputs]:
        return
    quantizers = readers(body, entry)
    if not quantizers or any(builtin_code(model, op) != OPS.QUANTIZE for op in quantizers):
        return
    scales = {_scale(body.tensors[int(op.outputs[0])].quantization) for op in quantizers}
    dequantizer = writer(body, exit_)
    source, result = int(loop.inputs[slot]), int(loop.outputs[slot])
    if (len(scales) != 1 or None in scales or dequantizer is None or builtin_code(model, dequantizer) != OPS.DEQUANTIZE
            or readers(body, exit_) or [int(i) for i in body.outputs].count(exit_) != 1
            or readers(cond, int(cond.inputs[slot])) or int(cond.inputs[slot]) in [int(i) for i in cond.outputs]
            or result in [int(i) for i in graph.outputs]):
        return
    template, dequantize = quantizers[0], copy.deepcopy(dequantizer)
    quantization = copy.deepcopy(body.tensors[int(template.outputs[0])].quantization)
    # The body: read the variable where the entry QUANTIZE ops were read; write it on the same scale.
    _make_int8(body.tensors[entry], quantization)
    for op in quantizers:
        _replace(body, int(op.outputs[0]), entry)
        body.operators.remove(op)
    body.outputs = _put(body.outputs, slot, _hand_over(body, dequantizer, quantization, template))
    _make_int8(cond.tensors[int(cond.inputs[slot])], None)  # never read: any scale serves
    loop.inputs = _put(loop.inputs, slot, _int8_start(model, graph, loop, source, quantization, template))
    _int8_result(model, graph, result, quantization, dequantize)


def _int8_start(model, graph, loop, source, quantization, template):
    """The int8 tensor the loop starts from instead of the float `source`: the input of a DEQUANTIZE that fed only
    the loop (or its requantize), else `source` quantized by a new op just before the loop (the zero state)."""
    feeder = writer(graph, source)
    if (feeder is not None and builtin_code(model, feeder) == OPS.DEQUANTIZE and readers(graph, source) == [loop]
            and source not in [int(i) for i in graph.outputs]):
        return _hand_over(graph, feeder, quantization, template)
    start = copy.deepcopy(graph.tensors[source])
    start.buffer = 0
    _make_int8(start, quantization)
    graph.tensors.append(start)
    quantize = copy.deepcopy(template)
    quantize.inputs, quantize.outputs = [source], [len(graph.tensors) - 1]
    graph.operators.insert(graph.operators.index(loop), quantize)
    return len(graph.tensors) - 1


def _int8_result(model, graph, result, quantization, dequantize):
    """Retype the loop's float `result` as int8: readers that quantized it at its scale read it directly, other
    QUANTIZE readers requantize it, and float readers read a copy dequantized by `dequantize` (a DEQUANTIZE op)."""
    reading = readers(graph, result)
    floats = [op for op in reading if builtin_code(model, op) != OPS.QUANTIZE]
    if floats:
        graph.tensors.append(copy.deepcopy(graph.tensors[result]))
        dequantize.inputs, dequantize.outputs = [result], [len(graph.tensors) - 1]
        graph.operators.insert(graph.operators.index(floats[0]), dequantize)
        for op in floats:
            op.inputs = [len(graph.tensors) - 1 if int(i) == result else int(i) for i in op.inputs]
    _make_int8(graph.tensors[result], quantization)
    for op in reading:
        if op not in floats and _scale(graph.tensors[int(op.outputs[0])].quantization) == _scale(quantization):
            _replace(graph, int(op.outputs[0]), result)
            graph.operators.remove(op)
