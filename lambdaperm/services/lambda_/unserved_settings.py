"""Function settings whose accesses Lambda makes on the caller's or the role's behalf, and lambdaperm does not serve.

Each of these makes Lambda reach another resource, as the caller (a forward access session) or as the execution
role, and changes what the function is:

- `CodeSigningConfigArn`: Lambda reads the code signing configuration and checks the package's signature against
  its allowed signing profiles; with `UntrustedArtifactOnDeployment` = Enforce an unsigned package is refused
  (https://docs.aws.amazon.com/lambda/latest/dg/configuration-codesigning.html). IAM policies can require it with
  `lambda:CodeSigningConfigArn` (https://docs.aws.amazon.com/lambda/latest/dg/code-signing-policies.html).
- `Layers`: Lambda reads each layer version as the caller (`lambda:GetLayerVersion`) and mounts its content under
  /opt (https://docs.aws.amazon.com/lambda/latest/dg/chapter-layers.html).
- `KMSKeyArn`: Lambda encrypts the environment with the customer managed key, using the caller's permissions on
  the key (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html).
- `FileSystemConfigs`: Lambda mounts an EFS access point with the execution role
  (https://docs.aws.amazon.com/lambda/latest/dg/configuration-filesystem.html).
- `LoggingConfig.LogGroup` other than `/aws/lambda/<name>`: Lambda writes the function's logs there with the
  execution role (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html).

- `TracingConfig.Mode` Active: Lambda samples requests and sends trace segments to X-Ray with the execution role
  (`xray:PutTraceSegments`, `xray:PutTelemetryRecords`), and refuses a role without them
  (https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html). lambdaperm serves no X-Ray (review round 8).
- `SnapStart.ApplyOn` PublishedVersions: Lambda runs the function's initialization at PublishVersion, with the
  role, snapshots it and resumes invocations from the snapshot
  (https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html). lambdaperm takes no snapshots (review round 8).
- `EphemeralStorage.Size` other than 512: the function's /tmp has the configured size
  (https://docs.aws.amazon.com/lambda/latest/dg/configuration-ephemeral-storage.html); lambdaperm's sandbox /tmp is
  512 MiB (`runtime.isolation.TMP_BYTES`), and the size was dropped (review round 8).

- `Code.SourceKMSKeyArn` (CreateFunction), `SourceKMSKeyArn` (UpdateFunctionCode): Lambda encrypts the .zip package
  with the customer managed key, and "only users in your account with access to the KMS key can view or manage the
  function's code or configuration" (https://docs.aws.amazon.com/lambda/latest/dg/encrypt-zip-package.html); dropped,
  the package was readable by anyone allowed lambda:GetFunction (review round 10).
- `CapacityProviderConfig`: the function runs on the capacity provider's instances, and "Users need the
  lambda:PassCapacityProvider permission to assign functions to capacity providers"
  (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-security.html); neither was done (round 10).
- `TenancyConfig.TenantIsolationMode` PER_TENANT: "Each tenant gets a dedicated execution environment"
  (https://docs.aws.amazon.com/lambda/latest/api/API_TenancyConfig.html); dropped, tenants shared one (round 10).
- `DurableConfig`: Lambda checkpoints a durable execution and invokes the function again to resume it
  (https://docs.aws.amazon.com/lambda/latest/api/API_DurableConfig.html); dropped (round 10).

lambdaperm serves no code signing configurations, layers, KMS keys or file systems, and writes logs to the default
group only (nor capacity providers, tenant isolation or durable executions: round 10). These settings were accepted
and silently dropped: a caller whose policy allows CreateFunction only
with `lambda:CodeSigningConfigArn` naming the organization's enforcing configuration passed that ARN, was
authorized on it, and deployed unsigned code with no configuration attached (implicit accesses review round 7).
Such a request is now refused with 501 NotImplemented naming the setting; an empty value (no layers, no key, no
file system, the default log group) is what lambdaperm does and is accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError


def _not_served(setting: str, what: str) -> ServiceError:
    return ServiceError(
        "NotImplemented",
        f"lambdaperm does not serve {what}: the function setting {setting} cannot be applied",
        501,
        sender_fault=False,
        fields={"Type": "Service"},
    )


def refuse_unserved_settings(params: Mapping[str, Any], function_name: str) -> None:
    """501 NotImplemented for a CreateFunction / UpdateFunctionConfiguration / UpdateFunctionCode setting lambdaperm
    would not apply."""
    if params.get("CodeSigningConfigArn"):
        raise _not_served("CodeSigningConfigArn", "code signing configurations")
    if params.get("Layers"):
        raise _not_served("Layers", "Lambda layers")
    if params.get("KMSKeyArn"):
        raise _not_served("KMSKeyArn", "customer managed KMS keys")
    if params.get("FileSystemConfigs"):
        raise _not_served("FileSystemConfigs", "file systems (Amazon EFS)")
    logging = params.get("LoggingConfig")
    group = logging.get("LogGroup") if isinstance(logging, Mapping) else None
    if group and group != f"/aws/lambda/{function_name}":
        raise _not_served("LoggingConfig.LogGroup", f"log groups other than /aws/lambda/{function_name}")
    if _member(params, "TracingConfig", "Mode") not in (None, "PassThrough"):
        raise _not_served("TracingConfig.Mode", "AWS X-Ray tracing (only PassThrough)")
    if _member(params, "SnapStart", "ApplyOn") not in (None, "None"):
        raise _not_served("SnapStart.ApplyOn", "Lambda SnapStart")
    if _member(params, "EphemeralStorage", "Size") not in (None, 512):
        raise _not_served("EphemeralStorage.Size", "ephemeral storage other than 512 MB")
    if params.get("SourceKMSKeyArn") or _member(params, "Code", "SourceKMSKeyArn"):
        raise _not_served("SourceKMSKeyArn", "customer managed KMS keys for deployment packages")
    if _asks(params.get("CapacityProviderConfig")):
        raise _not_served("CapacityProviderConfig", "capacity providers (Lambda Managed Instances)")
    if _member(params, "TenancyConfig", "TenantIsolationMode"):
        raise _not_served("TenancyConfig", "tenant isolation")
    if _asks(params.get("DurableConfig")):
        raise _not_served("DurableConfig", "durable functions")


def _asks(value: Any) -> bool:
    """Whether a setting asks for something: a non-empty value, or a structure with a non-empty member."""
    if isinstance(value, Mapping):
        return any(_asks(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_asks(v) for v in value)
    return value not in (None, "", 0, False)


def _member(params: Mapping[str, Any], structure: str, member: str) -> Any:
    value = params.get(structure)
    return value.get(member) if isinstance(value, Mapping) else None
