"""Value sets: membership by exact code and by ICD-10-CM pattern, the library, FHIR input."""

from __future__ import annotations

from typing import Any

import pytest

from carecoord.domain import Code, System
from carecoord.errors import NotFound, UsageError, ValidationError
from carecoord.terminology import (
    ATC,
    CHRONIC_CONDITION_GROUPS,
    DEFAULT_VALUE_SETS,
    SENSITIVITY_VALUE_SETS,
    CodePattern,
    ValueSet,
    ValueSetName,
    ValueSets,
    canonical_system,
    normal_code,
)


def icd(code: str) -> Code:
    """An ICD-10-CM code."""
    return Code(System.ICD10CM, code)


def sct(code: str) -> Code:
    """A SNOMED CT code."""
    return Code(System.SNOMED, code)


class TestCodePattern:
    """ICD-10-CM category patterns: prefixes, ranges and a character condition."""

    @pytest.mark.parametrize(
        ("pattern", "code", "expected"),
        [
            ("F32", "F32.9", True),
            ("F32", "F329", True),
            ("F32", "f32.a", True),
            ("F32", "F33.1", False),
            ("T14.91", "T14.91XA", True),
            ("T14.91", "T14.90XA", False),
            ("X71-X83", "X71.0XXA", True),
            ("X71-X83", "X83.8XXA", True),
            ("X71-X83", "X84", False),
            ("X71-X83", "X7", False),
            ("F", "F01.50", True),
        ],
    )
    def test_prefix_and_range(self, pattern: str, code: str, expected: bool) -> None:
        """A prefix covers its codes; a range covers the categories between its ends."""
        assert CodePattern(System.ICD10CM, pattern).matches(icd(code)) is expected

    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            ("T43.222A", True),  # SSRI, intentional self-harm
            ("T36.0X2A", True),  # penicillins: placeholder X at 5, intent at 6
            ("T36.92XA", True),  # short code: placeholder X at 6, intent at 5
            ("T65.92XA", True),  # toxic effect, intentional
            ("T43.221A", False),  # accidental
            ("T36.91XA", False),  # accidental, short code
            ("T43.22", False),  # the header, no intent character
            ("T66.2XXA", False),  # outside the range
            ("T35.2X2A", False),  # outside the range
        ],
    )
    def test_intent_character(self, code: str, expected: bool) -> None:
        """T36-T65:6=2 reads the intent character, behind the placeholder X when there is one."""
        pattern = CodePattern(System.ICD10CM, "T36-T65:6=2")
        assert pattern.matches(icd(code)) is expected

    def test_another_system_never_matches(self) -> None:
        """An ICD pattern does not match a SNOMED code that happens to start alike."""
        assert not CodePattern(System.ICD10CM, "F32").matches(sct("F329"))

    def test_icd10_counts_as_icd10cm(self) -> None:
        """ICD-10 (WHO) codes are compared as ICD-10-CM codes."""
        assert CodePattern(System.ICD10CM, "F32").matches(Code(System.ICD10, "F32.9"))

    @pytest.mark.parametrize("pattern", ["", "F3-F40", "X83-X71", "F32:", "F32?", "F32:2=1"])
    def test_bad_patterns_are_refused(self, pattern: str) -> None:
        """Malformed patterns raise ValidationError naming the field."""
        with pytest.raises(ValidationError, match="pattern"):
            CodePattern(System.ICD10CM, pattern)

    def test_patterns_only_for_hierarchical_systems(self) -> None:
        """SNOMED CT codes do not nest by prefix: a pattern for them is refused."""
        with pytest.raises(ValidationError, match="hierarchical"):
            CodePattern(System.SNOMED, "3548")

    def test_atc_prefix(self) -> None:
        """ATC groups nest by prefix too."""
        assert CodePattern(ATC, "N06").matches(Code(ATC, "N06AB06"))


