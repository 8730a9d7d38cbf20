"""``python -m bench.referrals.profiled OUT``: ``python -m referrals`` under cProfile, writing
its statistics to ``OUT`` when it stops.

``python -m cProfile`` cannot do this: after its graceful shutdown uvicorn raises the
signal that stopped it again, and the default action kills the process before the
statistics are written. Here that signal ends the run with ``SystemExit`` instead.
"""

from __future__ import annotations

import cProfile
import runpy
import signal
import sys
from types import FrameType


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main() -> int:
    out = sys.argv[1]
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    profile = cProfile.Profile()
    profile.enable()
    try:
        runpy.run_module("referrals", run_name="__main__", alter_sys=True)
    except SystemExit:
        pass
    finally:
        profile.disable()
        profile.dump_stats(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
