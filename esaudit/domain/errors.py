"""Domain exceptions; the CLI and the app translate them into exit codes and dialogs."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal the domain makes."""


class InvalidTransition(DomainError):
    """A command is not allowed in the order's current status or breaks a business rule."""


class OutOfRange(InvalidTransition):
    """A command's value lies outside the range the domain allows (a quantity, an amount, a
    name's length): refused like a rule, before anything is written."""


class InvalidCommand(DomainError, ValueError):
    """A command is malformed (negative quantity, empty name, bad amount): an input error."""


class UnknownStream(DomainError, LookupError):
    """A command or query names a stream that does not exist."""
