"""The collector pause the FHIR reader uses (:func:`carecoord._gc.gc_paused`, shared)."""

from __future__ import annotations

from carecoord._gc import gc_paused

__all__ = ["gc_paused"]
