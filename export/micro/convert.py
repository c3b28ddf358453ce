"""`--target micro`: a full-integer, static-shape .tflite that TensorFlow Lite Micro runs, and the C files a
firmware project compiles it from.

The model is the int8 export at a fixed length (TFLM has no dynamic tensors): LSTMs as the fused
UNIDIRECTIONAL_SEQUENCE_LSTM op (export/fused_lstm.py), GRU and SimpleRNN unrolled, with an int8 input (for float
features) and output. The converter's flatbuffer is then rewritten for TFLM (export/micro_flatbuffer.py).
"""
import ctypes
import functools
import re
import types

import keras
import tensorflow as tf

from export import convert
from export.micro import flatbuffer as micro_flatbuffer
from export.micro import unroll as micro_unroll
from export.micro.runtime import quantization
from rnnkit.core.errors import UsageError
from rnnkit.core.quiet import captured_output
from rnnkit.models.layers import HashedNgramBag

# Validation examples that calibrate a micro export by default. More than the LiteRT int8 export's 200: a GRU /
# SimpleRNN loop has one int8 range per tensor for every step, and 200 examples left it too narrow for some
# palindromes (0.27 points off Keras on 100 000; 0.01 with 1 000, about as with the loop unrolled).
CALIBRATION_SAMPLES = 1000
# Ops whose TFLM resolver method is not the op name in CamelCase.
RESOLVER_NAMES = {"UNIDIRECTIONAL_SEQUENCE_LSTM": "UnidirectionalSequenceLSTM", "L2_NORMALIZATION": "L2Normalization"}


def to_micro(twin, calibration, unroll=False, int16_head=True):
    """Flatbuffer bytes: full-integer int8 with integer I/O, a softmax head in 16x8 (micro_head; all int8 without
    `int16_head`), rewritten for TFLM (micro_flatbuffer).

    The twin's Embedding layers look tokens up with a plain gather: Keras' lookup first wraps negative
    indices (LESS, ADD, SELECT on int32), which TFLM's SELECT_V2 cannot run, and token ids are never negative.
    Its SimpleRNN layers stack their tanh outputs on TANH's int8 grid (micro_unroll.MicroSimpleRNN._stack).
    Its GRU and SimpleRNN layers run as one static-shape WHILE loop, or with `unroll` one set of ops per step.
    """
    for layer in twin.layers:
        if isinstance(layer, keras.layers.Embedding):
            layer.call = types.MethodType(_plain_lookup, layer)
        elif isinstance(layer, HashedNgramBag):
            layer.call = types.MethodType(_integer_bag, layer)
    for layer in convert.recurrent_layers(twin):
        if isinstance(layer, micro_unroll.MicroSimpleRNN):
            layer.pin_to_tanh_grid = True
        if isinstance(layer, (micro_unroll.MicroSimpleRNN, micro_unroll.MicroGRU)):
            layer.loop = "unrolled" if unroll else "while"
    return micro_flatbuffer.for_micro(convert.to_tflite(twin, "int8", calibration, integer_io=True), int16_head)


def _plain_lookup(layer, inputs):
    """Embedding.call without the negative-index wrap (as a bound method of `layer`)."""
    return tf.gather(layer.embeddings, tf.cast(inputs, "int32"))


def _integer_bag(layer, tokens, training=False):
    """HashedNgramBag.call (rnnkit/layers.py) in integer arithmetic TFLM runs, as a bound method of `layer`.

    The layer's own call marks the name's end with `where(arange == length + 1)`, which the converter turns into
    ONE_HOT (no TFLM kernel), chooses ids with an int32 SELECT and folds them with FLOOR_MOD (TFLM's SELECT_V2,
    SUM and FLOOR_MOD take no int32). Here the end marker is where a real symbol meets the padding (a difference
    of neighbours; names pad only at the end), absent n-grams are multiplied by 0 and the fold is a long
    division; the answer is the same. The mean is `convert.share_mean`'s, as in the int8 LiteRT export: the
    layer's sum of vectors clipped in int8 from about 9 letters on (a GRU's class probabilities up to 0.66 off).
    """
    tokens = tf.cast(tokens, tf.int32)
    width = tokens.shape[1] + 2
    edge = tf.zeros_like(tokens[:, :1])
    real = tf.concat([edge + 1, tf.minimum(tokens, 1), edge], axis=1)  # the start marker and letters: 1
    is_end = tf.concat([edge, real[:, :-1] - real[:, 1:]], axis=1)  # 1 where a real symbol is followed by padding
    marked = tf.concat([edge + layer.base - 2, tokens, edge], axis=1) + is_end * (layer.base - 1)
    ids, present = [], []
    for n, offset in zip(layer.orders, layer.offsets):
        windows = [marked[:, k: width - n + 1 + k] for k in range(n)]
        code = functools.reduce(tf.add, [window * layer.base**k for k, window in enumerate(windows)])
        if layer.base**n > layer.buckets:
            code = _remainder(code, layer.buckets, layer.base**n - 1)
        ids.append(code + offset)
        present.append(functools.reduce(tf.minimum, [tf.minimum(window, 1) for window in windows]))
    present = tf.concat(present, axis=1)
    vectors = tf.gather(layer.table.embeddings, tf.concat(ids, axis=1) * present)
    return convert.share_mean(vectors, tf.cast(present, layer.compute_dtype))


