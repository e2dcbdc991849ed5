"""The queue of timed work items and the worker that leases them."""
