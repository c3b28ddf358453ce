"""Rewrites of a converted int8 flatbuffer for TensorFlow Lite Micro: ops it has, and fewer bytes.

None of them changes a value the model computes (the softmax head in 16x8, export/micro_head.py, which `for_micro`
applies on request, makes the head's values finer):
- SELECT becomes SELECT_V2 (TFLM has only the latter; at batch 1 no row-wise select can differ);
- constant tensors that repeat another's buffer, shape, type and quantization are dropped and their readers
  pointed at the first. The int8 converter gives each unrolled step its own tensor for the same per-channel
  bias, each with its own copy of the per-channel scales and zero points (12 bytes a channel);
- tensors without data point at buffer 0, the schema's empty sentinel, and buffers nobody reads are dropped
  (the converter gives every activation an empty buffer of its own);
- WHILE loop variables that the body only quantizes are carried in int8 (export/micro_loops.py), and tensors
  no op reads any more are dropped;
- subgraphs identical to an earlier one (the `t < steps` condition of each WHILE loop at one length) are dropped
  and their callers pointed at the first.
"""
import numpy as np
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

from export.micro import graph
from export.micro import head as micro_head
from export.micro import loops as micro_loops


def for_micro(data, int16_head=False):
    """The flatbuffer `data` with every rewrite above applied, and with `int16_head` its int8 softmax head in 16x8
    (export/micro/head.py: the one rewrite that changes values, finer)."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    if int16_head:
        micro_head.int16_softmax_heads(model)
    select_as_select_v2(model)
    for subgraph in model.subgraphs:
        share_constant_tensors(model, subgraph)
    micro_loops.int8_loop_variables(model)
    for subgraph in model.subgraphs:
        drop_unused_tensors(model, subgraph)
    share_identical_subgraphs(model)
    drop_empty_buffers(model)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def select_as_select_v2(model):
    """Rewrite SELECT ops as SELECT_V2, in place."""
    for code in model.operatorCodes:
        if graph.code_of(code) == graph.OPS.SELECT:
            graph.set_code(code, graph.OPS.SELECT_V2)
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            if op.builtinOptionsType == schema.BuiltinOptions.SelectOptions:
                op.builtinOptionsType = schema.BuiltinOptions.SelectV2Options
                op.builtinOptions = schema.SelectV2OptionsT()


def constant_key(model, tensor):
    """What makes a constant tensor interchangeable with another (buffer, type, shape, quantization); None if
    it is not a constant."""
    if not tensor.buffer or not _holds_data(model.buffers[tensor.buffer]) or tensor.isVariable:
        return None
    q = tensor.quantization
    quant = None if q is None else tuple(None if v is None else bytes(memoryview(np.ascontiguousarray(v)))
                                         for v in (q.scale, q.zeroPoint, q.min, q.max)) + (q.quantizedDimension,)
    return tensor.buffer, tensor.type, tuple(() if tensor.shape is None else tensor.shape), quant  # None: scalar


def share_constant_tensors(model, subgraph):
    """Point every op at one tensor per distinct constant, drop the rest and renumber, in place."""
    canonical, remap = {}, {}
    for index, tensor in enumerate(subgraph.tensors):
        key = constant_key(model, tensor)
        if key is not None:
            remap[index] = canonical.setdefault(key, index)
    for op in subgraph.operators:
        op.inputs = [remap.get(int(i), int(i)) for i in op.inputs]
    keep_tensors(model, subgraph, [i for i in range(len(subgraph.tensors)) if remap.get(i, i) == i])


def drop_unused_tensors(model, subgraph):
    """Drop the tensors that no op, input or output of `subgraph` refers to, in place."""
    used = {int(i) for i in list(subgraph.inputs) + list(subgraph.outputs)}
    for op in subgraph.operators:
        used |= {int(i) for i in list(op.inputs) + list(op.outputs) + list(op.intermediates or [])}
    keep_tensors(model, subgraph, sorted(used - {-1}))


def keep_tensors(model, subgraph, kept):
    """Keep only the tensors `kept` (ascending indices) of `subgraph` and renumber every reference, in place."""
    number = {old: new for new, old in enumerate(kept)}

    def renumber(indices):
        return None if indices is None else [number[int(i)] if i >= 0 else -1 for i in indices]

    for op in subgraph.operators:
        op.inputs, op.outputs, op.intermediates = renumber(op.inputs), renumber(op.outputs), renumber(op.intermediates)
    subgraph.inputs, subgraph.outputs = renumber(subgraph.inputs), renumber(subgraph.outputs)
    subgraph.tensors = [subgraph.tensors[i] for i in kept]
    graph_index = next(i for i, graph in enumerate(model.subgraphs) if graph is subgraph)
    for signature in model.signatureDefs or []:
        if signature.subgraphIndex == graph_index:
            for entry in (signature.inputs or []) + (signature.outputs or []):
                entry.tensorIndex = number[entry.tensorIndex]


def _plain(value):
    """A hashable form of a flatbuffer object field (arrays and lists as tuples, option tables as their fields)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_plain(v) for v in value)
    if hasattr(value, "__dict__"):
        return tuple(sorted((name, _plain(v)) for name, v in vars(value).items()))
    return value.item() if isinstance(value, np.generic) else value


