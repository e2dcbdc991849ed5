"""Driving runs: call the SDK, record its answer, decide what comes next."""
