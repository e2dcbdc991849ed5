"""Moved to `mainspring.reads.filters` (issue 14); this shim goes in the sweep."""

from mainspring.reads.filters import DEFAULT_LIMIT as DEFAULT_LIMIT
from mainspring.reads.filters import ID_CEILING as ID_CEILING
from mainspring.reads.filters import MAX_LIMIT as MAX_LIMIT
from mainspring.reads.filters import RunFilter as RunFilter
from mainspring.reads.filters import parse_run_filter as parse_run_filter
from mainspring.reads.filters import ulid_floor as ulid_floor