def subgraph_key(model, subgraph):
    """Everything a subgraph computes with: its tensors (constants by content), operators and I/O."""
    tensors = tuple((t.type, _plain(t.shape), _plain(t.shapeSignature), t.isVariable, _plain(t.quantization),
                     _plain(model.buffers[t.buffer].data) if _holds_data(model.buffers[t.buffer]) else None)
                    for t in subgraph.tensors)
    operators = tuple((op.opcodeIndex, _plain(op.inputs), _plain(op.outputs), _plain(op.intermediates),
                       op.builtinOptionsType, _plain(op.builtinOptions)) for op in subgraph.operators)
    return tensors, operators, _plain(subgraph.inputs), _plain(subgraph.outputs)


def share_identical_subgraphs(model):
    """Drop every subgraph but the main one that repeats an earlier one; control flow calls the first, in place."""
    first, remap = {}, {}
    for index, subgraph in enumerate(model.subgraphs):
        remap[index] = index if index == 0 else first.setdefault(subgraph_key(model, subgraph), index)
    kept = [i for i in range(len(model.subgraphs)) if remap[i] == i]
    number = {old: kept.index(remap[old]) for old in remap}
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            options = op.builtinOptions
            for field in ("condSubgraphIndex", "bodySubgraphIndex", "thenSubgraphIndex", "elseSubgraphIndex",
                          "subgraph", "initSubgraphIndex"):
                if options is not None and isinstance(getattr(options, field, None), int):
                    setattr(options, field, number[getattr(options, field)])
    model.subgraphs = [model.subgraphs[i] for i in kept]
    for signature in model.signatureDefs or []:
        signature.subgraphIndex = number[signature.subgraphIndex]


def drop_empty_buffers(model):
    """Tensors without data (variables aside) read buffer 0; unread buffers go and the rest are renumbered."""
    tensors = [tensor for subgraph in model.subgraphs for tensor in subgraph.tensors]
    for tensor in tensors:
        if not _holds_data(model.buffers[tensor.buffer]) and not tensor.isVariable:
            tensor.buffer = 0
    read = {0} | {tensor.buffer for tensor in tensors} | {entry.buffer for entry in model.metadata or []}
    number = {old: new for new, old in enumerate(sorted(read))}
    model.buffers = [model.buffers[old] for old in sorted(read)]
    for tensor in tensors:
        tensor.buffer = number[tensor.buffer]
    for entry in model.metadata or []:
        entry.buffer = number[entry.buffer]


def _holds_data(buffer):
    """Whether a flatbuffer Buffer has contents (inline, or at an offset as files over 2 GB keep them)."""
    return (buffer.data is not None and len(buffer.data) > 0) or bool(getattr(buffer, "offset", 0))
