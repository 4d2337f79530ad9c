"""What a service handler knows about the request it serves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lambdaperm.state import Records
from lambdaperm.state.identity import Identity

Params = dict[str, Any]
Output = dict[str, Any]


@dataclass
class RequestContext:
    identity: Identity
    region: str
    request_id: str
    now: datetime
    records: Records
    trail: Any = None  # the TrailStore, for CloudTrail's own API
    env: Any = None  # collaborators injected by the gateway (the Lambda environment: runtime, data plane)
    source_ip: str = "127.0.0.1"
    user_agent: str = ""
    resources: list[dict[str, str]] = field(default_factory=list)  # for the CloudTrail record
    # function ARN → the incarnation read before the call was authorized (services/lambda_/incarnation.py)
    pinned: dict[str, str | None] = field(default_factory=dict)

    @property
    def account(self) -> str:
        return self.identity.account


Handler = Callable[[RequestContext, Params], Output]
