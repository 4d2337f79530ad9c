"""Who a credential belongs to: the caller as the engine sees it, plus what CloudTrail and the
request context need (unique principal id, access key, session details, principal tags)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lambdaperm.policy import Caller


@dataclass(frozen=True, slots=True)
class Identity:
    caller: Caller
    principal_id: str  # AIDA… for users, AROA…:session for sessions, the account id for root
    access_key_id: str | None = None
    user_name: str | None = None  # IAM user name
    role_name: str | None = None  # the role behind a session
    role_id: str | None = None
    session_created: datetime | None = None
    session_expires: datetime | None = None
    chained: bool = False  # a session obtained with another session's credentials
    tags: dict[str, str] = field(default_factory=dict)  # principal tags (user, or role + session tags)
    session_policies: tuple[str, ...] = ()  # session policy documents (JSON text), inline and managed
    source_identity: str | None = None
    mfa: bool = False
    source_function_arn: str | None = None  # lambda:SourceFunctionArn of credentials given to function code

    @property
    def account(self) -> str:
        return self.caller.account
