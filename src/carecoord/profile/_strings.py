"""String and value comparison primitives for patient identity matching.

These are the building blocks of the Fellegi-Sunter style matcher: normalisers that put
names, phone numbers, e-mail addresses, postal codes and address lines into a canonical
form, similarity measures (Jaro-Winkler, optimal string alignment distance), a table of
English given-name nicknames and the NYSIIS phonetic key used for blocking.

Everything here is pure and deterministic. The hot functions are written tightly in pure
Python and the normalisers are memoised with :func:`functools.lru_cache`, because the
matcher calls them millions of times. No function here logs or embeds its input in an
error message.

Name normalisation rules (:func:`normalize_name`, :func:`name_tokens`):

* case is folded (:meth:`str.casefold`) and accents are stripped (NFKD, combining marks
  dropped; a few letters without a decomposition, such as ``ø``, ``ł`` and ``æ``, are
  transliterated);
* apostrophes *join*: ``"O'Brien"`` becomes ``"obrien"`` and ``"D'Angelo"`` ``"dangelo"``;
* hyphens, periods, commas and every other non-alphanumeric character *separate*:
  ``"Smith-Jones"`` becomes ``"smith jones"``, the same as ``"Smith Jones"``, so that the
  two spellings compare equal; :func:`name_similarity` also treats ``"smithjones"`` as
  equal to ``"smith jones"`` by comparing the forms with the spaces removed;
* leading titles (``mr``, ``mrs``, ``ms``, ``miss``, ``mx``, ``dr``, ``prof``, ``rev``) and
  trailing suffixes (``jr``, ``sr``, ``ii``, ``iii``, ``iv``, ``esq``, ``md``, ``phd``, ...)
  are dropped, but never the last remaining token.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

from carecoord.errors import Problem, ValidationError

__all__ = [
    "COMPARED_LENGTH",
    "NICKNAMES",
    "are_nicknames",
    "canonical_given_names",
    "damerau_levenshtein",
    "jaro",
    "jaro_winkler",
    "name_similarity",
    "name_tokens",
    "normalize_address_line",
    "normalize_email",
    "normalize_name",
    "normalize_phone",
    "normalize_postal_code",
    "nysiis",
]

# --------------------------------------------------------------------------- folding

_APOSTROPHES = "'\u2018\u2019\u02bc\u02b9`\u00b4\u2032"
_DELETE_APOSTROPHES = str.maketrans("", "", _APOSTROPHES)
_TRANSLITERATE = str.maketrans(
    {
        "\u00f8": "o",  # ø
        "\u0111": "d",  # đ
        "\u00f0": "d",  # ð
        "\u0142": "l",  # ł
        "\u00fe": "th",  # þ
        "\u00e6": "ae",  # æ
        "\u0153": "oe",  # œ
        "\u0131": "i",  # dotless i
        "\u0127": "h",  # ħ
        "\u0167": "t",  # ŧ
    },
)
_SEPARATORS = re.compile(r"[\W_]+")

_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev"})
_SUFFIXES = frozenset(
    {"jr", "jnr", "sr", "snr", "ii", "iii", "iv", "2nd", "3rd", "esq", "md", "phd"},
)

_CACHE_SIZE = 1 << 17

COMPARED_LENGTH = 64
"""The most characters of each string the similarity measures compare.

