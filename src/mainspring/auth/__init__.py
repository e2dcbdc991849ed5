"""Production-mode access control: event keys, API tokens, dashboard sessions and CSRF."""
