"""Reading and editing a converted TFLite flatbuffer (the object API of `flatbuffer_utils`): the helpers every
micro rewrite shares (micro.flatbuffer, micro.loops, micro.head, micro.gather)."""
from tensorflow.lite.python import schema_py_generated as schema

OPS = schema.BuiltinOperator
INT8, INT16, INT64, FLOAT32 = (schema.TensorType.INT8, schema.TensorType.INT16, schema.TensorType.INT64,
                               schema.TensorType.FLOAT32)


def code_of(operator_code):
    """The builtin code an operator-code entry names (ops past 127 keep theirs in `builtinCode` only)."""
    return max(operator_code.builtinCode, operator_code.deprecatedBuiltinCode)


def builtin_code(model, op):
    """The builtin operator code of `op`."""
    return code_of(model.operatorCodes[op.opcodeIndex])


def set_code(operator_code, builtin):
    """Make an operator-code entry name `builtin` (version 1)."""
    operator_code.builtinCode, operator_code.deprecatedBuiltinCode = builtin, min(builtin, 127)
    operator_code.version = 1


def opcode(model, builtin):
    """The index of `builtin`'s operator code in `model`, added if the model has none."""
    for index, code in enumerate(model.operatorCodes):
        if code_of(code) == builtin:
            return index
    code = schema.OperatorCodeT()
    set_code(code, builtin)
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def readers(graph, tensor):
    """The ops of `graph` that read `tensor`."""
    return [op for op in graph.operators if tensor in [int(i) for i in op.inputs]]


def writer(graph, tensor):
    """The op of `graph` that writes `tensor`, or None."""
    return next((op for op in graph.operators if tensor in [int(i) for i in op.outputs]), None)
