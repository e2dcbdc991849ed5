"""Moved to mainspring.ingest.events (shim until the W3 sweep)."""

from mainspring.domain.functions import Functions as Functions
from mainspring.ingest.events import normalize as normalize
from mainspring.ingest.events import parse_body as parse_body
from mainspring.ingest.events import prepare as prepare
