"""``python -m carethread.cli``: the same command as ``carethread``."""

from carethread.cli.main import app

app(prog_name="carethread")