:func:`jaro`, :func:`jaro_winkler` and :func:`damerau_levenshtein` look at the first
``COMPARED_LENGTH`` characters of their arguments only: their cost grows with the product
of the lengths, and a name longer than this is not a name (a 64,000-character one would
take seconds). ``jaro(a, b) == jaro(a[:64], b[:64])``."""


def _fold(text: str) -> str:
    """Casefold, join apostrophes, strip accents and turn separators into single spaces."""
    folded = text.casefold().translate(_DELETE_APOSTROPHES)
    if not folded.isascii():
        # Compatibility decomposition can produce capitals ("ℌ" -> "H") and casefolding can
        # produce decomposable characters, so each is applied again after the other.
        decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", folded).casefold())
        folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        folded = folded.translate(_DELETE_APOSTROPHES).translate(_TRANSLITERATE)
    return _SEPARATORS.sub(" ", folded).strip()


@lru_cache(maxsize=_CACHE_SIZE)
def name_tokens(text: str) -> tuple[str, ...]:
    """Split a name into its normalised parts.

    The rules are those of :func:`normalize_name` (see the module docstring), so hyphenated
    and space-separated parts become separate tokens while apostrophes join:
    ``name_tokens("Mary-Kate O'Brien Jr.") == ("mary", "kate", "obrien")``. Leading titles
    and trailing generational or professional suffixes are dropped unless nothing else
    would remain. Returns ``()`` for a blank name.
    """
    tokens = _fold(text).split()
    start, end = 0, len(tokens)
    while end - start > 1 and tokens[start] in _TITLES:
        start += 1
    while end - start > 1 and tokens[end - 1] in _SUFFIXES:
        end -= 1
    return tuple(tokens[start:end])


@lru_cache(maxsize=_CACHE_SIZE)
def normalize_name(text: str) -> str:
    """Return the canonical form of a name (or of one name part).

    Case is folded, accents are stripped, apostrophes are removed so the parts they join
    stay one word (``"O'Brien"`` -> ``"obrien"``), every other punctuation character
    (hyphen, period, comma, ...) becomes a space (``"Smith-Jones"`` -> ``"smith jones"``),
    whitespace is collapsed, and leading titles (``dr``, ``mrs``, ...) and trailing
    suffixes (``jr``, ``iii``, ...) are dropped. The result is ``" ".join(name_tokens(text))``.
    """
    return " ".join(name_tokens(text))


# --------------------------------------------------------------------------- similarity


def _jaro(a: str, b: str) -> float:
    """Jaro similarity of two different, non-empty strings given shorter (or smaller) first."""
    len_a = len(a)
    len_b = len(b)
    window = max(len_b // 2 - 1, 0)
    taken = [False] * len_b
    matched_a: list[str] = []
    append = matched_a.append
    find = b.find
    for i, ch in enumerate(a):
        lo = i - window if i > window else 0
        hi = i + window + 1
        j = find(ch, lo, hi)
        while j != -1 and taken[j]:
            j = find(ch, j + 1, hi)
        if j != -1:
            taken[j] = True
            append(ch)
    matches = len(matched_a)
    if not matches:
        return 0.0
    half_transpositions = 0
    k = 0
    for j, flag in enumerate(taken):
        if flag:
            if b[j] != matched_a[k]:
                half_transpositions += 1
            k += 1
    transpositions = half_transpositions // 2
    return (matches / len_a + matches / len_b + (matches - transpositions) / matches) / 3.0


def jaro(a: str, b: str) -> float:
    """Return the Jaro similarity of ``a`` and ``b``, in ``[0, 1]``.

    Characters match when equal and no further apart than ``max(len) // 2 - 1`` positions;
    ``t`` is half the number of matched characters that are out of order, rounded down (as
    in most implementations). The comparison is case-sensitive: normalise first. Two empty
    strings are identical (``1.0``); an empty and a non-empty string score ``0.0``. The
    result is exactly symmetric. Only the first :data:`COMPARED_LENGTH` characters of each
    string are compared.
    """
    a, b = a[:COMPARED_LENGTH], b[:COMPARED_LENGTH]
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    if len(a) > len(b) or (len(a) == len(b) and a > b):
        a, b = b, a
    return _jaro(a, b)


def jaro_winkler(a: str, b: str, prefix_scale: float = 0.1) -> float:
    """Return the Jaro-Winkler similarity of ``a`` and ``b``, in ``[0, 1]``.

    This is the standard definition ``jw = j + l * p * (1 - j)`` where ``j`` is
    :func:`jaro`, ``l`` the length of the common prefix (at most 4) and ``p`` the
    ``prefix_scale`` (at most 0.25, so the result stays within ``[0, 1]``). The prefix
    bonus is applied whatever the Jaro score (no boost threshold). The comparison is
    case-sensitive and exactly symmetric; identical strings score ``1.0``. Only the first
    :data:`COMPARED_LENGTH` characters of each string are compared.

    Raises:
        ValidationError: if ``prefix_scale`` is outside ``[0, 0.25]``.

    """
    if not 0.0 <= prefix_scale <= 0.25:
        raise ValidationError(Problem("prefix_scale", "must be between 0 and 0.25"))
    a, b = a[:COMPARED_LENGTH], b[:COMPARED_LENGTH]
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    if len(a) > len(b) or (len(a) == len(b) and a > b):
        a, b = b, a
    score = _jaro(a, b)
    prefix = 0
    for x, y in zip(a[:4], b, strict=False):
        if x != y:
            break
        prefix += 1
    return score + prefix * prefix_scale * (1.0 - score)


def damerau_levenshtein(a: str, b: str) -> int:
    """Return the optimal string alignment (restricted Damerau-Levenshtein) distance.

    The distance counts insertions, deletions, substitutions and transpositions of two
    adjacent characters, each at cost 1, with the restriction that no substring is edited
    more than once. It therefore differs from the unrestricted Damerau-Levenshtein
    distance on some inputs (``"ca"`` -> ``"abc"`` is 3 here, 2 unrestricted) and does not
    always satisfy the triangle inequality; it is symmetric, zero exactly for equal strings
    and never more than the longer length. The comparison is case-sensitive. Only the first
    :data:`COMPARED_LENGTH` characters of each string are compared, so the distance is at
    most ``COMPARED_LENGTH``.
    """
    a, b = a[:COMPARED_LENGTH], b[:COMPARED_LENGTH]
    if a == b:
        return 0
    # Common prefixes and suffixes never change the distance; trimming them shrinks the table.
    start = 0
    stop = min(len(a), len(b))
    while start < stop and a[start] == b[start]:
        start += 1
    end_a = len(a)
    end_b = len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a = a[start:end_a]
    b = b[start:end_b]
    len_b = len(b)
    if not a:
        return len_b
    if not b:
        return len(a)
    before: list[int] = []
    previous = list(range(len_b + 1))
    prev_ca = ""
    for i, ca in enumerate(a, 1):
        current = [i] * (len_b + 1)
        left = i
        prev_cb = ""
        for j, cb in enumerate(b, 1):
            # Ternaries rather than min(): this loop is hot and min() is twice as slow.
            cost = previous[j - 1] if ca == cb else previous[j - 1] + 1
            above = previous[j] + 1
            cost = above if above < cost else cost
            cost = left + 1 if left < cost - 1 else cost
            if ca == prev_cb and cb == prev_ca and ca != cb:
                swap = before[j - 2] + 1
                cost = swap if swap < cost else cost
            current[j] = cost
            left = cost
            prev_cb = cb
        before = previous
        previous = current
        prev_ca = ca
    return previous[len_b]


# --------------------------------------------------------------------------- nicknames

# canonical: nicknames and variant spellings it is commonly recorded under
_NICKNAME_TABLE = """
abigail: abby abbie gail
abraham: abe bram
adelaide: addie della heidi
adeline: addie addy
agnes: aggie nessie
albert: al bert bertie
alberta: bertie berta
alexander: al alex alec lex sandy xander zander sasha
alexandra: alex alexa lexi lexie sandy sandra sasha ally
alfred: al alf alfie fred freddie freddy
alice: allie ally
alison: ali allie ally allison
allan: al alan allen
alan: al allan allen
alphonso: al alf alphonse fonzie
alvin: al
amanda: mandy manda
amelia: millie amy mel
andrea: andy andie
andrew: andy drew
angela: angie
ann: anne annie nan nancy nannie
anne: ann annie nan nancy nannie
anna: ann annie anne
anthony: tony ant
antoinette: toni nettie
antonio: tony toni
arabella: bella belle
archibald: archie
arnold: arnie
arthur: art artie
augusta: gussie
augustus: gus gussie august
barbara: barb barbie babs
barnabas: barney
bartholomew: bart
beatrice: bea trixie
benedict: ben benny
benjamin: ben benny benji benjie
bernadette: bernie
bernard: bernie barney
bertha: bert bertie
bradford: brad
bradley: brad
bridget: biddy bridie
caleb: cal
calvin: cal
cameron: cam
caroline: carrie caro callie carol
carolyn: carrie carol lyn
cassandra: cassie cass sandy
catherine: cathy cath cat kate katie kathy kay cate katherine kathryn
cecilia: cissy celia cece
charles: charlie chuck chas chaz chip
charlotte: charlie lottie lotty char
christian: chris
christina: chris chrissy tina christie christy christine
christine: chris chrissy tina christie christy christina
christopher: chris kit topher
clifford: cliff
clifton: cliff
clinton: clint
constance: connie
cornelia: connie nellie
cornelius: neil con connie
curtis: curt
cynthia: cindy
daniel: dan danny
danielle: dani
daphne: daph
david: dave davey davy
deborah: deb debbie debby debra
dennis: denny
dolores: dee lola delores
dominic: dom
donald: don donnie donny
dorothea: dot dora thea
dorothy: dot dottie dolly
douglas: doug
edith: edie edy
edmund: ed eddie ned ted
edward: ed eddie eddy ted teddy ned
edwin: ed eddie ned
eleanor: ellie elle nell nellie nora
elias: eli
elijah: eli
elizabeth: liz lizzie lizzy beth betty betsy bette bess bessie eliza elsie libby lisa liza
ellen: ellie nell nellie
emily: em emmy millie
emma: em emmy
emmanuel: manny manuel
ernest: ernie
esther: essie hettie
eugene: gene
eugenia: genie
evelyn: evie eve
ezekiel: zeke
ferdinand: ferdie ferdy
florence: flo florrie flossie
frances: fran fanny fannie frankie franny
francis: frank frankie fran
franklin: frank frankie
frederick: fred freddie freddy fritz
gabriel: gabe gabby
gabrielle: gabby gabi
geoffrey: geoff jeff
george: georgie
georgina: georgie gina georgia
gerald: gerry jerry
gerard: gerry jerry
gertrude: gertie trudy trudie
gilbert: gil bert
gillian: jill gilly
gordon: gordy
gregory: greg
gustav: gus
gwendolyn: gwen wendy
harold: harry hal
harriet: hattie
harvey: harv
helen: nell nellie ellie lena
henrietta: hettie etta hattie
henry: harry hank hal
herbert: herb bert
howard: howie
hubert: bert hubie
ignatius: iggy
isaac: ike
isabel: izzy bella belle isa isabella
isabella: izzy bella belle isa isabel
isidore: izzy
jacob: jake jack coby
jacqueline: jackie jacqui jacky
james: jim jimmy jimmie jamie jem
jane: janie
janet: jan netta
janice: jan
jean: jeanie jeannie
jedediah: jed
jefferson: jeff
jeffrey: jeff geoff
jennifer: jen jenn jenny jennie
jeremiah: jerry jem jeremy
jeremy: jerry jem
jerome: jerry
jessica: jess jessie jessi
jillian: jill jilly
joan: joanie jo
joanna: jo joanie joanne
johanna: jo hanna
john: jack jackie johnny jon jonny jock
jonathan: jon jonny jonnie johnny jonty
joseph: joe joey
josephine: jo josie jojo
joshua: josh
judith: judy jude judi
julia: julie jules
julian: jules
katherine: kate kathy katie kat kay kitty kit catherine kathryn katharine
kathleen: kathy kath kay
kathryn: kate kathy katie kay katherine
katrina: kat trina
kenneth: ken kenny
kimberly: kim kimmy
kristina: kris krissy tina kristine
lawrence: larry laurie lawrie laurence
laurence: larry laurie lawrence
leonard: len lenny leo
leonora: nora
leroy: lee roy
lillian: lil lily lilly lillie
loretta: lori etta
lorraine: lori
louis: lou louie
louise: lou lulu
lucas: luke
lucinda: lucy cindy
madeline: maddie maddy madeleine
malcolm: mal
manuel: manny
marcus: marc mark
margaret: peggy peg maggie meg marge margie madge greta gretchen daisy maisie rita margo margot
marjorie: marge margie
martha: marty mattie patsy
martin: marty
marvin: marv
mary: molly mollie polly mae mamie mimi minnie
matilda: tilly tillie mattie tilda mathilda
matthew: matt matty
maurice: mo maury
maximilian: max maxie
maxwell: max
melanie: mel
melissa: mel missy lissa
melvin: mel
michael: mike mikey mick mickey micky
michelle: shelly shelley chelle
mildred: millie milly
miranda: randi mandy
mitchell: mitch
montgomery: monty
mortimer: mort morty
moses: moe
natalie: nat nattie
nathan: nate nat
nathaniel: nate nat nathan
nicholas: nick nicky nico nic
nicole: nicki nikki nicky nic
norman: norm
oliver: ollie
olivia: liv livvy ollie
oswald: oz ozzie ozzy
pamela: pam pammy
patricia: pat patty patti trish tricia trisha patsy
patrick: pat paddy
penelope: penny pen
percival: percy
peter: pete
philip: phil pip phillip
phillip: phil pip philip
priscilla: cilla prissy
prudence: prue prudy
rachel: rach
randall: randy rand
randolph: randy dolph
raphael: rafe rafael
raymond: ray
rebecca: becky becca beck
regina: reggie gina
reginald: reg reggie rex
reuben: rube
richard: dick rick ricky rich richie
robert: bob bobby rob robbie robby bert
roberta: bobbie robbie berta
rodney: rod
roger: rog
ronald: ron ronnie ronny
rosemary: rose rosie
rudolph: rudy rudi dolph
russell: russ rusty
ruth: ruthie
samantha: sam sammy sammie
samuel: sam sammy
sandra: sandy sandi
sarah: sally sadie sara
sebastian: seb bastian
sidney: sid sydney
silas: si
solomon: sol solly
sophia: sophie
stanley: stan
stephanie: steph stevie
stephen: steve stevie steven
steven: steve stevie stephen
stuart: stu stewart
susan: sue susie suzie suzy
susanna: sue susie suzy susannah suzanne
sylvester: sly
tabitha: tabby
tamara: tammy
terence: terry terrence
thaddeus: thad tad
theodore: ted teddy theo
theresa: terry tess tessa tessie teresa
thomas: tom tommy
tiffany: tiff
timothy: tim timmy
tobias: toby
tyler: ty
tyrone: ty
valentine: val
valerie: val
vanessa: nessa
vernon: vern
veronica: ronnie roni
victor: vic
victoria: vicky vicki vickie tori
vincent: vince vinny vinnie
virginia: ginny ginger
wallace: wally
walter: walt wally
wesley: wes
wilbur: will
wilfred: wilf fred freddie
willard: will
william: bill billy will willie willy liam
winifred: winnie freda
winston: win winnie
woodrow: woody
zachariah: zach zack
zachary: zach zack zak zac
zebulon: zeb
"""


def _parse_nicknames(table: str) -> dict[str, frozenset[str]]:
    parsed: dict[str, frozenset[str]] = {}
    for line in table.strip().splitlines():
        canonical, _, nicknames = line.partition(":")
        parsed[canonical.strip()] = frozenset(nicknames.split())
    return parsed


NICKNAMES: Mapping[str, frozenset[str]] = MappingProxyType(_parse_nicknames(_NICKNAME_TABLE))
"""Common English given names (normalised) mapped to nicknames and variant spellings.

