"""Where the authorizer finds policies and the facts of a resource it decides on: our own services
(identities, trust policies, function policies; the tags and boundaries of IAM and Lambda resources, from
the records) and the data plane (S3 bucket, SQS queue and SNS topic policies; data-plane resource tags,
object tags, DynamoDB key schemas, subnet VPCs, held by the embedded moto backend).

With `--upstream` the data plane's resources live elsewhere: their facts are unknown (None), so the
authorizer treats the keys that need them as unsupplied (undecidable), never as absent.
"""

from __future__ import annotations

from collections.abc import Mapping

from lambdaperm.dataplane import dynamodb_keys, dynamodb_policies, moto_state, s3_public_policies
from lambdaperm.dataplane import tags as data_tags
from lambdaperm.protocol.errors import ServiceError
from lambdaperm.services import principal_pins, resource_facts
from lambdaperm.services.iam.principals import IdentityPolicies
from lambdaperm.services.policy_sources import ServicePolicies
from lambdaperm.state import Derived
from lambdaperm.state.identity import Identity

# ARN services whose resources our own control plane holds
_OWN = ("arn:aws:iam:", "arn:aws:lambda:", "arn:aws:sts:")


class CompositePolicies:
    def __init__(self, services: ServicePolicies, *, embedded_data_plane: bool) -> None:
        self.services = services
        self.embedded = embedded_data_plane
        self._pins = Derived(services.records)

    def identity_policies(self, identity: Identity) -> IdentityPolicies:
        return self.services.identity_policies(identity)

    def resource_policy(self, action: str, resource: str) -> tuple[str, str | None] | None:
        found = self.services.resource_policy(action, resource)
        if found is not None or not self.embedded:
            return found
        if action.lower() == "s3:createbucket":
            return None  # an existing bucket's policy says nothing about creating one (the name is taken)
        data = moto_state.resource_policy(resource)
        if data is None or data[1] is None:
            return None
        text = self._pinned(resource, data[1])
        if resource.startswith("arn:aws:s3:::"):  # RestrictPublicBuckets (s3_public_policies)
            text = s3_public_policies.policy_for(resource[len("arn:aws:s3:::") :].split("/", 1)[0], data[0], text)
        return "resource", text

    def _pinned(self, resource: str, text: str) -> str:
        """The policy with the users and roles it names as they were when it was written (principal_pins)."""
        holder = resource.split("/", 1)[0] if resource.startswith("arn:aws:s3:::") else resource  # the bucket
        if resource.startswith("arn:aws:dynamodb:"):  # an index: its table's policy (dynamodb_policies)
            holder = dynamodb_policies.holder(resource) or resource
        return self._pins.get(  # type: ignore[no-any-return]
            ("pins", holder, text), lambda: principal_pins.pinned_text(self.services.records, holder, text)
        )

    def resource_account(self, resource: str) -> str | None:
        """The owner of a resource whose ARN has no account (S3)."""
        if not self.embedded or not resource.startswith("arn:aws:s3:::"):
            return None
        data = moto_state.resource_policy(resource)
        return data[0] if data is not None else None

    # --- facts (lambdaperm.authz.facts.FactSource) ---------------------------------------------------------

    def resource_tags(self, resource: str) -> Mapping[str, str] | None:
        if resource.startswith(_OWN):
            return resource_facts.resource_tags(self.services.records, resource)
        return data_tags.resource_tags(resource) if self.embedded else None

    def object_tags(self, resource: str, version: str | None) -> Mapping[str, str] | None:
        return data_tags.s3_object_tags(resource, version) if self.embedded else None

    def permissions_boundary(self, resource: str) -> tuple[str, ...] | None:
        return resource_facts.permissions_boundary(self.services.records, resource)

    def mapping_function(self, resource: str) -> tuple[str, ...] | None:
        return resource_facts.mapping_function(self.services.records, resource)

    def partition_key(self, resource: str) -> str | None:
        return dynamodb_keys.partition_key(resource) if self.embedded else None

    def subnet_vpc(self, account: str, region: str, subnets: tuple[str, ...]) -> str | None:
        if not self.embedded or not account or not region:
            return None
        try:
            return moto_state.vpc_of(account, region, list(subnets), []) or None
        except ServiceError:
            return None  # a subnet that does not exist: the call fails; the VPC cannot be told
