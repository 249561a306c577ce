"""Care transitions: inpatient and observation stays, emergency visits, transfers."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import attrs

from carecoord.domain._values import (
    Code,
    PatientId,
    Ref,
    Sensitivity,
    TransitionId,
    aware,
    before,
    choice,
    is_frozenset,
    is_tuple,
    non_empty,
    optional_aware,
)
from carecoord.errors import InvalidTransition, Problem, ValidationError

__all__ = [
    "CareSetting",
    "CareTransition",
    "Complexity",
    "Diagnosis",
    "TransitionKind",
]


class TransitionKind(Enum):
    """What kind of transition."""

    INPATIENT = "inpatient"
    OBSERVATION = "observation"
    EMERGENCY = "emergency"
    TRANSFER = "transfer"


class CareSetting(Enum):
    """Where the patient comes from or goes to."""

    INPATIENT = "inpatient"
    OBSERVATION = "observation"
    EMERGENCY = "emergency"
    SKILLED_NURSING = "skilled-nursing"
    REHAB = "rehab"
    PSYCHIATRIC = "psychiatric"
    HOME = "home"
    HOME_HEALTH = "home-health"
    HOSPICE = "hospice"
    OUTPATIENT = "outpatient"
    OTHER_HOSPITAL = "other-hospital"
    DECEASED = "deceased"
    LEFT_AGAINST_ADVICE = "left-against-advice"
    UNKNOWN = "unknown"

    @property
    def is_community(self) -> bool:
        """Home, home health, outpatient and leaving against advice count as the community.

        These are the discharges after which TCM and HEDIS TRC expect follow-up.

        Hospice and another acute hospital are exclusions, and an unknown destination is
        not assumed to be the community.
        """
        return (
            self is CareSetting.HOME
            or self is CareSetting.HOME_HEALTH
            or self is CareSetting.OUTPATIENT
            or self is CareSetting.LEFT_AGAINST_ADVICE
        )


class Complexity(Enum):
    """Medical decision-making complexity at discharge (TCM 99495 moderate, 99496 high)."""

    MODERATE = "moderate"
    HIGH = "high"


@attrs.frozen
class Diagnosis:
    """A diagnosis attached to a transition; ``principal`` flags the principal one."""

    code: Code
    principal: bool = False


@attrs.frozen
class CareTransition:
    """One stay or visit that moves the patient between settings.

    ``discharged_at`` is ``None`` while the patient is still there. A discharge cannot
    precede its admission.
    """

    id: TransitionId = attrs.field(validator=non_empty)
    patient: PatientId = attrs.field(validator=non_empty)
    kind: TransitionKind = attrs.field(validator=choice(TransitionKind))
    admitted_at: dt.datetime = attrs.field(validator=aware)
    discharged_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)
    from_setting: CareSetting = attrs.field(
        default=CareSetting.UNKNOWN, validator=choice(CareSetting)
    )
    to_setting: CareSetting = attrs.field(
        default=CareSetting.UNKNOWN, validator=choice(CareSetting)
    )
    facility: Ref | None = None
    discharge_disposition: Code | None = None
    diagnoses: tuple[Diagnosis, ...] = attrs.field(default=(), validator=is_tuple)
    complexity: Complexity | None = None
    attending: Ref | None = None
    encounter: Ref | None = None
    sensitivity: frozenset[Sensitivity] = attrs.field(default=frozenset(), validator=is_frozenset)
    recorded_at: dt.datetime | None = attrs.field(default=None, validator=optional_aware)

    def __attrs_post_init__(self) -> None:
        if self.discharged_at is not None and before(self.discharged_at, self.admitted_at):
            raise ValidationError(
                Problem("discharged_at", "a discharge cannot precede its admission"),
            )
        if sum(d.principal for d in self.diagnoses) > 1:
            raise ValidationError(Problem("diagnoses", "at most one principal diagnosis"))

    @property
    def principal_diagnosis(self) -> Diagnosis | None:
        """The principal diagnosis, or the first one when none is flagged."""
        for d in self.diagnoses:
            if d.principal:
                return d
        return self.diagnoses[0] if self.diagnoses else None

    @property
    def is_discharged(self) -> bool:
        """Whether the stay or visit has ended."""
        return self.discharged_at is not None

    def discharge(
        self,
        *,
        at: dt.datetime,
        to_setting: CareSetting,
        disposition: Code | None = None,
    ) -> CareTransition:
        """Return a copy discharged at ``at`` to ``to_setting``."""
        if self.discharged_at is not None:
            raise InvalidTransition("CareTransition", "discharged", "discharged", [])
        return attrs.evolve(
            self,
            discharged_at=at,
            to_setting=to_setting,
            discharge_disposition=disposition or self.discharge_disposition,
        )
