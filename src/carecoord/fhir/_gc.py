"""The collector pause the FHIR reader uses (:func:`carecoord.collector.gc_paused`, shared)."""

from __future__ import annotations

from carecoord.collector import gc_paused

__all__ = ["gc_paused"]
