"""Moved to mainspring.runs.checkpoints (shim until the W3 sweep)."""

from mainspring.runs.checkpoints import CheckpointLog as CheckpointLog
from mainspring.runs.checkpoints import checkpoint as checkpoint
from mainspring.runs.checkpoints import may_have_checkpointed as may_have_checkpointed
from mainspring.runs.checkpoints import save_checkpoint as save_checkpoint
