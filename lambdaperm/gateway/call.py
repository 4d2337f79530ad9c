"""What the pipeline has learned about one request so far (for the error, the trail record)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lambdaperm.policy import Caller, PrincipalKind
from lambdaperm.protocol import HttpRequest, Operation
from lambdaperm.state.identity import Identity

ANONYMOUS = Identity(Caller("anonymous", PrincipalKind.ANONYMOUS, ""), "anonymous")
DEFAULT_REGION = "us-east-1"


@dataclass
class Call:
    req: HttpRequest
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    op: Operation | None = None
    region: str = DEFAULT_REGION
    identity: Identity | None = None
    params: dict[str, Any] | None = None
    resources: list[str] = field(default_factory=list)
    scope: Any = None  # the credential scope the request claims (authn.Scope), read once
    refused: list[int] | None = None  # S3 DeleteObjects: the entries the caller may not delete
    context: dict[str, tuple[str, ...]] | None = None  # the request context the call was authorized with
    transport: Any = None  # S3's transport keys of that authorization (authz), read once
    export: Any = None  # CloudWatch Logs CreateExportTask: the export pinned and authorized (dataplane.logs_exports)
    decision_line: str = ""  # `serve --log-level debug`: the decision, as request_log.py logs it
