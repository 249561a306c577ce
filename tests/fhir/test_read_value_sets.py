"""fhir.read_value_sets: VSAC exports from the shared data, and bad input with paths."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from carecoord.domain import CareSetting, Code, Diagnosis, System
from carecoord.errors import InteropError
from carecoord.fhir import FhirImportError, read_value_sets
from carecoord.terminology import DEFAULT_VALUE_SETS, VSAC_BASE, ValueSet, canonical_system
from carecoord.testing import AS_OF, make_transition
from carecoord.testing._timetravel import Scenario

from ._shared import shared_data_dir

VSAC = "vsac-valuesets"
"""The shared folder of VSAC exports (26 ValueSets, see its MANIFEST.tsv)."""

VSAC_OIDS = (
    "2.16.840.1.113762.1.4.1046.269",
    "2.16.840.1.113762.1.4.1056.50",
    "2.16.840.1.113762.1.4.1095.101",
    "2.16.840.1.113762.1.4.1108.15",
    "2.16.840.1.113762.1.4.1111.171",
    "2.16.840.1.113762.1.4.1116.365",
    "2.16.840.1.113762.1.4.1248.130",
    "2.16.840.1.113883.3.117.1.7.1.207",
    "2.16.840.1.113883.3.117.1.7.1.209",
    "2.16.840.1.113883.3.117.1.7.1.247",
    "2.16.840.1.113883.3.117.1.7.1.87",
    "2.16.840.1.113883.3.464.1003.101.12.1046",
    "2.16.840.1.113883.3.464.1003.103.12.1001",
    "2.16.840.1.113883.3.464.1003.104.12.1011",
    "2.16.840.1.113883.3.464.1003.105.12.1004",
    "2.16.840.1.113883.3.464.1003.105.12.1007",
    "2.16.840.1.113883.3.464.1003.105.12.1104",
    "2.16.840.1.113883.3.464.1003.106.12.1001",
    "2.16.840.1.113883.3.464.1003.120.12.1003",
    "2.16.840.1.113883.3.464.1003.121.12.1006",
    "2.16.840.1.113883.3.464.1003.198.12.1013",
    "2.16.840.1.113883.3.526.3.1002",
    "2.16.840.1.113883.3.526.3.1240",
    "2.16.840.1.113883.3.526.3.376",
    "2.16.840.1.113883.3.666.5.623",
    "2.16.840.1.113883.3.67.1.101.1.128",
)
"""The OIDs of the 26 exports (file ``valueset-<oid>.json``), as MANIFEST.tsv lists them."""

_SHORT = {
    System.ICD10CM: "ICD-10-CM",
    System.SNOMED: "SNOMED",
    System.LOINC: "LOINC",
    System.RXNORM: "RxNorm",
    System.HCPCS: "HCPCS",
}

COVERAGE: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("mental-illness", "2.16.840.1.113883.3.464.1003.105.12.1004"): {
        "ICD-10-CM": (286, 1103),
        "SNOMED": (28, 1302),
    },
    ("self-harm", "2.16.840.1.113762.1.4.1248.130"): {"ICD-10-CM": (1, 1)},
    ("behavioral-health", "2.16.840.1.113883.3.464.1003.105.12.1004"): {
        "ICD-10-CM": (748, 1103),
        "SNOMED": (36, 1302),
    },
    ("substance-use-disorder", "2.16.840.1.113883.3.464.1003.106.12.1001"): {
        "ICD-10-CM": (273, 273),
        "SNOMED": (8, 274),
    },
    ("opioid-use-disorder", "2.16.840.1.113762.1.4.1111.171"): {
        "ICD-10-CM": (14, 14),
        "SNOMED": (1, 13),
    },
    ("opioid-use-disorder-medications", "2.16.840.1.113762.1.4.1046.269"): {"RxNorm": (0, 30)},
    ("hiv", "2.16.840.1.113883.3.464.1003.120.12.1003"): {
        "ICD-10-CM": (9, 9),
        "SNOMED": (6, 228),
    },
    ("hiv-lab-tests", "2.16.840.1.113762.1.4.1056.50"): {"LOINC": (8, 169)},
    ("diabetes", "2.16.840.1.113883.3.464.1003.103.12.1001"): {
        "ICD-10-CM": (256, 280),
        "SNOMED": (5, 89),
    },
    ("hypertension", "2.16.840.1.113883.3.464.1003.104.12.1011"): {
        "ICD-10-CM": (1, 1),
        "SNOMED": (3, 16),
    },
    ("heart-failure", "2.16.840.1.113883.3.526.3.376"): {
        "ICD-10-CM": (22, 22),
        "SNOMED": (9, 77),
    },
    ("chronic-kidney-disease", "2.16.840.1.113883.3.526.3.1002"): {
        "ICD-10-CM": (1, 1),
        "SNOMED": (1, 1),
    },
    ("major-depression", "2.16.840.1.113883.3.464.1003.105.12.1007"): {
        "ICD-10-CM": (12, 12),
        "SNOMED": (3, 55),
    },
    ("acute-myocardial-infarction", "2.16.840.1.113883.3.666.5.623"): {"ICD-10-CM": (18, 18)},
    ("stroke-tia", "2.16.840.1.113883.3.117.1.7.1.247"): {
        "ICD-10-CM": (91, 91),
        "SNOMED": (2, 25),
    },
    ("hospice", "2.16.840.1.113762.1.4.1095.101"): {"SNOMED": (1, 2)},
    ("hospice", "2.16.840.1.113762.1.4.1108.15"): {"SNOMED": (2, 2)},
    ("hospice", "2.16.840.1.113762.1.4.1116.365"): {"SNOMED": (6, 9)},
    ("annual-wellness-visit", "2.16.840.1.113883.3.526.3.1240"): {
        "HCPCS": (2, 3),
        "SNOMED": (2, 5),
    },
    ("hba1c-tests", "2.16.840.1.113883.3.464.1003.198.12.1013"): {"LOINC": (5, 5)},
    ("consult-note", "2.16.840.1.113883.3.464.1003.121.12.1006"): {
        "LOINC": (35, 234),
        "SNOMED": (3, 5),
    },
}
"""How many of each published set's codes the default it approximates holds, per system:
the table of ``docs/valuesets.md``."""


def vsac_file(oid: str) -> Path:
    """The shared export of the value set ``oid``."""
    return shared_data_dir(VSAC) / f"valueset-{oid}.json"


def expansion_size(path: Path) -> int:
    """How many codes the raw export lists in its expansion."""
    return len(json.loads(path.read_text(encoding="utf-8"))["expansion"]["contains"])


def coverage(default: ValueSet, published: ValueSet) -> dict[str, tuple[int, int]]:
    """(members of ``default``, all) among ``published``'s codes, per code system."""
    members: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for code in published.codes:
        system = canonical_system(code.system)
        label = _SHORT.get(system, system)
        total[label] += 1
        members[label] += code in default
    return {label: (members[label], total[label]) for label in sorted(total)}


