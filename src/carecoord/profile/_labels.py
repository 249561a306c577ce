"""Short labels for sources and profiles, and text made safe to print.

Shared by the text renderers (``_text``) and the HTML displays (``_html``); imports no
other module of the package at run time.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from carecoord.profile._model import PatientProfile

__all__ = ["printable", "profile_label", "source_labels"]


_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
# C0 and C1 controls (escape, carriage return, line feed, tab...), DEL, the line and
# paragraph separators, and the bidirectional marks and overrides.


def _escape(found: re.Match[str]) -> str:
    code = ord(found[0])
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    r"""``text`` with its control and bidirectional-override characters escaped.

    What a terminal would act on instead of showing (``\x1b`` starting an escape
    sequence, ``\r`` returning to the start of the line, ``\n`` starting a new one, a
    right-to-left override) is written as a visible escape: ``\x1b``, ``\x0d``,
    ``\u202e``. Everything else, accents and other scripts included, is kept. The text
    renderers of :mod:`carecoord.profile` and :mod:`carecoord.rules` show input text
    through it; applying it twice changes nothing.

    >>> printable("Smith\x1b[2J\r\nroot")
    'Smith\\x1b[2J\\x0d\\x0aroot'
    """
    if text.isprintable():
        return text
    return _UNPRINTABLE.sub(_escape, text)


def source_labels(source_ids: Iterable[str]) -> dict[str, str]:
    """Short display names for source ids: a URL's host, a tag's code.

    ``https://www.clinic.example/fhir`` becomes ``clinic.example`` and
    ``https://smarthealthit.org/tags|synthea`` becomes ``synthea``; other ids are kept.
    When two ids would get the same short name, every id is kept as it is.

    >>> source_labels(["https://www.clinic.example/fhir", "https://smarthealthit.org/tags|x"])
    {'https://smarthealthit.org/tags|x': 'x', 'https://www.clinic.example/fhir': 'clinic.example'}
    """
    ids = sorted(set(source_ids))
    short = {source: _shorten(source) for source in ids}
    if len(set(short.values())) != len(ids):
        return {source: source for source in ids}
    return short


def _shorten(source: str) -> str:
    if "|" in source:
        return source.rsplit("|", 1)[1] or source
    parts = urllib.parse.urlsplit(source)
    if parts.scheme in {"http", "https"} and parts.netloc:
        return parts.netloc.removeprefix("www.")
    return source


def profile_label(profile: PatientProfile, labels: Mapping[str, str] | None = None) -> str:
    """``"<short source>/<patient id>"`` of the record the profile id comes from.

    ``labels`` maps source ids to short names (default: :func:`source_labels` of the
    profile's sources); the profile id itself when no record has it.
    """
    names = source_labels(profile.sources) if labels is None else labels
    for record in profile.records:
        source, patient = record.key
        if profile.id == f"{source}/{patient}":
            return printable(f"{names.get(source, source)}/{patient}")
    return printable(profile.id)
