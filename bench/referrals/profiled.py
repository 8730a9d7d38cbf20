"""``python -m bench.referrals.profiled OUT``: ``python -m referrals`` under cProfile, writing
its statistics to ``OUT`` when it stops.

``python -m cProfile`` cannot do this: after its graceful shutdown uvicorn raises the
signal that stopped it again, and the default action kills the process before the
statistics are written. Here that signal ends the run with ``SystemExit`` instead.

The profiler's clock is the process's CPU time (``time.process_time``), not the wall clock: a
coroutine that waits on the database or the network is then not charged for the wait, so
the figures say where the CPU goes. The service's modules are imported and its reference
data loaded before the profiler starts, so that starting up does not swamp the requests.
"""

from __future__ import annotations

import cProfile
import runpy
import signal
import sys
import time
from types import FrameType


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main() -> int:
    out = sys.argv[1]
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    import referrals.app  # noqa: F401, PLC0415  # imported (and compiled) before timing
    from carethread.reference import load_geography  # noqa: PLC0415

    load_geography()
    profile = cProfile.Profile(time.process_time)
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
