"""The bounds one read keeps to: bytes, decompressed bytes, files, nesting and strings.

A :class:`Limits` value is passed to :func:`carecoord.fhir.read` (and ``read_paths``,
``read_value_sets``); input beyond a bound is not read, and the breach is one
``limit-exceeded`` issue (an error: strict mode raises it) naming the bound, never a
crash or an exhausted machine. ``docs/fhir.md`` ("Limits") lists the defaults.
"""

from __future__ import annotations

from typing import Any

import attrs

from carecoord.errors import Problem, ValidationError

__all__ = ["DEFAULT_LIMITS", "MAX_DEPTH_CEILING", "Limits"]

MAX_DEPTH_CEILING = 512
"""The deepest nesting a read may be allowed: the standard library's parser recurses once
per level and must stay well inside the interpreter's recursion limit."""

_MIB = 1 << 20


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(Problem(attribute.name, "must be a positive int"), what="Limits")


def _depth(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _positive(instance, attribute, value)
    assert isinstance(value, int)
    if value > MAX_DEPTH_CEILING:
        message = f"must be at most {MAX_DEPTH_CEILING}"
        raise ValidationError(Problem(attribute.name, message), what="Limits")


@attrs.frozen
class Limits:
    """How much one read takes in; beyond a bound the input is skipped with an issue.

    * ``max_file_bytes``: one file, after gzip decompression (which is streamed and
      stopped there), or one ``bytes``/``str`` text given directly. Default 256 MiB.
    * ``max_total_bytes``: every file and text of the read together; once reached, the
      rest of the input is not read. Default 1 GiB.
    * ``max_files``: files read, counted across folders. Default 100,000.
    * ``max_depth``: nesting of JSON arrays and objects in one document (``{}`` is 1),
      checked before the text is parsed; at most :data:`MAX_DEPTH_CEILING`. Default 64.
    * ``max_string_length``: characters of one JSON string (keys too). Default 16 MiB
      (room for an attachment's base64 data).

    Every bound is a positive ``int``; anything else raises
    :class:`~carecoord.errors.ValidationError`. Parsed objects given directly (dicts) are
    the caller's and are not measured.
    """

    max_file_bytes: int = attrs.field(default=256 * _MIB, validator=_positive)
    max_total_bytes: int = attrs.field(default=1024 * _MIB, validator=_positive)
    max_files: int = attrs.field(default=100_000, validator=_positive)
    max_depth: int = attrs.field(default=64, validator=_depth)
    max_string_length: int = attrs.field(default=16 * _MIB, validator=_positive)


DEFAULT_LIMITS = Limits()
"""The limits a read keeps to when given none."""
