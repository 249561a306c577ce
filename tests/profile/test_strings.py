"""Tests for the string and value comparison primitives of the identity matcher."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carecoord.errors import ValidationError
from carecoord.profile._strings import (
    NICKNAMES,
    are_nicknames,
    canonical_given_names,
    damerau_levenshtein,
    jaro,
    jaro_winkler,
    name_similarity,
    name_tokens,
    normalize_address_line,
    normalize_email,
    normalize_name,
    normalize_phone,
    normalize_postal_code,
    nysiis,
)

# Small alphabets make collisions, transpositions and repeats likely.
short_text = st.text(alphabet="abcde", max_size=8)
any_text = st.text(max_size=12)


def reference_jaro(a: str, b: str) -> float:
    """Textbook Jaro similarity, written for clarity rather than speed."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    window = max(max(len(a), len(b)) // 2 - 1, 0)
    used = [False] * len(b)
    a_matches: list[str] = []
    for i, ch in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not used[j] and b[j] == ch:
                used[j] = True
                a_matches.append(ch)
                break
    b_matches = [ch for ch, flag in zip(b, used, strict=True) if flag]
    m = len(a_matches)
    if m == 0:
        return 0.0
    t = sum(x != y for x, y in zip(a_matches, b_matches, strict=True)) // 2
    return (m / len(a) + m / len(b) + (m - t) / m) / 3


