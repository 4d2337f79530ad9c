"""Where the authorizer finds policies: our own services (identities, trust policies, function policies)
and the data plane (S3 bucket, SQS queue and SNS topic policies held by the embedded moto backend)."""

from __future__ import annotations

from lambdaperm.dataplane import moto_state
from lambdaperm.services.iam.principals import IdentityPolicies
from lambdaperm.services.policy_sources import ServicePolicies
from lambdaperm.state.identity import Identity


class CompositePolicies:
    def __init__(self, services: ServicePolicies, *, embedded_data_plane: bool) -> None:
        self.services = services
        self.embedded = embedded_data_plane

    def identity_policies(self, identity: Identity) -> IdentityPolicies:
        return self.services.identity_policies(identity)

    def resource_policy(self, action: str, resource: str) -> tuple[str, str | None] | None:
        found = self.services.resource_policy(action, resource)
        if found is not None or not self.embedded:
            return found
        data = moto_state.resource_policy(resource)
        if data is None or data[1] is None:
            return None
        return "resource", data[1]

    def resource_account(self, resource: str) -> str | None:
        """The owner of a resource whose ARN has no account (S3)."""
        if not self.embedded or not resource.startswith("arn:aws:s3:::"):
            return None
        data = moto_state.resource_policy(resource)
        return data[0] if data is not None else None
