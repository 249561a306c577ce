"""The bounds one read keeps to: bytes, decompressed bytes, files, nesting and strings.

A :class:`Limits` value is passed to :func:`carecoord.fhir.read` (and ``read_paths``,
``read_value_sets``); input beyond a bound is not read, and the breach is one
``limit-exceeded`` issue (an error: strict mode raises it) naming the bound, never a
crash or an exhausted machine. ``docs/fhir.md`` ("Limits") lists the defaults.
"""

from __future__ import annotations

from carecoord.interop import DEFAULT_LIMITS, MAX_DEPTH_CEILING, Limits

__all__ = ["DEFAULT_LIMITS", "MAX_DEPTH_CEILING", "Limits"]
