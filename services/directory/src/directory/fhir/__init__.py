"""The FHIR R4 (UK Core) facade of the directory: HealthcareService, Location, Organization."""