class TestVsacExports:
    """Every shared VSAC export loads; the defaults are measured against them."""

    @pytest.mark.parametrize("oid", VSAC_OIDS)
    def test_each_export_loads(self, oid: str) -> None:
        """One ValueSet per file, with its OID, URL, version and every expansion code."""
        path = vsac_file(oid)
        (value_set,) = read_value_sets(path)
        assert value_set.oid == oid
        assert value_set.url == VSAC_BASE + oid
        assert value_set.version
        assert value_set.title
        assert len(value_set.codes) == expansion_size(path)

    def test_whole_folder(self) -> None:
        """The folder reads as 26 value sets, one per OID, in file-name order."""
        value_sets = read_value_sets(shared_data_dir(VSAC))
        assert [v.oid for v in value_sets] == sorted(VSAC_OIDS)

    def test_bytes_and_objects(self) -> None:
        """The same export read from bytes and from a parsed object gives the same set."""
        path = vsac_file(VSAC_OIDS[0])
        from_bytes = read_value_sets(path.read_bytes())
        from_object = read_value_sets(json.loads(path.read_text(encoding="utf-8")))
        assert from_bytes == from_object == read_value_sets(path)

    def test_membership_in_a_loaded_set(self) -> None:
        """A code of the export is a member, dot or no dot; a code of another system is not."""
        (mhd,) = read_value_sets(vsac_file("2.16.840.1.113883.3.464.1003.105.12.1004"))
        icd = next(c for c in mhd.codes if c.system == System.ICD10CM and "." in c.code)
        assert recoded(icd, icd.code.replace(".", "")) in mhd
        assert recoded(icd, icd.code, System.SNOMED) not in mhd

    def test_coverage_of_the_defaults(self) -> None:
        """What share of each published set the shipped default covers (docs/valuesets.md)."""
        loaded = {v.oid: v for v in read_value_sets(shared_data_dir(VSAC))}
        measured = {
            (name, url.removeprefix(VSAC_BASE)): coverage(
                value_set, loaded[url.removeprefix(VSAC_BASE)]
            )
            for name, value_set in DEFAULT_VALUE_SETS.items()
            for url in value_set.approximates
        }
        assert measured == COVERAGE

    def test_fuh_triggers_cover_the_published_mental_health_codes(self) -> None:
        """FUH's two sets hold every MHD ICD-10-CM code but substance use and dementia.

        The FUH rules read mental illness and self-harm: together they cover the F20-F99
        and intentional self-harm codes of VSAC's Mental Health Diagnoses.
        """
        (mhd,) = read_value_sets(vsac_file("2.16.840.1.113883.3.464.1003.105.12.1004"))
        fuh = DEFAULT_VALUE_SETS["mental-illness"].union(DEFAULT_VALUE_SETS["self-harm"])
        missed = {c.code[:3] for c in mhd.codes if c.system == System.ICD10CM and c not in fuh}
        assert missed == {"F03", "F10", "F11", "F12", "F13", "F14", "F15", "F16", "F18", "F19"}


