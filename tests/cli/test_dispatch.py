"""Every command the parser accepts has one function to run it, and no function is orphaned."""

from __future__ import annotations

import argparse

from esaudit.cli import build_parser, commands


def test_every_parsed_command_is_dispatched() -> None:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) - {"gui"} == set(commands())
