"""The population pipeline on a Dask cluster (``pip install 'carecoord[dask]'``).

:func:`run_population` reads a FHIR Bulk Data export, links the records, builds the
profiles and runs the rules on a ``dask.distributed`` cluster, and writes the gap table
(and the profile and review tables) as Parquet. :func:`local_tables` computes the same
tables on one machine, for comparison or for small populations. Importing this module
does not import Dask: the cluster run imports it when called. See ``docs/dask.md``.
"""

from __future__ import annotations

from carecoord.dask._pipeline import PopulationRun, run_population
from carecoord.dask._tables import (
    GAP_COLUMNS,
    MEMBER_COLUMNS,
    REVIEW_COLUMNS,
    gap_rows,
    local_tables,
    member_rows,
    review_row,
)

__all__ = [
    "GAP_COLUMNS",
    "MEMBER_COLUMNS",
    "REVIEW_COLUMNS",
    "PopulationRun",
    "gap_rows",
    "local_tables",
    "member_rows",
    "review_row",
    "run_population",
]
