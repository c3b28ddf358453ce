"""The training engine: one step under three loops, distribution, resilience, restarts, the Keras adapter."""
