"""The groups a population indicator is broken down by, from a person's demographics.

- ethnicity: the NHS Data Dictionary ethnic category letter, grouped into its five broad
  groups (plus "Not stated" and "Unknown" when nothing was recorded);
- age band: age in whole years on a reference date (the end of the reporting period);
- Core20PLUS5: the most deprived 20% nationally (IMD quintile 1) or a PLUS group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

UNKNOWN = "unknown"

ETHNIC_GROUPS: dict[str, str] = {
    **dict.fromkeys("ABC", "White"),
    **dict.fromkeys("DEFG", "Mixed"),
    **dict.fromkeys("HJKL", "Asian or Asian British"),
    **dict.fromkeys("MNP", "Black or Black British"),
    **dict.fromkeys("RS", "Other ethnic groups"),
    "Z": "Not stated",
}

# Upper bounds (inclusive) of each band; the last is open-ended.
AGE_BANDS: tuple[tuple[int, str], ...] = (
    (17, "0-17"),
    (24, "18-24"),
    (34, "25-34"),
    (44, "35-44"),
    (54, "45-54"),
    (64, "55-64"),
    (74, "65-74"),
    (84, "75-84"),
)
OLDEST_BAND = "85+"

# Core20PLUS5's locally chosen PLUS groups as NCL names them.
PLUS_GROUPS = frozenset({"inclusion_health", "smi", "learning_disability", "carer"})
CORE20 = "core20"
PLUS = "plus"
NEITHER = "neither"


def ethnicity_group(code: str | None) -> str:
    if not code:
        return UNKNOWN
    return ETHNIC_GROUPS.get(code.upper(), UNKNOWN)


def age_on(birth_date: date | None, on: date) -> int | None:
    if birth_date is None or birth_date > on:
        return None
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - before_birthday


def age_band(birth_date: date | None, on: date) -> str:
    age = age_on(birth_date, on)
    if age is None:
        return UNKNOWN
    for upper, label in AGE_BANDS:
        if age <= upper:
            return label
    return OLDEST_BAND


def core20plus5(imd_quintile: int | None, in_plus_group: bool) -> str:
    """ "core20" (IMD quintile 1, whatever else), "plus" (a PLUS group outside quintile 1),
    or "neither"."""
    if imd_quintile == 1:
        return CORE20
    return PLUS if in_plus_group else NEITHER


def plus_groups(
    *,
    registered_with_gp: bool,
    declared: Iterable[str] = (),
    referred_as_carer: bool = False,
) -> list[str]:
    """A person's PLUS groups from what the platform knows of them.

    - inclusion health: not registered with a GP (the front door's proxy for people
      experiencing homelessness, refugees and asylum seekers, Gypsy/Roma/Traveller
      communities, people leaving prison, who are often unregistered);
    - carer: referred for carers' support (reason code "carers");
    - any group the front door declares in the person's ``plus_groups`` (smi,
      learning_disability, ...), taken from the person event when present.
    """
    groups = {g for g in declared if g in PLUS_GROUPS}
    if not registered_with_gp:
        groups.add("inclusion_health")
    if referred_as_carer:
        groups.add("carer")
    return sorted(groups)


def declared_flags(extra: Mapping[str, object] | None) -> tuple[list[str], bool | None]:
    """The optional fields a person event may carry beyond its schema: ``plus_groups`` (a
    list of PLUS group codes) and ``national_data_opt_out`` (true/false)."""
    if not extra:
        return [], None
    raw_groups = extra.get("plus_groups")
    groups = [str(g) for g in raw_groups] if isinstance(raw_groups, list) else []
    opt_out = extra.get("national_data_opt_out")
    return groups, opt_out if isinstance(opt_out, bool) else None