A nickname may appear under several canonical names (``"al"`` under albert, alfred, alan,
alexander, ...), and a canonical name may itself be listed as a variant of another
(``"catherine"`` under ``"katherine"``). Use :func:`canonical_given_names` and
:func:`are_nicknames` rather than reading the table directly.
"""


def _invert(table: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    stands_for: dict[str, set[str]] = {}
    for canonical, nicknames in table.items():
        stands_for.setdefault(canonical, set()).add(canonical)
        for nickname in nicknames:
            stands_for.setdefault(nickname, set()).add(canonical)
    return {name: frozenset(canonicals) for name, canonicals in stands_for.items()}


_STANDS_FOR: Mapping[str, frozenset[str]] = MappingProxyType(_invert(NICKNAMES))


@lru_cache(maxsize=_CACHE_SIZE)
def canonical_given_names(name: str) -> frozenset[str]:
    """Return the canonical given names that ``name`` may stand for, after normalisation.

    A canonical name stands for itself (plus any canonical name listing it as a variant);
    a nickname stands for every canonical name it is listed under, so ``"al"`` gives
    albert, alfred, alan, allan, alexander, alphonso and alvin. A name missing from
    :data:`NICKNAMES` stands for itself alone; a blank name stands for nothing (``{}``).
    """
    normalized = normalize_name(name)
    if not normalized:
        return frozenset()
    return _STANDS_FOR.get(normalized, frozenset((normalized,)))


def are_nicknames(a: str, b: str) -> bool:
    """Return whether two given names may name the same person through the nickname table.

    Both names are normalised first; they match when they share a canonical given name
    (see :func:`canonical_given_names`), so ``bill``/``william``, ``bill``/``will`` and
    ``peggy``/``margaret`` match. The relation is symmetric; identical non-blank names
    match trivially, and a blank name matches nothing.
    """
    return not canonical_given_names(a).isdisjoint(canonical_given_names(b))


_NICKNAME_SCORE = 0.95


@lru_cache(maxsize=_CACHE_SIZE)
def name_similarity(a: str, b: str) -> float:
    """Return the best-of similarity of two values of one name part, in ``[0, 1]``.

    Both are normalised with :func:`normalize_name`. The score is ``1.0`` when the
    normalised forms are equal, with or without their spaces (``"Smith-Jones"`` and
    ``"SmithJones"``); otherwise the larger of ``0.95`` when :func:`are_nicknames` holds and
    the Jaro-Winkler similarity of the normalised forms. A blank value scores ``0.0``.
    """
    left = normalize_name(a)
    right = normalize_name(b)
    if not left or not right:
        return 0.0
    if left == right or left.replace(" ", "") == right.replace(" ", ""):
        return 1.0
    score = jaro_winkler(left, right)
    if score < _NICKNAME_SCORE and are_nicknames(left, right):
        return _NICKNAME_SCORE
    return score


# --------------------------------------------------------------------------- phonetic key

_VOWELS = frozenset("AEIOU")
_NON_LETTERS = re.compile(r"[^A-Z]+")
_PREFIXES = (("MAC", "MCC"), ("KN", "NN"), ("K", "C"), ("PH", "FF"), ("PF", "FF"), ("SCH", "SSS"))
_ENDINGS = (
    ("EE", "Y"),
    ("IE", "Y"),
    ("DT", "D"),
    ("RT", "D"),
    ("RD", "D"),
    ("NT", "D"),
    ("ND", "D"),
)


@lru_cache(maxsize=_CACHE_SIZE)
def nysiis(name: str, max_length: int | None = 6) -> str:
    """Return the NYSIIS phonetic key of ``name`` (original Taft 1970 rules).

    The name is folded like :func:`normalize_name` and reduced to the letters A-Z (so
    ``"O'Brien"`` and ``"van Dyke"`` are encoded as one word). The rules are those of the
    original New York State Identification and Intelligence System algorithm, as
    implemented by Apache Commons Codec: the first letters are transcoded (MAC, KN, K, PH,
    PF, SCH), then the last (EE, IE, DT, RT, RD, NT, ND), then the remaining letters one
    at a time (EV, vowels, Q, Z, M, KN, K, SCH, PH, H, W) with repeats collapsed, and
    finally a trailing S, a trailing A and the A of a trailing AY are removed, though never
    the first letter of the key (Commons Codec encodes ``"As"`` as ``""``, this gives
    ``"A"``). The key is truncated to ``max_length`` characters (6 in the original
    algorithm; ``None`` keeps the full key). For example ``nysiis("Knight") == "NAGT"`` and
    ``nysiis("Mitchell") == "MATCAL"``. A name without letters gives ``""``.
    """
    word = _NON_LETTERS.sub("", _fold(name).upper())
    if not word:
        return ""
    for head, replacement in _PREFIXES:
        if word.startswith(head):
            word = replacement + word[len(head) :]
            break
    for tail, replacement in _ENDINGS:
        if word.endswith(tail):
            word = word[: -len(tail)] + replacement
            break
    chars = list(word)
    size = len(chars)
    key = [chars[0]]
    vowels = _VOWELS
    for i in range(1, size):
        current = chars[i]
        following = chars[i + 1] if i + 1 < size else ""
        if current == "E" and following == "V":
            chars[i : i + 2] = "AF"
        elif current in vowels:
            chars[i] = "A"
        elif current == "Q":
            chars[i] = "G"
        elif current == "Z":
            chars[i] = "S"
        elif current == "M":
            chars[i] = "N"
        elif current == "K":
            if following == "N":
                chars[i : i + 2] = "NN"
            else:
                chars[i] = "C"
        elif current == "S" and following == "C" and i + 2 < size and chars[i + 2] == "H":
            chars[i : i + 3] = "SSS"
        elif current == "P" and following == "H":
            chars[i : i + 2] = "FF"
        elif current == "H":
            if chars[i - 1] not in vowels or following not in vowels:
                chars[i] = chars[i - 1]
        elif current == "W" and chars[i - 1] in vowels:
            chars[i] = chars[i - 1]
        if chars[i] != chars[i - 1]:
            key.append(chars[i])
    # The first character comes from the name itself and is never removed.
    if len(key) > 1 and key[-1] == "S":
        key.pop()
    if len(key) > 2 and key[-2] == "A" and key[-1] == "Y":
        del key[-2]
    elif len(key) > 1 and key[-1] == "A":
        key.pop()
    encoded = "".join(key)
    return encoded if max_length is None else encoded[:max_length]


# --------------------------------------------------------------------------- contact data

_PHONE_EXTENSION = re.compile(r"(?:ext(?:ension)?|x|#)\.?\s*[0-9]{1,6}\s*$", re.IGNORECASE)


def normalize_phone(text: str) -> str | None:
    """Return the digits of a phone number, or ``None`` when it is too short to be one.

    Fullwidth digits are accepted (NFKC), a trailing extension (``x12``, ``ext. 12``,
    ``#12``) is dropped, every other non-digit character is removed, and the leading US
    country code ``1`` of an 11-digit number is dropped (``"+1 (555) 010-0123"`` ->
    ``"5550100123"``). Other international numbers keep their country code. Returns
    ``None`` when fewer than 7 digits remain.
    """
    cleaned = _PHONE_EXTENSION.sub("", unicodedata.normalize("NFKC", text))
    digits = "".join(ch for ch in cleaned if "0" <= ch <= "9")
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    if len(digits) < 7:
        return None
    return digits


def normalize_email(text: str) -> str | None:
    """Return a casefolded, stripped e-mail address, or ``None`` when it is not one.

    A leading ``mailto:`` is removed. Returns ``None`` unless the address has an ``@``
    with something on both sides. Provider-specific rewrites (dots or ``+tags`` in Gmail
    local parts) are deliberately not applied.
    """
    address = text.strip().casefold()
    address = address.removeprefix("mailto:").strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return None
    return address


_US_ZIP = re.compile(r"([0-9]{5})(?:-?[0-9]{4}|-)?")
_NOT_ALNUM = re.compile(r"[^0-9A-Z]+")


def normalize_postal_code(text: str) -> str | None:
    """Return a canonical postal code, or ``None`` for a blank one.

    A US ZIP or ZIP+4 (``"02134"``, ``"02134-1234"``, ``"021341234"``) gives its first five
    digits. Anything else is uppercased with every non-alphanumeric character removed
    (``"sw1a 1aa"`` -> ``"SW1A1AA"``, ``"K1A 0B6"`` -> ``"K1A0B6"``). Leading zeros are
    kept and never restored.
    """
    compact = "".join(unicodedata.normalize("NFKC", text).split())
    zip_match = _US_ZIP.fullmatch(compact)
    if zip_match:
        return zip_match.group(1)
    code = _NOT_ALNUM.sub("", _fold(compact).upper())
    return code or None


_ADDRESS_WORDS: Mapping[str, str] = MappingProxyType(
    {
        # street suffixes (USPS Publication 28, appendix C1)
        "alley": "aly",
        "allee": "aly",
        "ally": "aly",
        "avenue": "ave",
        "av": "ave",
        "aven": "ave",
        "avenu": "ave",
        "avn": "ave",
        "avnue": "ave",
        "boulevard": "blvd",
        "boul": "blvd",
        "boulv": "blvd",
        "blv": "blvd",
        "circle": "cir",
        "circ": "cir",
        "circl": "cir",
        "crcl": "cir",
        "court": "ct",
        "crt": "ct",
        "cove": "cv",
        "creek": "crk",
        "crescent": "cres",
        "crossing": "xing",
        "drive": "dr",
        "driv": "dr",
        "drv": "dr",
        "expressway": "expy",
        "freeway": "fwy",
        "heights": "hts",
        "highway": "hwy",
        "hiway": "hwy",
        "lane": "ln",
        "parkway": "pkwy",
        "parkwy": "pkwy",
        "pkway": "pkwy",
        "place": "pl",
        "plaza": "plz",
        "point": "pt",
        "road": "rd",
        "route": "rte",
        "square": "sq",
        "street": "st",
        "str": "st",
        "strt": "st",
        "terrace": "ter",
        "terr": "ter",
        "trail": "trl",
        "turnpike": "tpke",
        "center": "ctr",
        "centre": "ctr",
        "mount": "mt",
        "mountain": "mtn",
        "station": "sta",
        "estates": "ests",
        # secondary unit designators (appendix C2)
        "apartment": "apt",
        "basement": "bsmt",
        "building": "bldg",
        "department": "dept",
        "floor": "fl",
        "office": "ofc",
        "penthouse": "ph",
        "room": "rm",
        "suite": "ste",
        "unit": "unit",
        # directionals
        "north": "n",
        "south": "s",
        "east": "e",
        "west": "w",
        "northeast": "ne",
        "northwest": "nw",
        "southeast": "se",
        "southwest": "sw",
        # common words
        "saint": "st",
        "first": "1st",
        "second": "2nd",
        "third": "3rd",
        "fourth": "4th",
        "fifth": "5th",
        "sixth": "6th",
        "seventh": "7th",
        "eighth": "8th",
        "ninth": "9th",
        "tenth": "10th",
    },
)


@lru_cache(maxsize=_CACHE_SIZE)
def normalize_address_line(text: str) -> str:
    """Return the canonical form of one street address line.

    Case is folded and accents stripped as for names, apostrophes join and every other
    punctuation character (``.``, ``,``, ``#``, ``-``, ...) separates words, whitespace is
    collapsed, and words are replaced by their USPS standard abbreviations: street
    suffixes (``street`` -> ``st``, ``avenue`` -> ``ave``, ``road`` -> ``rd``, ``drive``
    -> ``dr``, ``lane`` -> ``ln``, ``boulevard`` -> ``blvd``, ``court`` -> ``ct``, ...),
    unit designators (``apartment`` -> ``apt``, ``suite`` -> ``ste``, ...), directionals
    (``north`` -> ``n``, ``southwest`` -> ``sw``, ...), ``saint`` -> ``st`` and ordinal words
    (``first`` -> ``1st``). ``P.O. Box`` and ``Post Office Box`` become ``po box``.
    """
    words = _fold(text).split()
    out: list[str] = []
    i = 0
    count = len(words)
    while i < count:
        word = words[i]
        if word == "p" and words[i + 1 : i + 3] == ["o", "box"]:
            out.append("po")
            i += 2
            continue
        if word == "post" and words[i + 1 : i + 3] == ["office", "box"]:
            out.append("po")
            i += 2
            continue
        out.append(_ADDRESS_WORDS.get(word, word))
        i += 1
    return " ".join(out)
