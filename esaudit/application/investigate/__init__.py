"""Investigating a history: which event set each field and who (``blame``), how events
caused one another (``trace``), which events match a question (``search``), and what is being
appended now (``tail``). Every answer is a frozen dataclass with ``as_json()``, the shape the
command line prints with ``--json``, and works on every kind of source."""
