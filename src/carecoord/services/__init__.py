"""The application service: :class:`Coordinator` keeps a living worklist in a store.

It takes what the readers return (``fhir.read``), links records into persons with stable
ids, evaluates the gap rules for the persons an input touches, and keeps the human state
of every gap (assigned, snoozed, dismissed, notes), task proposals and tasks, an activity
ledger, an outbox of events and an access log, all through the ports of
:mod:`carecoord.ports` (:class:`carecoord.stores.MemoryStore`, the SQLite store...).
See ``docs/embedding.md``.
"""

from __future__ import annotations

from carecoord.display import bound_reprs as _bound_reprs
from carecoord.errors import checked_classes, checked_exports, checked_methods
from carecoord.services._coordinator import Coordinator
from carecoord.services._model import IngestChanges, OnInvalid, Skipped, retry_on_conflict

__all__ = ["Coordinator", "IngestChanges", "OnInvalid", "Skipped", "retry_on_conflict"]

_bound_reprs(globals()[name] for name in __all__)
checked_exports(globals())
checked_methods(Coordinator, globals())
checked_classes(
    globals(),
    (
        "Coordinator",
        "IngestChanges",
        "Skipped",
    ),
)
del checked_classes, checked_exports, checked_methods