def _remainder(values, modulus, largest):
    """`values % modulus` for int32 values in [0, largest] by binary long division: TFLM's FLOOR_MOD, DIV and SUM
    take no int32, its comparisons, CAST, MUL and SUB do."""
    for bit in reversed(range((largest // modulus).bit_length())):
        step = modulus << bit
        values = values - step * tf.cast(values >= step, tf.int32)
    return values


def arena_bytes(micro):
    """The tensor arena TFLM's recording allocator used for `micro` (a MicroInterpreter that has run once).

    Measured, not searched: the Python interpreter aborts the process (rather than failing) in some arenas
    just above the minimum, so sizes are never probed.
    """
    libc = ctypes.CDLL(None)
    # The recording allocator prints its report with C stdio (stdout or stderr, by build): capture both, flushed.
    with captured_output(1) as out, captured_output(2) as err:
        micro.interpreter.print_allocations()
        libc.fflush(None)
    found = re.search(r"Arena allocation total (\d+) bytes", out.text + err.text)
    if found:
        return int(found.group(1))
    raise UsageError("TensorFlow Lite Micro did not report its arena use")


def io_quantization(micro):
    """{input_quantization, output_quantization}: {dtype, scale, zero_point} of a MicroInterpreter's I/O."""
    result = {}
    for name, details in (("input", micro.input), ("output", micro.output)):
        scale = quantization(details)
        result[f"{name}_quantization"] = {"dtype": details["dtype"].__name__, "scale": scale and scale[0],
                                          "zero_point": scale and scale[1]}
    return result


def c_array(data, name="g_model"):
    """(model_data.cc, model_data.h): the model as an aligned C array, as TFLM's examples ship theirs."""
    rows = [", ".join(f"0x{byte:02x}" for byte in data[i: i + 12]) for i in range(0, len(data), 12)]
    header = (f"// rnnkit --target micro export: the model flatbuffer as a C array.\n#ifndef RNNKIT_MODEL_DATA_H_\n"
              f"#define RNNKIT_MODEL_DATA_H_\n\nextern const unsigned char {name}[];\nextern const unsigned int "
              f"{name}_len;\n\n#endif  // RNNKIT_MODEL_DATA_H_\n")
    source = (f'#include "model_data.h"\n\nalignas(16) const unsigned char {name}[] = {{\n    '
              + ",\n    ".join(rows) + f"\n}};\nconst unsigned int {name}_len = {len(data)};\n")
    return source, header


def _camel(part):
    """`FULLY` → `Fully`, `2D` → `2D`, `V2` → `V2`."""
    return part.upper() if part[0].isdigit() else part[0] + part[1:].lower()


def op_resolver(ops):
    """A ready `tflite::MicroMutableOpResolver<N>` with exactly the model's ops."""
    methods = [f"Add{RESOLVER_NAMES.get(op, ''.join(_camel(part) for part in op.split('_')))}" for op in sorted(ops)]
    lines = ["// The ops this model needs, for a TFLM firmware project.", '#include "tensorflow/lite/micro/'
             'micro_mutable_op_resolver.h"', "", f"using RnnkitOpResolver = tflite::MicroMutableOpResolver<{len(ops)}>;",
             "", "inline TfLiteStatus RegisterRnnkitOps(RnnkitOpResolver& resolver) {"]
    lines += [f"  TF_LITE_ENSURE_STATUS(resolver.{method}());" for method in methods]
    lines += ["  return kTfLiteOk;", "}", ""]
    if "UNIDIRECTIONAL_SEQUENCE_LSTM" in ops:
        lines += ["// The fused LSTM keeps its state in variable tensors between Invoke() calls: call",
                  "// interpreter.Reset() before each new sequence, as rnnkit's own check does.", ""]
    return "\n".join(lines)
