"""Environments: one server, several isolated worlds (production, staging, preview branches),
each with its own store and engine; `X-Inngest-Env` says which one a request is for."""
