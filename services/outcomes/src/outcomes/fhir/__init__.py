"""The FHIR R4 facade: QuestionnaireResponse in, Observation and MeasureReport out."""
