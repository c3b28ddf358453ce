"""The export's choices and defaults, free of TensorFlow so `python -m export --help` states them in a moment."""

QUANTIZE = ("none", "dynamic", "float16", "int8")
# Examples (validation, else training) that calibrate an int8 LiteRT export by default.
CALIBRATION_SAMPLES = 200
# ... and a micro or streaming export: more, since a GRU / SimpleRNN loop has one int8 range per tensor for all its
# steps, so its calibration must see the rare extremes that any step reaches.
MICRO_CALIBRATION_SAMPLES = 1000
# An int8 input has 256 steps over its calibrated range, and a few spikes can stretch that range until an ordinary
# input spans a dozen steps (ACSF1's power readings). So calibration sees float inputs clipped to the central
# 99.9% of their values, as percentile calibration does; the quantization of an input saturates the rarer extremes.
INPUT_COVERAGE = 0.999
