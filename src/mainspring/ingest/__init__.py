"""Accept events: validate, dedupe, persist, match triggers, resume waits, apply cancel rules.

`accept` (the event unit and the Ingest service), `events` (parse and prepare incoming events),
`collect` (debounce and batches), `cancellation` (cancelling from outside).
"""

from mainspring.ingest.accept import Ingest as Ingest
from mainspring.ingest.accept import cancel_run as cancel_run
from mainspring.ingest.accept import emit_unit as emit_unit
from mainspring.ingest.accept import end_run as end_run
from mainspring.ingest.accept import invoke_event as invoke_event
from mainspring.ingest.accept import process_events as process_events
from mainspring.ingest.accept import start_collected as start_collected
from mainspring.runs.transitions import Effects as Effects
from mainspring.runs.transitions import arm_run as arm_run
from mainspring.runs.transitions import expire_pause as expire_pause
from mainspring.runs.transitions import resume_step as resume_step
