"""Building model objects the reader has already checked, without checking them again.

A model's attrs validators check each value when anyone builds it: a user's own object
must be valid. The reader builds tens of thousands of facts from values it has parsed and
checked itself (an aware instant from the time parsers, an enum member from a code table,
a tuple it made), so running every validator again only costs time.
:func:`trusted_constructor` (in ``carecoord._trusted``, shared with the profile merge)
makes, for one attrs class, a function that sets the fields exactly as the class's own
``__init__`` does (defaults included) and runs its ``__attrs_post_init__`` (the checks
across fields), but not the per-field validators.

Only the reader's own hot paths use it, and only where every validator the class has is
known to pass (see :func:`aware_zone`): the objects are equal, field by field and type by
type, to what the validated constructor gives (``benchmarks/reader_sameness.py``). The
model classes themselves are untouched: an object built by a user is validated as ever.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from carecoord._trusted import trusted_constructor

__all__ = ["aware_zone", "trusted_constructor"]


def aware_zone(tz: dt.tzinfo | None) -> bool:
    """Whether every time the reader parses with default zone ``tz`` is timezone-aware.

    Parsed times carry their own fixed offset, or ``tz`` when they have none; a
    ``timezone`` or ``ZoneInfo`` always gives an offset. Any other ``tzinfo`` might not
    (its ``utcoffset`` may return ``None``), so the reader builds with validators then.
    """
    return tz is None or type(tz) in (dt.timezone, zoneinfo.ZoneInfo)
