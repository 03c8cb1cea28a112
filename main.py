"""Composition root for the desktop app: `python main.py [--db TARGET] [--read-only]`."""

import sys

from ui.launcher import main

if __name__ == "__main__":
    sys.exit(main(["gui", *sys.argv[1:]] if "gui" not in sys.argv[1:] else sys.argv[1:]))
