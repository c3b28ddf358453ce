"""`--target micro`: a full-integer, static-shape .tflite that TensorFlow Lite Micro runs, and the C files a
firmware project compiles it from.

The model is the int8 export at a fixed length (TFLM has no dynamic tensors): LSTMs as the fused
UNIDIRECTIONAL_SEQUENCE_LSTM op (export/fused_lstm.py), GRU and SimpleRNN unrolled, with an int8 input (for float
features) and output. The converter's flatbuffer is then rewritten for TFLM (export/micro/flatbuffer.py).
"""
import ctypes
import re

from export import convert, defaults, fused_lstm
from export.micro import flatbuffer as micro_flatbuffer
from export.micro import unroll as micro_unroll
from export.micro.layers import IntegerNgramBag, PlainLookupEmbedding
from export.micro.runtime import quantization
from rnnkit.core.errors import UsageError
from rnnkit.core.quiet import captured_output

# Each byte value spelled once for the C array: a model can run to megabytes.
HEX_BYTES = tuple(f"0x{byte:02x}" for byte in range(256))
# Ops whose TFLM resolver method is not the op name in CamelCase.
RESOLVER_NAMES = {"UNIDIRECTIONAL_SEQUENCE_LSTM": "UnidirectionalSequenceLSTM", "L2_NORMALIZATION": "L2Normalization"}


def micro_twin(model, steps=None, batch=1, unroll=False, for_int8=True):
    """The inference twin TFLM runs (`convert.inference_twin` with these layers swapped in by class).

    LSTMs become the fused UNIDIRECTIONAL_SEQUENCE_LSTM op (fused_lstm), except in a masked model of free length.
    At fixed `steps`, GRU and SimpleRNN layers run as one static-shape WHILE loop, or with `unroll` one set of ops
    per step (micro.unroll); `for_int8` pins a SimpleRNN's stacked tanh outputs to TANH's int8 grid (which rounds
    them in float: what the int8 conversion wants, not a float comparison). Embeddings gather
    without Keras' negative-index wrap and the n-gram bag runs in integers (micro.layers).
    """
    layers = {"Embedding": (PlainLookupEmbedding, {}), "HashedNgramBag": (IntegerNgramBag, {})}
    if steps is not None or not convert.masked(model):
        layers["LSTM"] = (fused_lstm.FusedLSTM, {})
    if steps is not None:
        loop = "unrolled" if unroll else "while"
        layers.update(GRU=(micro_unroll.MicroGRU, {"loop": loop}),
                      SimpleRNN=(micro_unroll.MicroSimpleRNN, {"loop": loop, "pin_to_tanh_grid": for_int8}))
    return convert.inference_twin(model, steps, batch, layers)


def to_micro(twin, calibration, int16_head=True, int16_activations=False,
             input_coverage=defaults.INPUT_COVERAGE):
    """Flatbuffer bytes of a `micro_twin` (or a model without recurrent layers): full-integer int8 with integer
    I/O, a softmax head in 16x8 (micro.head; all int8 without `int16_head`), rewritten for TFLM (micro.flatbuffer).
    With `int16_activations` the whole model is 16x8 (int8 weights, int16 activations and I/O); `input_coverage` as
    in `convert.to_tflite`.
    """
    data = convert.to_tflite(twin, "int8", calibration, integer_io=True, int16_activations=int16_activations,
                             input_coverage=input_coverage)
    return micro_flatbuffer.for_micro(data, int16_head and not int16_activations)  # a 16x8 head is 16x8 already


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
    words = [HEX_BYTES[byte] for byte in data]
    rows = [", ".join(words[i: i + 12]) for i in range(0, len(words), 12)]
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
             'micro_mutable_op_resolver.h"', "",
             f"using RnnkitOpResolver = tflite::MicroMutableOpResolver<{len(ops)}>;",
             "", "inline TfLiteStatus RegisterRnnkitOps(RnnkitOpResolver& resolver) {"]
    lines += [f"  TF_LITE_ENSURE_STATUS(resolver.{method}());" for method in methods]
    lines += ["  return kTfLiteOk;", "}", ""]
    if "UNIDIRECTIONAL_SEQUENCE_LSTM" in ops:
        lines += ["// The fused LSTM keeps its state in variable tensors between Invoke() calls: call",
                  "// interpreter.Reset() before each new sequence, as rnnkit's own check does.", ""]
    return "\n".join(lines)
