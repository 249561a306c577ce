"""The names of FHIR resource types, so that messages name a type only when it is one.

A ``resourceType`` comes from the input, and could be any text (a name, a note, a
megabyte): :func:`type_label` gives it back only when it is the name of a resource type of
FHIR R4, R4B or R5, and ``"<unknown type>"`` otherwise. Issue paths and messages use it.
"""

from __future__ import annotations

__all__ = ["RESOURCE_TYPES", "UNKNOWN_TYPE", "type_label"]

UNKNOWN_TYPE = "<unknown type>"
"""What a ``resourceType`` that names no FHIR resource type is shown as."""

RESOURCE_TYPES: frozenset[str] = frozenset(
    """
    Account ActivityDefinition ActorDefinition AdministrableProductDefinition
    AdverseEvent AllergyIntolerance Appointment AppointmentResponse ArtifactAssessment
    AuditEvent Basic Binary BiologicallyDerivedProduct
    BiologicallyDerivedProductDispense BodyStructure Bundle CapabilityStatement CarePlan
    CareTeam CatalogEntry ChargeItem ChargeItemDefinition Citation Claim ClaimResponse
    ClinicalImpression ClinicalUseDefinition CodeSystem Communication
    CommunicationRequest CompartmentDefinition Composition ConceptMap Condition
    ConditionDefinition Consent Contract Coverage CoverageEligibilityRequest
    CoverageEligibilityResponse DetectedIssue Device DeviceAssociation DeviceDefinition
    DeviceDispense DeviceMetric DeviceRequest DeviceUsage DeviceUseStatement
    DiagnosticReport DocumentManifest DocumentReference EffectEvidenceSynthesis
    Encounter EncounterHistory Endpoint EnrollmentRequest EnrollmentResponse
    EpisodeOfCare EventDefinition Evidence EvidenceReport EvidenceVariable
    ExampleScenario ExplanationOfBenefit FamilyMemberHistory Flag FormularyItem
    GenomicStudy Goal GraphDefinition Group GuidanceResponse HealthcareService
    ImagingSelection ImagingStudy Immunization ImmunizationEvaluation
    ImmunizationRecommendation ImplementationGuide Ingredient InsurancePlan
    InventoryItem InventoryReport Invoice Library Linkage List Location
    ManufacturedItemDefinition Measure MeasureReport Media Medication
    MedicationAdministration MedicationDispense MedicationKnowledge MedicationRequest
    MedicationStatement MedicinalProduct MedicinalProductAuthorization
    MedicinalProductContraindication MedicinalProductDefinition
    MedicinalProductIndication MedicinalProductIngredient MedicinalProductInteraction
    MedicinalProductManufactured MedicinalProductPackaged MedicinalProductPharmaceutical
    MedicinalProductUndesirableEffect MessageDefinition MessageHeader MolecularSequence
    NamingSystem NutritionIntake NutritionOrder NutritionProduct Observation
    ObservationDefinition OperationDefinition OperationOutcome Organization
    OrganizationAffiliation PackagedProductDefinition Parameters Patient PaymentNotice
    PaymentReconciliation Permission Person PlanDefinition Practitioner PractitionerRole
    Procedure Provenance Questionnaire QuestionnaireResponse RegulatedAuthorization
    RelatedPerson RequestGroup RequestOrchestration Requirements ResearchDefinition
    ResearchElementDefinition ResearchStudy ResearchSubject RiskAssessment
    RiskEvidenceSynthesis Schedule SearchParameter ServiceRequest Slot Specimen
    SpecimenDefinition StructureDefinition StructureMap Subscription SubscriptionStatus
    SubscriptionTopic Substance SubstanceDefinition SubstanceNucleicAcid
    SubstancePolymer SubstanceProtein SubstanceReferenceInformation
    SubstanceSourceMaterial SubstanceSpecification SupplyDelivery SupplyRequest Task
    TerminologyCapabilities TestPlan TestReport TestScript Transport ValueSet
    VerificationResult VisionPrescription
    """.split()  # noqa: SIM905 - 178 names read better as text
)
"""Every resource type of FHIR R4 (4.0.1), R4B and R5 (178 names)."""


def type_label(value: object) -> str:
    """``value`` when it is a FHIR resource type name, else ``"<unknown type>"``.

    >>> type_label("Patient"), type_label("Jane Doe")
    ('Patient', '<unknown type>')
    """
    return value if isinstance(value, str) and value in RESOURCE_TYPES else UNKNOWN_TYPE
