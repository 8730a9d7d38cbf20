"""Measures and indicators as FHIR R4 resources (plain JSON, validated by the R4B models in
the tests): the QuestionnaireResponse as recorded, one Observation per scale, a searchset
Bundle, and a MeasureReport per indicator with its strata."""

from __future__ import annotations

from typing import Any

from outcomes.domain.breakdown import PublishedCell
from outcomes.fhir import codes
from outcomes.reporting import Computed
from outcomes.store.tables import MeasureRow


def _iso(row_time: Any) -> str:
    return str(row_time.isoformat())


def _performer(row: MeasureRow) -> list[dict[str, Any]]:
    if not row.recorded_by_org:
        return []
    return [{"identifier": {"system": codes.ODS, "value": row.recorded_by_org}}]


def _based_on(row: MeasureRow) -> list[dict[str, Any]]:
    if row.context_kind in ("referral", "social_prescription") and row.context_id:
        return [{"reference": f"ServiceRequest/{row.context_id}"}]
    if row.context_kind == "review" and row.context_id and "/" in row.context_id:
        return [{"reference": row.context_id}]
    return []


def questionnaire_response(row: MeasureRow) -> dict[str, Any]:
    if row.external:
        items = [
            {"linkId": k, "answer": [{"valueDecimal": v}]} for k, v in sorted(row.external.items())
        ]
    else:
        items = [
            {"linkId": str(i + 1), "answer": [{"valueInteger": int(v)}]}
            for i, v in enumerate(row.answers)
        ]
    out: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(row.id),
        "questionnaire": codes.questionnaire_url(row.instrument),
        "status": "completed",
        "subject": {"reference": f"Patient/{row.person_id}"},
        "authored": _iso(row.recorded_at),
        "item": items,
    }
    if based_on := _based_on(row):
        out["basedOn"] = based_on
    return out


def _code(instrument: str, scale: str) -> dict[str, Any]:
    codings = [
        {
            "system": codes.SCALE_SYSTEM,
            "code": f"{instrument}.{scale}",
            "display": f"{instrument} {scale}",
        }
    ]
    if (instrument, scale) in codes.LOINC_TOTALS:
        code, display = codes.LOINC_TOTALS[(instrument, scale)]
        codings.insert(0, {"system": codes.LOINC, "code": code, "display": display})
    return {"coding": codings, "text": f"{instrument} {scale}"}


def observations(row: MeasureRow) -> list[dict[str, Any]]:
    out = []
    for s in row.scores:
        scale = str(s["scale"])
        obs: dict[str, Any] = {
            "resourceType": "Observation",
            "id": f"{row.id}-{scale.replace('_', '-')}",
            "status": "final",
            "category": [{"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "survey"}]}],
            "code": _code(row.instrument, scale),
            "subject": {"reference": f"Patient/{row.person_id}"},
            "effectiveDateTime": _iso(row.recorded_at),
            "valueQuantity": {"value": s["value"], "unit": "score"},
            "derivedFrom": [{"reference": f"QuestionnaireResponse/{row.id}"}],
        }
        if performer := _performer(row):
            obs["performer"] = performer
        if s.get("band"):
            obs["interpretation"] = [{"text": str(s["band"])}]
        out.append(obs)
    return out


def searchset(base: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


def _populations(cell: PublishedCell, proportion: bool) -> list[dict[str, Any]]:
    """Suppressed counts are left out (a count is optional in R4), never shown."""
    names = (
        [("numerator", cell.numerator), ("denominator", cell.denominator)]
        if proportion
        else [("initial-population", cell.denominator)]
    )
    out = []
    for code, count in names:
        population: dict[str, Any] = {
            "code": {"coding": [{"system": codes.MEASURE_POPULATION, "code": code}]}
        }
        if count is not None:
            population["count"] = count
        out.append(population)
    return out


def measure_report(c: Computed, generated: str) -> dict[str, Any]:
    proportion = c.indicator.kind.value == "proportion"
    group: dict[str, Any] = {
        "code": {"text": c.indicator.title},
        "population": _populations(c.overall, proportion),
    }
    if c.overall.value is not None:
        group["measureScore"] = {"value": c.overall.value}
    if c.dimensions:
        strata = []
        for cell in c.cells:
            stratum: dict[str, Any] = {
                "value": {"text": " / ".join(cell.group)},
                "population": _populations(cell, proportion),
            }
            if cell.value is not None:
                stratum["measureScore"] = {"value": cell.value}
            strata.append(stratum)
        group["stratifier"] = [
            {"code": [{"text": "+".join(d.value for d in c.dimensions)}], "stratum": strata}
        ]
    report: dict[str, Any] = {
        "resourceType": "MeasureReport",
        "id": c.indicator.id,
        "status": "complete",
        "type": "summary",
        "measure": codes.MEASURE + c.indicator.id,
        "date": generated,
        "improvementNotation": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/measure-improvement-notation",
                    "code": "increase" if c.indicator.higher_is_better else "decrease",
                }
            ]
        },
        "group": [group],
    }
    report["period"] = (
        {"start": c.period.start.isoformat(), "end": c.period.last_day.isoformat()}
        if c.period
        else {"end": generated[:10]}
    )
    return report
