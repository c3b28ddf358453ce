"""The one exception type that means "the user asked for something we cannot do"."""


class UsageError(ValueError):
    """Bad input from the user (a flag, a config, an input to predict): one line on stderr, exit status 2."""
