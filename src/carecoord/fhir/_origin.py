"""The one place that decides what the reader infers: trust carecoord's own output.

carecoord's writer tags every resource it writes (``meta.tag``
``ORIGIN_SYSTEM|carecoord``) and states the model's values in its own extensions. On
such a resource the reader takes what is written as the whole truth: it reads the
extensions literally and infers nothing the writer left out on purpose (no author from a
requester, no history from versions, no review date from ``meta.lastUpdated``...). On
any other resource it infers what FHIR implies. Every mapper asks this module instead
of checking the tag itself.
"""

from __future__ import annotations

from typing import Any, TypeVar

from carecoord.fhir._codes import ORIGIN_SYSTEM

__all__ = ["Origin", "is_carecoord"]

_T = TypeVar("_T")


def is_carecoord(resource: dict[str, Any]) -> bool:
    """Whether ``resource`` carries carecoord's origin tag (``ORIGIN_SYSTEM|carecoord``).

    Read quietly: ``meta`` is reported where it is read for itself.
    """
    meta = resource.get("meta")
    if type(meta) is not dict:
        return False
    tags = meta.get("tag")
    if type(tags) is not list:
        return False
    for tag in tags:
        if (
            type(tag) is dict
            and tag.get("system") == ORIGIN_SYSTEM
            and tag.get("code") == "carecoord"
        ):
            return True
    return False


class Origin:
    """Who wrote one resource, and so whether the reader may infer what it does not say.

    ``Origin.of(resource)`` (or :attr:`MapContext.origin
    <carecoord.fhir._map_base.MapContext.origin>` while mapping) answers every
    "infer unless written by carecoord" question of the mappers.
    """

    __slots__ = ("literal",)

    literal: bool
    """carecoord wrote the resource: its explicit elements and carecoord extensions are
    the model's values, and nothing missing is inferred."""

    def __init__(self, literal: bool) -> None:
        self.literal = literal

    @classmethod
    def of(cls, resource: dict[str, Any]) -> Origin:
        """The origin of ``resource``, from its ``meta.tag``."""
        return _CARECOORD if is_carecoord(resource) else _OTHER

    @property
    def infers(self) -> bool:
        """Whether values missing from the resource may be inferred from other elements."""
        return not self.literal

    def inferred(self, value: _T | None) -> _T | None:
        """``value`` (found by inference) unless carecoord wrote the resource, else ``None``.

        For a value the mapper infers from other elements (an author from a performer,
        a review date from ``meta.lastUpdated``...): a carecoord-written resource states
        what it means, so an inference there would add what the model did not hold.
        """
        return None if self.literal else value

    def __repr__(self) -> str:
        return f"Origin(literal={self.literal})"


_CARECOORD = Origin(literal=True)
_OTHER = Origin(literal=False)
