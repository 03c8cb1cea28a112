"""What every long job (verify, audit, report, export, import, timeline, catch-up) shares.

A job takes ``progress(done, total)`` to report how far it is and ``cancelled()`` to ask
whether the user gave up; a job that stops because of it raises :class:`Cancelled`, having
changed nothing. The command line passes a progress printer (and never cancels); the
desktop app's worker passes its signals and its cancel flag, and catches ``Cancelled``.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called as a job goes, ``done`` of ``total`` units."""

CancelCheck = Callable[[], bool]
"""``cancelled()``: True once the user asked the job to stop."""


class Cancelled(Exception):
    """The user cancelled a long job; nothing was changed."""


__all__ = ["CancelCheck", "Cancelled", "Progress"]
