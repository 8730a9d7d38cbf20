"""The FHIR R4 (UK Core) facade: Patient, CarePlan, Goal and CareTeam for EPRs."""
