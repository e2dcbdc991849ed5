"""HTTP only: routes translate requests into service calls. No SQL here."""
