"""Moved to `mainspring.reads.trace` (issue 14); this shim goes in the sweep."""

from mainspring.reads.trace import Attempt as Attempt
from mainspring.reads.trace import Timeline as Timeline
from mainspring.reads.trace import TimelineStep as TimelineStep
from mainspring.reads.trace import build as build
