"""What the Lambda service needs from the rest of the server, injected by the gateway (services do not
import the runtime or the data plane: they are siblings in the layer picture)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from .store import CodeStore


class LambdaEnvironment(Protocol):
    code: CodeStore
    endpoint_url: str

    def code_url(self, code_hex: str) -> str:
        """A presigned, short-lived download URL of a code archive."""
        ...

    def s3_bucket(self, bucket: str) -> tuple[str, str] | None:
        """(owner account, region) of a bucket of the data plane, or None when no account has it."""
        ...

    def s3_object(self, bucket: str, key: str, version: str | None) -> bytes | None:
        """An object's bytes from the data plane, or None if it does not exist. Unauthorized: the caller
        authorizes the read first (`authorize_implicit`)."""
        ...

    def s3_object_held(self, bucket: str, key: str) -> AbstractContextManager[None]:
        """Hold the bucket and object as an S3 GetObject does from its decision to its execution (writes of the
        object wait): taken around the read's authorization and the read (gateway/code_read_holds.py)."""
        ...

    def authorize_implicit(self, ctx: Any, service: str, operation: str, params: dict[str, Any]) -> str | None:
        """Authorize an access Lambda makes on the caller's behalf (a forward access session: the caller's
        policies, the resource's policy, `aws:ViaAWSService` true) exactly as the call `operation` of
        `service` with `params` would be authorized: None when allowed, else the denial's message."""
        ...

    def authorize_role_session(self, ctx: Any, session: Any, needed: Sequence[Any]) -> str | None:
        """Authorize the calls `needed` (catalog RequiredActions) made by `session` (an Identity: a session of a
        function's execution role, as Lambda uses it) exactly as the server's pipeline authorizes the same calls
        reaching the endpoint (identity and resource policies, principal tags, request context): None when all
        are allowed, else the denial's message."""
        ...

    def vpc_of(self, account: str, region: str, subnet_ids: list[str], security_group_ids: list[str]) -> str:
        """The VPC the subnets belong to; raises the AWS error when a subnet or group does not exist."""
        ...

    def invoke(self, spec: Any, payload: bytes, credentials: Any, *, request_id: str,
               client_context: str | None) -> Any:
        """Run the handler (lambdaperm.runtime.Runtime.invoke)."""
        ...

    def evict(self, function_arn: str) -> None:
        """Forget warm workers of a function whose code or configuration changed."""
        ...

    def ship_logs(self, account: str, region: str, group: str, stream: str, text: str, *,
                  create_group: bool = True) -> None:
        """Write an invocation's log lines to CloudWatch Logs (the data plane); without `create_group`, only to a
        group that exists when they are written."""
        ...

    def log_group_exists(self, account: str, region: str, group: str) -> bool:
        """Whether the CloudWatch Logs log group exists (the data plane)."""
        ...
