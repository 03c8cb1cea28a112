"""``python -m esaudit.cli``: the command line alone, as ``python -m esaudit``."""

import sys

from .run import main

sys.exit(main())
