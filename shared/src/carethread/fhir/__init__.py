"""What every service's FHIR facade shares: how it says no (OperationOutcome)."""
