"""KerasTuner hypermodels and the search / report CLIs (built on rnnkit's task registry)."""
