"""The synthetic multi-provider FHIR R4 data set behind ``carecoord demo``.

Four FHIR ``collection`` Bundles, one per provider system, written by the carecoord
developers about four invented people (nobody real: names such as "Alexandra
Testperson", phones in the fictional ``555-01xx`` range, homes on "Example Street"):

* ``directory.json``: the shared directory (Organizations, Practitioners and
  PractitionerRoles with NUCC taxonomy codes) that the other bundles refer to as
  ``Practitioner/<id>`` and ``Organization/<id>``;
* ``hospital.json``: Synthetic General Hospital (stays, emergency visits, discharge
  medicines, admission notices and discharge summaries);
* ``clinic.json``: Synthetic Family Clinic, the primary-care practice (patients, care
  teams, referrals and their fulfilment tasks, appointments, labs, coordination tasks,
  care plan, consents, activity log);
* ``behavioral_health.json``: Synthetic Counseling Practice (one of the clinic's patients
  under another record number and a nickname, labelled mental-health data, a
  psychotherapy note, a new psychotropic prescription).

The data set is meant to be evaluated at :data:`DEMO_AS_OF`. The ``README.md`` next to
the bundles tells each patient's story, states the FHIR conventions used, and lists every
gap the rules should report at that instant: it is the specification the rules are tested
against.

>>> [f.name for f in demo_files()]
['directory.json', 'hospital.json', 'clinic.json', 'behavioral_health.json']
>>> DEMO_AS_OF.isoformat()
'2026-07-15T12:00:00-04:00'
"""

from __future__ import annotations

import datetime as dt
from importlib.resources import files
from importlib.resources.abc import Traversable

__all__ = ["DEMO_AS_OF", "DEMO_FILES", "DEMO_TIMEZONE", "demo_files"]

DEMO_AS_OF = dt.datetime(2026, 7, 15, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=-4)))
"""The instant the demo is evaluated at: Wednesday 15 July 2026, noon in New York (EDT)."""

DEMO_TIMEZONE = "America/New_York"
"""The IANA time zone of every organisation and patient in the data set."""

DEMO_FILES: tuple[str, ...] = (
    "directory.json",
    "hospital.json",
    "clinic.json",
    "behavioral_health.json",
)
"""The bundle file names, directory first."""


def demo_files() -> list[Traversable]:
    """The demo bundles as package resources, in :data:`DEMO_FILES` order.

    Each item can be opened with ``.open("rb")`` or read with ``.read_bytes()``; no file is
    read until then. When the package is installed as plain files (the usual case),
    ``pathlib.Path(str(item))`` is a real path.
    """
    root = files(__name__)
    return [root.joinpath(name) for name in DEMO_FILES]
