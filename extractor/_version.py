"""The package version (one place; read by the record and ``--version``)."""

__version__ = "0.1.0"
