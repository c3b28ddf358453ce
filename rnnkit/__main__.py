"""`python -m rnnkit COMMAND ...` is the `rnnkit` command."""
import sys

from rnnkit.command import main

sys.exit(main())
