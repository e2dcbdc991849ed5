"""The read side: one run view, list and filter, one trace of a run's history.

`views` (shapes), `service` (`Reads`), `filters` and `runs` (listing runs), `events` (listing
events), `trace` (spans and the timeline). The names below are what the HTTP handlers use.
"""

from mainspring.reads.service import MAX_LIMIT as MAX_LIMIT
from mainspring.reads.service import Reads as Reads
from mainspring.reads.views import event_view as event_view
from mainspring.reads.views import history_view as history_view
from mainspring.reads.views import run_view as run_view
from mainspring.reads.views import step_view as step_view