class TestValueSet:
    """Exact codes, patterns, several codings, and the shape of a value set."""

    def test_exact_codes_ignore_display_and_system_alias(self) -> None:
        """A SNOMED code matches under its OID too, whatever its display."""
        vs = ValueSet("x", codes=(sct("370143000"),))
        assert Code("urn:oid:2.16.840.1.113883.6.96", " 370143000 ", "anything") in vs
        assert sct("370143001") not in vs

    def test_any_member_coding_matches(self) -> None:
        """Several codings of one concept: one member is enough."""
        vs = DEFAULT_VALUE_SETS[ValueSetName.MENTAL_ILLNESS]
        codings = (Code(System.LOINC, "1-1"), sct("370143000"))
        assert vs.contains_any(codings)
        assert vs.first_member(codings) == sct("370143000")
        assert not vs.contains_any((Code(System.LOINC, "1-1"), icd("I10")))

    def test_hcpcs_as_vsac_names_it(self) -> None:
        """VSAC's HCPCS system URI is the same system as carecoord's."""
        hcpcs = Code("http://www.nlm.nih.gov/research/umls/hcpcs", "g0438")
        assert hcpcs in DEFAULT_VALUE_SETS[ValueSetName.ANNUAL_WELLNESS_VISIT]

    def test_not_a_code_is_not_a_member(self) -> None:
        """``in`` with something other than a Code is simply False."""
        assert "F32.9" not in DEFAULT_VALUE_SETS[ValueSetName.MENTAL_ILLNESS]

    def test_codes_and_patterns_by_system(self) -> None:
        """codes_in and patterns_in select by system, any of its names."""
        vs = DEFAULT_VALUE_SETS[ValueSetName.SELF_HARM]
        assert {c.code for c in vs.codes_in("urn:oid:2.16.840.1.113883.6.96")} == {
            "82313006",
            "287181005",
        }
        assert "T36-T65:6=2" in {p.pattern for p in vs.patterns_in(System.ICD10)}
        assert vs.systems == (System.ICD10CM, System.SNOMED)

    def test_union(self) -> None:
        """A union holds both sets' members and is no longer the published set."""
        a = ValueSet("a", codes=(sct("1"),), url="http://x/a", version="1")
        b = ValueSet("b", patterns=(CodePattern(System.ICD10CM, "F32"),))
        both = a.union(b, name="both")
        assert (sct("1") in both, icd("F32.1") in both, both.url, both.name) == (
            True,
            True,
            None,
            "both",
        )

    def test_repr_is_short(self) -> None:
        """The repr counts codes instead of listing them."""
        assert repr(ValueSet("a", codes=(sct("1"),), version="2")) == (
            "ValueSet('a', version='2', 1 codes, 0 patterns)"
        )

    def test_fields_are_validated(self) -> None:
        """Lists are tuples of the right type; the name is required."""
        with pytest.raises(UsageError, match=r"codes: .* got a tuple holding a Code, a str"):
            ValueSet("a", codes=(sct("1"), "2"))  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="name"):
            ValueSet(" ")

    def test_normal_forms(self) -> None:
        """ICD-10-CM codes lose their dot and are upper-cased; others are only stripped."""
        assert normal_code(System.ICD10CM, " t43.222a ") == "T43222A"
        assert normal_code(System.SNOMED, " 123 ") == "123"
        assert canonical_system(System.ICD10) == System.ICD10CM


class TestLibrary:
    """ValueSets: lookup by name, immutable replacement, clear errors."""

    def test_unknown_name_is_a_carecoord_error(self) -> None:
        """An unknown name raises NotFound, suggesting close names."""
        with pytest.raises(NotFound, match="did you mean 'mental-illness'"):
            DEFAULT_VALUE_SETS["mental-ilness"]

    def test_replace_returns_a_new_library(self) -> None:
        """replace() keys the new set under the carecoord name and leaves the original."""
        mine = ValueSet("MyList", codes=(icd("F32.9"),))
        library = DEFAULT_VALUE_SETS.replace(ValueSetName.MENTAL_ILLNESS, mine)
        assert library[ValueSetName.MENTAL_ILLNESS] is mine
        assert DEFAULT_VALUE_SETS[ValueSetName.MENTAL_ILLNESS] is not mine
        assert library.names == DEFAULT_VALUE_SETS.names

    def test_replace_refuses_unknown_names(self) -> None:
        """Replacing a name the library lacks is a typo, not an addition."""
        with pytest.raises(NotFound, match="with_"):
            DEFAULT_VALUE_SETS.replace("nope", ValueSet("nope"))

    def test_with_adds_under_own_name(self) -> None:
        """with_() adds (or replaces) sets under their own names."""
        library = DEFAULT_VALUE_SETS.with_(ValueSet("extra"))
        assert "extra" in library
        assert len(library) == len(DEFAULT_VALUE_SETS) + 1

    def test_bad_members_are_refused(self) -> None:
        """A library holds ValueSets only, each name once."""
        with pytest.raises(ValidationError, match="expected a ValueSet"):
            ValueSets({"a": "b"})  # type: ignore[dict-item]
        with pytest.raises(ValidationError, match="twice"):
            ValueSets((ValueSet("a"), ValueSet("a")))
        with pytest.raises(UsageError, match="expected a mapping or an iterable of ValueSet"):
            ValueSets(3)  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="expected a ValueSet"):
            DEFAULT_VALUE_SETS.with_("x")  # type: ignore[arg-type]

    def test_require_names_what_is_missing(self) -> None:
        """require() raises NotFound naming the missing sets and who reads them."""
        with pytest.raises(NotFound, match=r"rule x reads value sets missing.*'b'"):
            ValueSets((ValueSet("a"),)).require(["a", "b"], reader="rule x")

    def test_containing(self) -> None:
        """containing() tells which sets a code is in."""
        names = DEFAULT_VALUE_SETS.containing(icd("T43.222A"))
        assert set(names) == {
            ValueSetName.SELF_HARM,
            ValueSetName.DRUG_OVERDOSE,
            ValueSetName.SENSITIVITY_MENTAL_HEALTH,
        }

    def test_equality_and_hash(self) -> None:
        """Libraries with the same sets are equal and hash alike."""
        one = ValueSets((ValueSet("a"),))
        two = ValueSets({"a": ValueSet("a")})
        assert one == two
        assert hash(one) == hash(two)
        assert repr(one) == "ValueSets(1 value sets)"


