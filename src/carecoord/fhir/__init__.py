"""FHIR R4 adapter."""