class TestLoadedSetsDriveTheRules:
    """A VSAC export put in the library changes what the rules see."""

    def test_mental_health_diagnoses_replace_the_default(self) -> None:
        """A SNOMED code only VSAC lists opens FUH once the export replaces the default."""
        (mhd,) = read_value_sets(vsac_file("2.16.840.1.113883.3.464.1003.105.12.1004"))
        default = DEFAULT_VALUE_SETS["mental-illness"]
        extra = next(c for c in mhd.codes if c.system == System.SNOMED and c not in default)
        discharged = AS_OF - dt.timedelta(days=20)
        stay = make_transition(
            admitted_at=discharged - dt.timedelta(days=3),
            discharged_at=discharged,
            to_setting=CareSetting.HOME,
            diagnoses=(Diagnosis(Code(extra.system, extra.code), principal=True),),
        )
        library = DEFAULT_VALUE_SETS.replace("mental-illness", mhd)
        rule = "transition.mental-health-follow-up"
        without = Scenario(start=AS_OF).add("transitions", stay)
        with_vsac = Scenario(start=AS_OF, value_sets=library).add("transitions", stay)
        assert without.find_gaps(rule) == ()
        assert len(with_vsac.find_gaps(rule)) == 2


def recoded(code: Code, text: str, system: str | None = None) -> Code:
    """``code`` with another code text (and system)."""
    return Code(system or code.system, text)


def value_set_json(**fields: Any) -> dict[str, Any]:
    """A minimal FHIR ValueSet."""
    return {
        "resourceType": "ValueSet",
        "name": "Tiny",
        "expansion": {"contains": [{"system": System.SNOMED, "code": "1"}]},
        **fields,
    }


class TestBadInput:
    """Problems come back as FhirImportError issues with the file and the FHIR path."""

    def test_bundle_of_value_sets(self) -> None:
        """A Bundle contributes each of its ValueSet entries."""
        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"resource": value_set_json(name="A")},
                {"resource": value_set_json(name="B")},
            ],
        }
        assert [v.name for v in read_value_sets(bundle)] == ["A", "B"]

    def test_problems_name_file_and_path(self, tmp_path: Path) -> None:
        """A broken value set and a Patient in a folder: both reported, with their files."""
        (tmp_path / "a.json").write_text(
            json.dumps(value_set_json(expansion={"contains": [{"code": "1"}]})), encoding="utf-8"
        )
        (tmp_path / "b.json").write_text(json.dumps({"resourceType": "Patient"}), encoding="utf-8")
        (tmp_path / "c.json").write_text("{not json", encoding="utf-8")
        with pytest.raises(FhirImportError) as caught:
            read_value_sets(tmp_path, name_files=True)
        found = [(i.source, i.path, i.code) for i in caught.value.issues]
        assert found == [
            ("a.json", "ValueSet.expansion.contains[0].system", "invalid-value-set"),
            ("b.json", "resourceType", "not-a-value-set"),
            ("c.json", "", "invalid-json"),
        ]

    def test_files_are_named_by_position_unless_asked(self, tmp_path: Path) -> None:
        """By default the problems name files by position, never by their names."""
        (tmp_path / "Jane_Doe_123.json").write_text("{not json", encoding="utf-8")
        (tmp_path / "John_Roe_456.json").write_text("[]", encoding="utf-8")
        with pytest.raises(FhirImportError) as caught:
            read_value_sets(tmp_path)
        assert [i.source for i in caught.value.issues] == ["<file 1>", "<file 2>"]
        assert "Jane" not in str(caught.value)

    def test_bundle_entry_paths(self) -> None:
        """Inside a Bundle, the path starts at the entry."""
        bundle = {
            "resourceType": "Bundle",
            "entry": [
                {"resource": {"resourceType": "Patient"}},
                {"resource": value_set_json(url=1)},
            ],
        }
        with pytest.raises(FhirImportError) as caught:
            read_value_sets(bundle)
        assert [i.path for i in caught.value.issues] == [
            "Bundle.entry[0].resource.resourceType",
            "Bundle.entry[1].resource.url",
        ]

    def test_missing_path(self, tmp_path: Path) -> None:
        """A path that does not exist is an InteropError naming it."""
        with pytest.raises(InteropError, match="no such file"):
            read_value_sets(tmp_path / "missing.json")
