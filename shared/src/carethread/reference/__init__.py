"""Reference geography: GP practice → PCN (neighbourhood), postcode → LSOA → IMD.

NCL's files ship with the library; another ICS points ``CARETHREAD_REFERENCE_DIR`` at a
folder of the same three files.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DEFAULT_DIR = Path(__file__).parent / "ncl"


@dataclass(frozen=True)
class Practice:
    code: str
    name: str
    postcode: str
    pcn_code: str
    pcn_name: str


@dataclass(frozen=True)
class Postcode:
    postcode: str
    lsoa: str
    borough: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Neighbourhood:
    code: str
    name: str
    borough: str


def normalise_postcode(value: str) -> str:
    """'n7 9dp' → 'N7 9DP' (the inward code is always the last three characters)."""
    compact = "".join(value.split()).upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


class Geography:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        with (folder / "ncl_gp_practices_pcns.csv").open(newline="") as f:
            self.practices = {
                r["practice_code"]: Practice(
                    r["practice_code"],
                    r["practice_name"],
                    normalise_postcode(r["practice_postcode"]),
                    r["pcn_code"],
                    r["pcn_name"],
                )
                for r in csv.DictReader(f)
            }
        with (folder / "ncl_postcodes.csv").open(newline="") as f:
            self.postcodes = {
                r["postcode"]: Postcode(
                    r["postcode"], r["lsoa11cd"], r["borough"], float(r["lat"]), float(r["lon"])
                )
                for r in csv.DictReader(f)
            }
        with (folder / "ncl_lsoa11_imd2019.csv").open(newline="") as f:
            self.imd_quintile = {
                r["lsoa11cd"]: int(r["imd2019_quintile"]) for r in csv.DictReader(f)
            }
        self.neighbourhoods: dict[str, Neighbourhood] = {}
        for p in self.practices.values():
            borough = self.postcodes[p.postcode].borough if p.postcode in self.postcodes else ""
            self.neighbourhoods.setdefault(
                p.pcn_code, Neighbourhood(p.pcn_code, p.pcn_name, borough)
            )

    def postcode(self, value: str) -> Postcode | None:
        return self.postcodes.get(normalise_postcode(value))

    def neighbourhood_for(self, practice_code: str | None, postcode: str | None) -> str | None:
        """The practice's PCN; for someone with no GP, the PCN of the nearest practice."""
        if practice_code and practice_code in self.practices:
            return self.practices[practice_code].pcn_code
        place = self.postcode(postcode) if postcode else None
        if place is None:
            return None
        best: tuple[float, str] | None = None
        for p in self.practices.values():
            at = self.postcodes.get(p.postcode)
            if at is None:
                continue
            d = math.hypot(
                at.lat - place.lat, (at.lon - place.lon) * math.cos(math.radians(place.lat))
            )
            if best is None or d < best[0]:
                best = (d, p.pcn_code)
        return best[1] if best else None

    def imd_quintile_for(self, postcode: str | None) -> int | None:
        place = self.postcode(postcode) if postcode else None
        return self.imd_quintile.get(place.lsoa) if place else None


@cache
def load_geography(folder: str | None = None) -> Geography:
    return Geography(Path(folder or os.environ.get("CARETHREAD_REFERENCE_DIR") or DEFAULT_DIR))
