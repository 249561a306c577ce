"""No personal data in reprs or error messages."""

from __future__ import annotations

import pytest

import carecoord as cc
from carecoord.domain import Address, ContactPoint, ContactSystem, HumanName, Identifier, Note
from carecoord.testing import (
    make_activity,
    make_communication,
    make_goal,
    make_patient,
    make_practitioner,
    make_record,
    make_task,
)

SECRETS = ("Zebediah", "Quillfeather", "1961", "555-0199", "42 Hidden Lane", "MRN-777")


def _patient() -> cc.Patient:
    return make_patient(
        names=(HumanName(family="Quillfeather", given=("Zebediah",)),),
        birth_date=cc.PartialDate(1961, 4, 12),
        telecom=(ContactPoint(ContactSystem.PHONE, "555-0199"),),
        addresses=(Address(lines=("42 Hidden Lane",), city="Nowhere"),),
        identifiers=(Identifier("urn:example:mrn", "MRN-777"),),
    )


class TestReprMasking:
    """Objects holding names, birth dates, addresses, telecom, identifiers or notes mask them."""

    @pytest.mark.parametrize(
        "obj",
        [
            _patient(),
            _patient().names[0],
            _patient().addresses[0],
            _patient().telecom[0],
            _patient().identifiers[0],
            make_record(patient=_patient()),
        ],
        ids=["patient", "name", "address", "telecom", "identifier", "record"],
    )
    def test_repr_hides_personal_data(self, obj: object) -> None:
        """None of the personal values appear in the repr."""
        text = repr(obj)

        for secret in SECRETS:
            assert secret not in text

    def test_note_text_masked(self) -> None:
        """Free text in tasks, communications, goals and activities is masked."""
        secret = "Zebediah said the neighbour beats him"
        objs = [
            make_task(description=secret),
            make_task(notes=(Note(secret),)),
            make_communication(note=secret),
            make_goal(description=secret),
            make_activity(note=secret),
        ]

        for obj in objs:
            assert secret not in repr(obj)

    def test_practitioner_name_masked(self) -> None:
        """Practitioner names are masked too."""
        doctor = make_practitioner(names=(HumanName(family="Quillfeather"),))

        assert "Quillfeather" not in repr(doctor)

    def test_masked_fields_say_so(self) -> None:
        """A masked field shows <masked>, an empty one shows it is empty."""
        text = repr(_patient())

        assert "names=<masked>" in text
        assert "links=()" in text


class TestErrorMessages:
    """Validation errors name paths, never values."""

    def test_record_error_does_not_echo_ids_or_names(self) -> None:
        """A record error mentions the path and reason only."""
        with pytest.raises(cc.ValidationError) as info:
            make_record(patient=_patient(), tasks=(make_task(patient="MRN-777"),))

        for secret in SECRETS:
            assert secret not in str(info.value)