class TestDefaults:
    """The shipped defaults: every name the rules and views read is there."""

    def test_every_name_constant_is_in_the_defaults(self) -> None:
        """Each ValueSetName is a default, keyed by its own name."""
        names = [v for k, v in vars(ValueSetName).items() if k.isupper()]
        assert sorted(names) == sorted(DEFAULT_VALUE_SETS.names)
        assert all(DEFAULT_VALUE_SETS[n].name == n for n in names)

    def test_groups_and_sensitivity_sets_exist(self) -> None:
        """The chronic-condition groups and the sensitivity sets are defaults."""
        DEFAULT_VALUE_SETS.require(CHRONIC_CONDITION_GROUPS)
        DEFAULT_VALUE_SETS.require(name for _, name in SENSITIVITY_VALUE_SETS)

    def test_no_cpt_descriptors(self) -> None:
        """CPT codes are shipped as bare codes, without the AMA's descriptors."""
        cpt = [
            c for _, vs in DEFAULT_VALUE_SETS.items() for c in vs.codes if c.system == System.CPT
        ]
        assert cpt
        assert all(c.display is None for c in cpt)

    @pytest.mark.parametrize(
        ("name", "code"),
        [
            (ValueSetName.MENTAL_ILLNESS, sct("36923009")),
            (ValueSetName.SELF_HARM, sct("82313006")),
            (ValueSetName.SUBSTANCE_USE_DISORDER, sct("7200002")),
            (ValueSetName.OPIOID_USE_DISORDER, icd("F11.20")),
            (ValueSetName.HIV, icd("O98.711")),
            (ValueSetName.HIV_LAB_TESTS, Code(System.LOINC, "56888-1")),
            (ValueSetName.OPIOID_USE_DISORDER_MEDICATIONS, Code(System.RXNORM, "1819")),
            (ValueSetName.HEART_FAILURE, sct("88805009")),
            (ValueSetName.PREVENTIVE_VISIT, sct("185349003")),
            (ValueSetName.PREVENTIVE_VISIT, Code(System.CPT, "99397")),
            (ValueSetName.DRUG_OVERDOSE, icd("T40.1X1A")),
            (ValueSetName.HOSPICE, sct("385763009")),
        ],
    )
    def test_members(self, name: str, code: Code) -> None:
        """Typical members of the defaults, SNOMED CT as well as ICD-10-CM."""
        assert code in DEFAULT_VALUE_SETS[name]

    @pytest.mark.parametrize(
        ("name", "code"),
        [
            (ValueSetName.MENTAL_ILLNESS, icd("F10.20")),  # substance use is not FUH's
            (ValueSetName.MENTAL_ILLNESS, icd("F03.90")),  # nor dementia
            (ValueSetName.SUBSTANCE_USE_DISORDER, icd("F17.210")),  # nor nicotine here
            (ValueSetName.SELF_HARM, icd("T40.1X1A")),  # accidental overdose
            (ValueSetName.DRUG_OVERDOSE, icd("T40.1X5A")),  # adverse effect
            (ValueSetName.SENSITIVITY_MENTAL_HEALTH, icd("F10.20")),
            (ValueSetName.SENSITIVITY_SUBSTANCE_USE, icd("F32.9")),
        ],
    )
    def test_non_members(self, name: str, code: Code) -> None:
        """Codes the defaults deliberately leave out."""
        assert code not in DEFAULT_VALUE_SETS[name]


