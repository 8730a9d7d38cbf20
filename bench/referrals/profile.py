"""Reading what a profiled service run gathered: the functions that took the time.

cProfile's statistics are read with ``pstats``; py-spy's collapsed stacks (``--format raw``:
one line per distinct stack, ``frame;frame;... count``) are summed per function, both as
the frame running (self) and anywhere on the stack (inclusive), in percent of samples.
"""

from __future__ import annotations

import io
import pstats
import re
import sys
from collections import Counter
from pathlib import Path

IDLE = ("select (selectors.py", "run_once (uvloop", "_run_once (asyncio/base_events.py")
_SITE = re.compile(r"^.*?/(site-packages|src|lib/python3\.\d+)/")


def _frame(frame: str) -> str:
    """'name (path/to/file.py:123)' without the line and the machine's own path prefix."""
    name, _, where = frame.partition(" (")
    where = _SITE.sub("", where.rstrip(")"))
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name


def summarise_py_spy(path: Path, top: int = 40, within: str | None = None) -> str:
    """The functions that took the samples; with ``within``, only of the stacks that pass
    through a function whose name holds it (``run_endpoint_function``: inside routes)."""
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    total = everything = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = [_frame(f) for f in stack.split(";")[1:]]  # the first is the process
        if not frames:
            continue
        everything += n
        if within is not None and not any(within in f for f in frames):
            continue
        total += n
        own[frames[-1]] += n
        for f in set(frames):
            anywhere[f] += n
    if not total:
        return "no samples"

    def table(counter: Counter[str]) -> list[str]:
        return [f"{100 * n / total:6.1f}%  {f}" for f, n in counter.most_common(top)]

    return "\n".join(
        [
            f"{total} samples"
            + (
                f" of {everything} ({100 * total / everything:.1f}%) within {within}"
                if within
                else ""
            ),
            "",
            "self (the frame running):",
            *table(own),
            "",
            "inclusive (anywhere on the stack):",
            *table(anywhere),
        ]
    )


def summarise_cprofile(path: Path, top: int = 40) -> str:
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.referrals.profile FILE [WITHIN]``: summarise a .pstats file, or a
    py-spy raw file (only the stacks through a function named like WITHIN, if given)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        print(main.__doc__, file=sys.stderr)
        return 2
    path = Path(args[0])
    if path.suffix == ".pstats":
        print(summarise_cprofile(path))
    else:
        print(summarise_py_spy(path, within=args[1] if len(args) == 2 else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
