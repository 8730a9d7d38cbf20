"""The ``carethread`` command line."""

from carethread.cli.main import app

__all__ = ["app"]
