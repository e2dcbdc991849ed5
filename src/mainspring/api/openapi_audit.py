"""The audit log's part of the OpenAPI document (`openapi_spec.PATHS` merges it)."""

from __future__ import annotations

from mainspring.api import inputs as i
from mainspring.api import models as m
from mainspring.api.openapi import BAD, Operation, Paths, ok

AUDIT: Paths = {
    "/v1/audit": {
        "get": Operation(
            "Audit",
            "Operator actions, newest first, with filters and a cursor",
            {**ok(m.Envelope[list[m.AuditEntry]]), **BAD},
            query=i.AuditQuery,
        )
    }
}
