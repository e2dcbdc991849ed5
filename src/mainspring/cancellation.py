"""Moved to mainspring.ingest.cancellation (shim until the W3 sweep)."""

from mainspring.ingest.cancellation import Cancellations as Cancellations
from mainspring.ingest.cancellation import cancellation_view as cancellation_view
from mainspring.ingest.cancellation import parse_bulk as parse_bulk
