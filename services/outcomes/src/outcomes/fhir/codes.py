"""Systems and codes the FHIR facade uses.

Base R4 (UK Core has no profiles for these). LOINC codes only where the scale has one that
is widely used (the PHQ-9 and GAD-7 totals); every other scale has a code of CareThread's
own, ``<instrument>.<scale>``. Questionnaires are named by canonical URL only: a deployment
supplies the questionnaire text itself (the licensed instruments' wording is never shipped).
"""

from __future__ import annotations

FHIR_JSON = "application/fhir+json"
BASE = "https://carethread.example/fhir"
QUESTIONNAIRE = f"{BASE}/Questionnaire/"
MEASURE = f"{BASE}/Measure/"
SCALE_SYSTEM = f"{BASE}/CodeSystem/outcome-scale"
INSTRUMENT_SYSTEM = f"{BASE}/CodeSystem/outcome-instrument"
LOINC = "http://loinc.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
MEASURE_POPULATION = "http://terminology.hl7.org/CodeSystem/measure-population"
MEASURE_SCORING = "http://terminology.hl7.org/CodeSystem/measure-scoring"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"

LOINC_TOTALS = {
    ("phq9", "total"): ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score"),
    ("gad7", "total"): ("70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score"),
}
# Externally computed instruments answer with their scores, by these item link ids.
EXTERNAL_LINK_IDS = {"pam": ("score", "level"), "eq5d": ("index", "vas")}


def questionnaire_url(instrument: str) -> str:
    return QUESTIONNAIRE + instrument


def instrument_from_questionnaire(canonical: str) -> str | None:
    url = canonical.split("|", 1)[0]
    return url.removeprefix(QUESTIONNAIRE) if url.startswith(QUESTIONNAIRE) else None
