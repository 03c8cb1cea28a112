"""`python -m esaudit` runs the command line (no desktop app: that is the `esaudit` script)."""

import sys

from .cli import main

sys.exit(main())