def reference_osa(a: str, b: str) -> int:
    """Full-table optimal string alignment distance, written for clarity rather than speed."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


class TestNormalizeName:
    """normalize_name."""

    def test_casefolds(self) -> None:
        """Case is folded."""
        assert normalize_name("QUILLON") == "quillon"

    def test_strips_accents(self) -> None:
        """Accents are stripped through NFKD decomposition."""
        assert normalize_name("Zoë Ménardé") == "zoe menarde"

    def test_transliterates_undecomposable_letters(self) -> None:
        """Letters with no decomposition (ø, ł, æ, ß) are transliterated."""
        assert normalize_name("Ørvik Łasko Æbel Straßon") == "orvik lasko aebel strasson"

    def test_apostrophes_join(self) -> None:
        """Apostrophes, straight or typographic, join the parts they separate."""
        assert normalize_name("O'Vantry") == normalize_name("O’Vantry") == "ovantry"

    def test_hyphens_separate(self) -> None:
        """A hyphen separates parts, so the hyphenated and spaced forms are equal."""
        assert normalize_name("Brindle-Marsh") == normalize_name("Brindle Marsh") == "brindle marsh"

    def test_drops_other_punctuation(self) -> None:
        """Periods and commas become separators."""
        assert normalize_name("Q. Tamsin,Orrel") == "q tamsin orrel"

    def test_collapses_whitespace(self) -> None:
        """Runs of whitespace become one space and the ends are trimmed."""
        assert normalize_name("  Velda \t\n Quorne  ") == "velda quorne"

    def test_drops_leading_titles(self) -> None:
        """Leading titles such as Dr, Mrs and Mr are dropped."""
        assert normalize_name("Dr. Mrs. Velda Quorne") == "velda quorne"

    def test_drops_trailing_suffixes(self) -> None:
        """Trailing generational suffixes such as Jr and III are dropped."""
        assert normalize_name("Tobren Quall III, Jr.") == "tobren quall"

    def test_keeps_titles_in_the_middle(self) -> None:
        """A title word is only dropped at the start, a suffix only at the end."""
        assert normalize_name("Jr Orsk Dr") == "jr orsk dr"

    def test_keeps_a_lone_affix(self) -> None:
        """A name made only of affixes keeps its last token rather than becoming blank."""
        assert normalize_name("Mr") == "mr"

    def test_blank_is_empty(self) -> None:
        """A blank or punctuation-only name normalises to the empty string."""
        assert normalize_name(" - . ") == ""

    @given(any_text)
    def test_idempotent(self, text: str) -> None:
        """Normalising twice gives the same result as normalising once."""
        once = normalize_name(text)
        assert normalize_name(once) == once


class TestNameTokens:
    """name_tokens."""

    def test_splits_hyphenated_and_spaced_parts(self) -> None:
        """Hyphenated and space-separated parts become separate tokens."""
        assert name_tokens("Mary-Kate Vell Orsk") == ("mary", "kate", "vell", "orsk")

    def test_apostrophe_keeps_one_token(self) -> None:
        """An apostrophe does not split a token."""
        assert name_tokens("D'Arvell") == ("darvell",)

    def test_blank_is_empty_tuple(self) -> None:
        """A blank name gives no tokens."""
        assert name_tokens("   ") == ()

    @given(any_text)
    def test_joins_to_normalize_name(self, text: str) -> None:
        """Joining the tokens with spaces gives normalize_name."""
        assert " ".join(name_tokens(text)) == normalize_name(text)


class TestJaro:
    """jaro."""

    def test_known_value(self) -> None:
        """MARTHA/MARHTA has Jaro similarity 0.9444."""
        assert jaro("MARTHA", "MARHTA") == pytest.approx(0.944444, abs=1e-6)

    def test_no_common_characters_is_zero(self) -> None:
        """Strings with no matching characters score 0."""
        assert jaro("ABC", "XYZ") == 0.0

    @given(short_text, short_text)
    def test_agrees_with_reference(self, a: str, b: str) -> None:
        """The fast implementation agrees with a textbook one (in one argument order)."""
        result = jaro(a, b)
        assert any(
            math.isclose(result, expected, abs_tol=1e-12)
            for expected in (reference_jaro(a, b), reference_jaro(b, a))
        )


class TestJaroWinkler:
    """jaro_winkler."""

    @pytest.mark.parametrize(
        ("a", "b", "expected"),
        [
            ("MARTHA", "MARHTA", 0.9611),
            ("DWAYNE", "DUANE", 0.84),
            ("DIXON", "DICKSONX", 0.8133),
        ],
    )
    def test_known_values(self, a: str, b: str, expected: float) -> None:
        """Standard published examples give their published scores."""
        assert jaro_winkler(a, b) == pytest.approx(expected, abs=1e-4)

    def test_prefix_scale_zero_is_jaro(self) -> None:
        """With prefix_scale 0 the score is the plain Jaro similarity."""
        assert jaro_winkler("MARTHA", "MARHTA", prefix_scale=0.0) == jaro("MARTHA", "MARHTA")

    def test_prefix_bonus_capped_at_four(self) -> None:
        """Only the first four common characters earn the prefix bonus."""
        j = jaro("ABCDEFX", "ABCDEFY")
        assert jaro_winkler("ABCDEFX", "ABCDEFY") == pytest.approx(j + 4 * 0.1 * (1 - j))

    def test_case_sensitive(self) -> None:
        """The comparison is case-sensitive; callers normalise first."""
        assert jaro_winkler("abc", "ABC") == 0.0

    def test_both_empty_is_one(self) -> None:
        """Two empty strings are identical."""
        assert jaro_winkler("", "") == 1.0

    def test_one_empty_is_zero(self) -> None:
        """An empty string shares nothing with a non-empty one."""
        assert jaro_winkler("", "ORSK") == 0.0

    @pytest.mark.parametrize("scale", [-0.01, 0.26])
    def test_rejects_out_of_range_prefix_scale(self, scale: float) -> None:
        """A prefix_scale outside [0, 0.25] is rejected."""
        with pytest.raises(ValidationError):
            jaro_winkler("ORSK", "ORSKA", prefix_scale=scale)

    @given(short_text, short_text)
    def test_symmetric(self, a: str, b: str) -> None:
        """Swapping the arguments gives exactly the same score."""
        assert jaro_winkler(a, b) == jaro_winkler(b, a)

    @given(any_text, any_text)
    def test_within_unit_interval(self, a: str, b: str) -> None:
        """The score is always between 0 and 1."""
        assert 0.0 <= jaro_winkler(a, b) <= 1.0

    @given(any_text)
    def test_identical_is_one(self, a: str) -> None:
        """Identical strings score exactly 1."""
        assert jaro_winkler(a, a) == 1.0

    @given(short_text, short_text)
    def test_one_only_for_identical(self, a: str, b: str) -> None:
        """Different strings never score 1."""
        if a != b:
            assert jaro_winkler(a, b) < 1.0


class TestDamerauLevenshtein:
    """damerau_levenshtein (optimal string alignment)."""

    @pytest.mark.parametrize(
        ("a", "b", "expected"),
        [
            ("kitten", "sitting", 3),
            ("ORSK", "ORKS", 1),
            ("velda", "veld", 1),
            ("velda", "avelda", 1),
            ("", "abc", 3),
        ],
    )
    def test_known_values(self, a: str, b: str, expected: int) -> None:
        """Textbook examples give their known distances."""
        assert damerau_levenshtein(a, b) == expected

    def test_is_restricted_variant(self) -> None:
        """It is the optimal string alignment distance: ca -> abc costs 3, not 2."""
        assert damerau_levenshtein("ca", "abc") == 3

    @given(short_text, st.integers(min_value=0, max_value=10))
    def test_adjacent_transposition_counts_one(self, a: str, position: int) -> None:
        """Swapping two different adjacent characters costs exactly 1."""
        if len(a) < 2:
            return
        i = position % (len(a) - 1)
        if a[i] == a[i + 1]:
            return
        swapped = a[:i] + a[i + 1] + a[i] + a[i + 2 :]
        assert damerau_levenshtein(a, swapped) == 1

    @given(short_text, short_text)
    def test_symmetric(self, a: str, b: str) -> None:
        """Swapping the arguments gives the same distance."""
        assert damerau_levenshtein(a, b) == damerau_levenshtein(b, a)

    @given(short_text, short_text)
    def test_zero_iff_equal(self, a: str, b: str) -> None:
        """The distance is zero exactly when the strings are equal."""
        assert (damerau_levenshtein(a, b) == 0) == (a == b)

    @given(short_text, short_text)
    def test_bounded_by_longer_length(self, a: str, b: str) -> None:
        """The distance never exceeds the longer length nor falls below the length gap."""
        assert abs(len(a) - len(b)) <= damerau_levenshtein(a, b) <= max(len(a), len(b))

    @given(short_text, short_text)
    def test_agrees_with_reference(self, a: str, b: str) -> None:
        """The trimmed, two-row implementation agrees with the full-table one."""
        assert damerau_levenshtein(a, b) == reference_osa(a, b)


class TestNicknameTable:
    """NICKNAMES."""

    def test_has_at_least_150_canonical_names(self) -> None:
        """The table covers at least 150 canonical given names."""
        assert len(NICKNAMES) >= 150

    def test_every_entry_has_nicknames(self) -> None:
        """Every canonical name lists at least one nickname."""
        assert all(NICKNAMES.values())

    def test_entries_are_normalised(self) -> None:
        """Every canonical name and nickname is already in normalize_name form."""
        names = set(NICKNAMES) | {n for nicks in NICKNAMES.values() for n in nicks}
        assert {n for n in names if normalize_name(n) != n or " " in n} == set()

    def test_no_name_lists_itself(self) -> None:
        """No canonical name lists itself as its own nickname."""
        assert [c for c, nicks in NICKNAMES.items() if c in nicks] == []

    @pytest.mark.parametrize(
        ("canonical", "nicknames"),
        [
            ("william", {"bill", "will", "billy", "liam"}),
            ("robert", {"bob", "rob", "bobby"}),
            ("margaret", {"peggy", "maggie", "meg"}),
            ("elizabeth", {"liz", "beth", "betty", "eliza"}),
            ("katherine", {"kate", "kathy", "katie", "catherine"}),
        ],
    )
    def test_contains_common_equivalences(self, canonical: str, nicknames: set[str]) -> None:
        """Well-known nicknames are listed under their canonical names."""
        assert nicknames <= NICKNAMES[canonical]

    def test_is_read_only(self) -> None:
        """The table cannot be modified."""
        with pytest.raises(TypeError):
            NICKNAMES["zzz"] = frozenset()  # type: ignore[index]


class TestCanonicalGivenNames:
    """canonical_given_names."""

    def test_ambiguous_nickname_gives_every_canonical(self) -> None:
        """A nickname listed under several names stands for all of them."""
        assert {"albert", "alfred", "alan", "alexander"} <= canonical_given_names("Al")

    def test_canonical_name_stands_for_itself(self) -> None:
        """A canonical name stands for itself."""
        assert "william" in canonical_given_names("William")

    def test_variant_canonical_gives_both(self) -> None:
        """A canonical name listed as a variant of another stands for both."""
        assert {"catherine", "katherine"} <= canonical_given_names("Catherine")

    def test_unknown_name_stands_for_itself(self) -> None:
        """A name missing from the table stands for its normalised self."""
        assert canonical_given_names("  Quorvalen ") == frozenset({"quorvalen"})

    def test_blank_stands_for_nothing(self) -> None:
        """A blank name stands for no canonical name."""
        assert canonical_given_names(" ") == frozenset()


class TestAreNicknames:
    """are_nicknames."""

    @pytest.mark.parametrize(
        ("a", "b"),
        [("Bill", "William"), ("bill", "will"), ("Peggy", "margaret"), ("BOB", "Robert")],
    )
    def test_known_pairs_match(self, a: str, b: str) -> None:
        """Known nickname pairs match after normalisation, in either direction."""
        assert are_nicknames(a, b)
        assert are_nicknames(b, a)

    def test_unrelated_names_do_not_match(self) -> None:
        """Names with no shared canonical form do not match."""
        assert not are_nicknames("Bill", "Robert")

    def test_identical_names_match(self) -> None:
        """Identical non-blank names match trivially, even when not in the table."""
        assert are_nicknames("Quorvalen", "QUORVALEN")

    def test_blank_matches_nothing(self) -> None:
        """A blank name matches nothing, not even another blank."""
        assert not are_nicknames("", "")

    @given(st.sampled_from(sorted(NICKNAMES)), st.sampled_from(sorted(NICKNAMES)))
    def test_symmetric(self, a: str, b: str) -> None:
        """The relation is symmetric."""
        assert are_nicknames(a, b) == are_nicknames(b, a)


class TestNameSimilarity:
    """name_similarity."""

    def test_equal_after_normalisation_is_one(self) -> None:
        """Names equal after normalisation score 1."""
        assert name_similarity("Dr. Velda", "VELDA") == 1.0

    def test_spacing_differences_score_one(self) -> None:
        """Forms differing only in spaces or hyphens score 1."""
        assert name_similarity("Brindle-Marsh", "BrindleMarsh") == 1.0

    def test_nickname_scores_095(self) -> None:
        """Nicknames that are not otherwise similar score 0.95."""
        assert name_similarity("Peggy", "Margaret") == 0.95

    def test_close_spelling_keeps_higher_jaro_winkler(self) -> None:
        """A Jaro-Winkler score above 0.95 wins over the nickname score."""
        assert name_similarity("Jonathon", "Jonathan") == pytest.approx(
            jaro_winkler("jonathon", "jonathan"),
        )

    def test_unrelated_uses_jaro_winkler(self) -> None:
        """Unrelated names score their Jaro-Winkler similarity."""
        assert name_similarity("Velda", "Orsk") == jaro_winkler("velda", "orsk")

    def test_blank_scores_zero(self) -> None:
        """A blank value scores 0."""
        assert name_similarity("", "Velda") == 0.0

    @given(any_text, any_text)
    def test_symmetric_and_bounded(self, a: str, b: str) -> None:
        """The score is symmetric and between 0 and 1."""
        score = name_similarity(a, b)
        assert score == name_similarity(b, a)
        assert 0.0 <= score <= 1.0


class TestNysiis:
    """nysiis (original algorithm, keys truncated to 6 characters by default)."""

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("Knight", "NAGT"),
            ("Mitchell", "MATCAL"),
            ("Watkins", "WATCAN"),
            ("Brian", "BRAN"),
            ("Brown", "BRAN"),
            ("Dent", "DAD"),
            ("Dean", "DAN"),
            ("Phil", "FAL"),
            ("Schmidt", "SNAD"),
            ("Smith", "SNAT"),
            ("Kobwick", "CABWAC"),
            ("Kocher", "CACAR"),
            ("Shom", "SAN"),
            ("Ohlo", "OL"),
            ("Uhu", "UH"),
            ("Truman", "TRANAN"),
            ("Westerlund", "WASTAR"),
        ],
    )
    def test_known_encodings(self, name: str, expected: str) -> None:
        """Published reference names get their published truncated keys."""
        assert nysiis(name) == expected

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("MACINTOSH", "MCANT"),
            ("KNUTH", "NAT"),
            ("PHILLIPSON", "FALAPSAN"),
            ("HEITSCHMIDT", "HATSNAD"),
            ("WESTERLUND", "WASTARLAD"),
            ("CASSTEVENS", "CASTAFAN"),
            ("MCKNIGHT", "MCNAGT"),
            ("CARRAWAY", "CARY"),
        ],
    )
    def test_untruncated_encodings(self, name: str, expected: str) -> None:
        """With max_length=None the full key is returned."""
        assert nysiis(name, max_length=None) == expected

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("MACX", "MCX"),
            ("KNX", "NX"),
            ("KX", "CX"),
            ("PHX", "FX"),
            ("PFX", "FX"),
            ("SCHX", "SX"),
        ],
    )
    def test_first_letter_rules(self, name: str, expected: str) -> None:
        """Rule 1: MAC, KN, K, PH, PF and SCH at the start are transcoded."""
        assert nysiis(name) == expected

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("XEE", "XY"),
            ("XIE", "XY"),
            ("XDT", "XD"),
            ("XRT", "XD"),
            ("XRD", "XD"),
            ("XNT", "XD"),
            ("XND", "XD"),
        ],
    )
    def test_last_letter_rules(self, name: str, expected: str) -> None:
        """Rule 2: EE, IE, DT, RT, RD, NT and ND at the end are transcoded."""
        assert nysiis(name) == expected

    @pytest.mark.parametrize(
        ("name", "expected"),
        [("XS", "X"), ("XSS", "X"), ("XAY", "XY"), ("XAYS", "XY"), ("XA", "X"), ("XAS", "X")],
    )
    def test_trailing_rules(self, name: str, expected: str) -> None:
        """Rules 5-7: a trailing S, a trailing A and the A of a trailing AY are removed."""
        assert nysiis(name) == expected

    def test_keeps_first_letter(self) -> None:
        """The first letter comes from the name and is never removed by the trailing rules."""
        assert nysiis("As") == "A"

    def test_ignores_case_punctuation_and_accents(self) -> None:
        """Case, punctuation, spaces and accents do not change the key."""
        assert nysiis("o'Dánnel") == nysiis("ODANNEL") == "ODANAL"

    def test_similar_spellings_share_a_key(self) -> None:
        """Variant spellings of a name block together."""
        assert nysiis("Cory") == nysiis("Corey") == nysiis("Kory") == "CARY"

    def test_no_letters_gives_empty_key(self) -> None:
        """A name without letters encodes to the empty string."""
        assert nysiis("1234 -") == ""

    @given(any_text)
    def test_truncated_to_six(self, name: str) -> None:
        """The default key has at most 6 upper-case letters and prefixes the full key."""
        key = nysiis(name)
        assert len(key) <= 6
        assert nysiis(name, max_length=None).startswith(key)
        assert key == "" or (key.isascii() and key.isalpha() and key.isupper())


class TestNormalizePhone:
    """normalize_phone."""

    def test_keeps_digits_only(self) -> None:
        """Punctuation and spaces are removed."""
        assert normalize_phone("(555) 010-0199") == "5550100199"

    def test_drops_us_country_code(self) -> None:
        """The leading 1 of an 11-digit number is dropped."""
        assert normalize_phone("+1 555 010 0199") == "5550100199"

    def test_keeps_other_country_codes(self) -> None:
        """Non-US international numbers keep their country code."""
        assert normalize_phone("+44 20 7946 0999") == "442079460999"

    def test_drops_extension(self) -> None:
        """A trailing extension is not part of the number."""
        assert normalize_phone("555-010-0199 ext. 42") == "5550100199"

    def test_accepts_fullwidth_digits(self) -> None:
        """Fullwidth digits are read as digits."""
        assert normalize_phone("５５５０１００１９９") == "5550100199"

    def test_too_short_is_none(self) -> None:
        """Fewer than 7 digits is not a phone number."""
        assert normalize_phone("010-019") is None

    def test_seven_digits_is_kept(self) -> None:
        """Seven digits (a local number) is enough."""
        assert normalize_phone("010-0199") == "0100199"


class TestNormalizeEmail:
    """normalize_email."""

    def test_casefolds_and_strips(self) -> None:
        """Case is folded and surrounding whitespace removed."""
        assert normalize_email("  Velda.Quorne@Example.ORG ") == "velda.quorne@example.org"

    def test_drops_mailto(self) -> None:
        """A mailto: prefix is removed."""
        assert normalize_email("MAILTO:v@example.org") == "v@example.org"

    @pytest.mark.parametrize("text", ["velda.example.org", "@example.org", "velda@", ""])
    def test_without_both_sides_of_at_is_none(self, text: str) -> None:
        """Text without an @ between a local part and a domain is not an address."""
        assert normalize_email(text) is None


class TestNormalizePostalCode:
    """normalize_postal_code."""

    @pytest.mark.parametrize("text", ["02134", " 02134-1234 ", "021341234", "02134 1234"])
    def test_us_zip_gives_five_digits(self, text: str) -> None:
        """A ZIP or ZIP+4 gives its first five digits, leading zero kept."""
        assert normalize_postal_code(text) == "02134"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("sw1a 1aa", "SW1A1AA"), ("K1A-0B6", "K1A0B6"), ("110001", "110001")],
    )
    def test_other_codes_uppercase_alphanumeric(self, text: str, expected: str) -> None:
        """Other codes are uppercased with non-alphanumeric characters removed."""
        assert normalize_postal_code(text) == expected

    def test_blank_is_none(self) -> None:
        """A blank code is missing."""
        assert normalize_postal_code(" - ") is None


class TestNormalizeAddressLine:
    """normalize_address_line."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("12 Orsk Street", "12 orsk st"),
            ("12 Orsk Avenue", "12 orsk ave"),
            ("12 Orsk Road", "12 orsk rd"),
            ("12 Orsk Drive", "12 orsk dr"),
            ("12 Orsk Lane", "12 orsk ln"),
            ("12 Orsk Boulevard", "12 orsk blvd"),
            ("12 Orsk Court", "12 orsk ct"),
        ],
    )
    def test_abbreviates_street_suffixes(self, text: str, expected: str) -> None:
        """Street suffixes get their USPS standard abbreviations."""
        assert normalize_address_line(text) == expected

    def test_abbreviates_units(self) -> None:
        """Unit designators get their USPS standard abbreviations."""
        assert normalize_address_line("Apartment 4 Suite 9") == "apt 4 ste 9"

    def test_abbreviates_directionals(self) -> None:
        """Directionals get their one- or two-letter forms."""
        assert normalize_address_line("North Orsk Southwest") == "n orsk sw"

    def test_strips_punctuation_and_collapses_spaces(self) -> None:
        """Punctuation is removed and whitespace collapsed."""
        assert normalize_address_line("  12,  Orsk St.,   Apt. #4B ") == "12 orsk st apt 4b"

    def test_spellings_agree(self) -> None:
        """Long and abbreviated spellings of the same address normalise equally."""
        assert normalize_address_line("12 West Velda Avenue, Suite 3") == normalize_address_line(
            "12 W. VELDA AVE STE 3",
        )

    @pytest.mark.parametrize("text", ["P.O. Box 7", "PO Box 7", "Post Office Box 7"])
    def test_po_box(self, text: str) -> None:
        """Spellings of a post office box become po box."""
        assert normalize_address_line(text) == "po box 7"

    def test_ordinal_words(self) -> None:
        """Ordinal street names become numerals."""
        assert normalize_address_line("1 First Street") == "1 1st st"