def fhir_value_set(**fields: Any) -> dict[str, Any]:
    """A small FHIR ValueSet, as VSAC exports them."""
    return {
        "resourceType": "ValueSet",
        "id": "2.16.840.1.113883.3.1",
        "url": "http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.1",
        "name": "Example",
        "title": "Example value set",
        "version": "20240101",
        **fields,
    }


class TestFromFhir:
    """ValueSet.from_fhir: VSAC expansions and compose concept lists, with paths on errors."""

    def test_expansion(self) -> None:
        """Codes come from expansion.contains, nested ones too; abstract ones are skipped."""
        resource = fhir_value_set(
            identifier=[{"system": "urn:ietf:rfc:3986", "value": "urn:oid:2.16.840.1.113883.3.1"}],
            expansion={
                "contains": [
                    {"system": System.ICD10CM, "code": "F32.9", "display": "MDD"},
                    {
                        "system": System.SNOMED,
                        "code": "0",
                        "abstract": True,
                        "contains": [{"system": System.SNOMED, "code": "370143000"}],
                    },
                ]
            },
        )
        vs = ValueSet.from_fhir(resource)
        assert (vs.name, vs.title, vs.oid, vs.version) == (
            "Example",
            "Example value set",
            "2.16.840.1.113883.3.1",
            "20240101",
        )
        assert vs.codes == (icd("F32.9"), sct("370143000"))
        assert icd("F329") in vs

    def test_compose_without_expansion(self) -> None:
        """Without an expansion, compose.include concepts minus compose.exclude ones."""
        resource = fhir_value_set(
            compose={
                "include": [{"system": System.SNOMED, "concept": [{"code": "1"}, {"code": "2"}]}],
                "exclude": [{"system": System.SNOMED, "concept": [{"code": "2"}]}],
            }
        )
        vs = ValueSet.from_fhir(resource)
        assert vs.codes == (sct("1"),)
        assert vs.oid == "2.16.840.1.113883.3.1"  # from the VSAC URL

    def test_problems_carry_paths(self) -> None:
        """Bad entries are reported together, each with its FHIR path."""
        resource = fhir_value_set(
            expansion={"contains": [{"code": "1"}, {"system": System.SNOMED}, "x"]}
        )
        with pytest.raises(ValidationError) as caught:
            ValueSet.from_fhir(resource)
        assert [p.path for p in caught.value.problems] == [
            "expansion.contains[0].system",
            "expansion.contains[1].code",
            "expansion.contains[2]",
        ]

    def test_paged_expansion_is_refused(self) -> None:
        """An expansion with fewer codes than its total is incomplete."""
        resource = fhir_value_set(
            expansion={"total": 3, "contains": [{"system": System.SNOMED, "code": "1"}]}
        )
        with pytest.raises(ValidationError, match=r"expansion\.total.*1 of 3"):
            ValueSet.from_fhir(resource)

    @pytest.mark.parametrize(
        ("include", "path"),
        [
            ({"system": System.SNOMED, "filter": [{"op": "is-a"}]}, "compose.include[0].filter"),
            ({"valueSet": ["http://x"]}, "compose.include[0].valueSet"),
            ({"system": System.SNOMED}, "compose.include[0].concept"),
        ],
    )
    def test_compose_needing_a_server(self, include: dict[str, Any], path: str) -> None:
        """Filters, other value sets and whole code systems cannot be expanded here."""
        with pytest.raises(ValidationError) as caught:
            ValueSet.from_fhir(fhir_value_set(compose={"include": [include]}))
        assert path in [p.path for p in caught.value.problems]

    @pytest.mark.parametrize(
        ("resource", "match"),
        [
            ({"resourceType": "Patient"}, "resourceType"),
            (["not", "a", "mapping"], "got list"),
            ({"resourceType": "ValueSet", "url": 3}, "url: expected a string"),
            ({"resourceType": "ValueSet"}, "name"),
        ],
    )
    def test_not_a_value_set(self, resource: Any, match: str) -> None:
        """Wrong resources raise ValidationError, never KeyError or TypeError."""
        with pytest.raises(ValidationError, match=match):
            ValueSet.from_fhir(resource)
