"""Streaming exports: one time step per invoke, recurrent state in resource variables."""
