"""The run's state machine: start, record, finish, cancel, resume, expire (one home)."""
