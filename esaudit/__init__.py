"""esaudit: audit event-sourced systems (the domain, application services, CLI and reports).

``__version__`` is the one place the version is written: the package metadata takes it from
here (pyproject.toml), and ``--version`` prints it without reading that metadata.
"""

__version__ = "0.1.0"
