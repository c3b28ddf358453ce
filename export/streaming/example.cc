// rnnkit --streaming --target micro: the per-step loop a firmware project runs.
//
// The model reads one time step per Invoke() and keeps its recurrent state in resource variables inside the
// interpreter, so memory does not grow with the sequence. Reset() zeroes that state: call it before each new
// sequence. The model is 16x8: int16 activations and state, int8 weights. Input and output scales and zero points
// are in rnnkit_export.json (input_quantization, output_quantization): float features (an MNIST row) go in as
// int16, a token input (the adder's digit pair, a name's letters) as int32, unquantized; scores come out as int16.
//
// Build with TensorFlow Lite Micro and the files written beside this one (model_data.cc / .h, micro_ops.h).
#include <cstdint>

#include "micro_ops.h"
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_resource_variable.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace {
// At least arena_bytes from rnnkit_export.json, plus some room; the same for a sequence of any length.
constexpr int kArenaSize = 16 * 1024;
alignas(16) uint8_t arena[kArenaSize];
// Room for the model's state variables (one per recurrent layer, two for an LSTM).
constexpr int kMaxResourceVariables = 8;
}  // namespace

tflite::MicroInterpreter* Interpreter() {
  static RnnkitOpResolver resolver;
  static bool registered = RegisterRnnkitOps(resolver) == kTfLiteOk;
  static tflite::MicroAllocator* allocator = tflite::MicroAllocator::Create(arena, kArenaSize);
  static tflite::MicroResourceVariables* variables =
      tflite::MicroResourceVariables::Create(allocator, kMaxResourceVariables);
  static tflite::MicroInterpreter interpreter(tflite::GetModel(g_model), resolver, allocator, variables);
  static bool allocated = registered && interpreter.AllocateTensors() == kTfLiteOk;
  return allocated ? &interpreter : nullptr;
}

// Starts a new sequence: the recurrent state goes back to zero.
bool StartSequence() {
  tflite::MicroInterpreter* interpreter = Interpreter();
  return interpreter != nullptr && interpreter->Reset() == kTfLiteOk;
}

// Feeds one time step of `step_size` values and returns this step's int16 output scores (nullptr on failure).
template <typename In>
const int16_t* Step(const In* step, int step_size) {
  tflite::MicroInterpreter* interpreter = Interpreter();
  if (interpreter == nullptr) return nullptr;
  In* slot = reinterpret_cast<In*>(interpreter->input(0)->data.raw);
  for (int i = 0; i < step_size; ++i) slot[i] = step[i];
  if (interpreter->Invoke() != kTfLiteOk) return nullptr;
  return interpreter->output(0)->data.i16;
}

// The adder: one digit pair per step, least significant first, then a 0, 0 pair for the last carry. Each step's
// sum digit is the index of its largest score; `emit` receives it, so no buffer grows with the numbers' length.
template <typename Emit>
bool AddStream(const uint8_t* a_digits, const uint8_t* b_digits, long digits, Emit emit) {
  if (!StartSequence()) return false;
  for (long t = 0; t <= digits; ++t) {
    const int32_t pair[2] = {t < digits ? a_digits[t] : 0, t < digits ? b_digits[t] : 0};
    const int16_t* scores = Step(pair, 2);
    if (scores == nullptr) return false;
    int best = 0;
    for (int k = 1; k < 10; ++k) {
      if (scores[k] > scores[best]) best = k;
    }
    emit(static_cast<uint8_t>(best));
  }
  return true;
}

// A classifier (mnist row by row, a name letter by letter) calls StartSequence(), then Step() per row or letter:
// the scores after each step are its running prediction, after the last its answer.
