"""`python -m rnnkit` is `python -m rnnkit.train`."""
import sys

from rnnkit.train import main

sys.exit(main())
