"""``--patient``: choosing the profiles a command reports on."""

from __future__ import annotations

from collections.abc import Sequence

from carecoord.cli.common import UsageError
from carecoord.profile import PatientProfile, ProfileSet, find_profiles

__all__ = ["select_profiles"]


def select_profiles(profiles: ProfileSet, wanted: Sequence[str] | None) -> list[PatientProfile]:
    """The profiles ``--patient`` names (``profile.find_profiles``); all when not given."""
    chosen: set[str] = set()
    for index, value in enumerate(wanted or (), start=1):
        found = find_profiles(profiles, value)
        if not found:
            raise UsageError(f"--patient: value {index} matches no patient in the input")
        chosen.update(p.id for p in found)
    return [p for p in profiles if p.id in chosen] if wanted else list(profiles)
