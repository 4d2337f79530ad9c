"""The Resource/NotResource ARN grammar IAM enforces when an IAM policy is written, with IAM's messages.

IAM refuses (MalformedPolicyDocument), observed through its API (docs/fidelity.md, "Issue 8 §5: policy
grammar"), https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html and
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html:
- a partition that is not one of AWS's (`arn:error:…`): `Partition "error" is not valid for resource "…".`;
- no service (`arn:aws`): `Resource vendor must be fully qualified and cannot contain regexes.`, and so a
  service holding a wildcard;
- fewer than six segments or an empty service (`arn:aws:s3::x`, `arn:aws::::x`): `The policy failed legacy
  parsing` (stricter than IAM, which reads `arn:aws:svc` with three segments as valid: the engine refuses
  what it could not match exactly as AWS does);
- a region in an IAM or S3 ARN (both are global): `IAM resource … cannot contain region information.`,
  `Resource … can not contain region information.` (IAM's two spellings);
- an IAM resource that is not `*` and names no IAM resource type (`arn:aws:iam:::x`, `…:root`).
"""

from __future__ import annotations

import fnmatch

# https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html
PARTITIONS = frozenset({"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"})
LEGACY = "The policy failed legacy parsing"
# The prefixes IAM names in its message, then the resource types the Service Authorization Reference adds.
_IAM_PATH_MESSAGE_PREFIXES = (
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
)
_IAM_PREFIXES = (*_IAM_PATH_MESSAGE_PREFIXES, "assumed-role/", "delegation-request/", "role-template/")
IAM_PATH = 'IAM resource path must either be "*" or start with ' + ", ".join(_IAM_PATH_MESSAGE_PREFIXES) + "."
_GLOBAL_SERVICES = {
    "iam": "IAM resource {arn} cannot contain region information.",
    "s3": "Resource {arn} can not contain region information.",
}


def _known_partition(partition: str) -> bool:
    """A partition IAM takes: one of AWS's, or a wildcard pattern matching one of them — AWS's own managed policies
    write `arn:*:ssm:…` (160 Resource ARNs in moto's copy of them), so IAM accepts a wildcard partition."""
    if partition in PARTITIONS:
        return True
    if not any(ch in partition for ch in "*?"):
        return False
    return any(fnmatch.fnmatchcase(known, partition.replace("[", "[[]")) for known in PARTITIONS)


def resource_arn_error(arn: str) -> str | None:
    """IAM's message for the Resource pattern `arn` (which starts with `arn:`), or None when IAM takes it."""
    parts = arn.split(":", 5)
    if len(parts) >= 2 and not _known_partition(parts[1]):
        return f'Partition "{parts[1]}" is not valid for resource "{arn}".'
    if len(parts) < 3 or any(ch in parts[2] for ch in "*?$"):
        return "Resource vendor must be fully qualified and cannot contain regexes."
    if len(parts) < 6 or not parts[2]:
        return LEGACY
    _, _, service, region, account, resource = parts
    # S3's bucket and object ARNs have neither region nor account (`arn:aws:s3:::b/k`); its access points, jobs and
    # Storage Lens resources have both (AWS's own managed policies write `arn:aws:s3:*:*:accesspoint/…`).
    regional_s3 = service == "s3" and account != ""
    if region and service in _GLOBAL_SERVICES and not regional_s3:
        return _GLOBAL_SERVICES[service].format(arn=arn)
    # The case of the resource type is not documented; IAM's evaluation (iam-simulate) takes `ROLE/x`, which
    # then matches only what AWS matches (the resource part compares case-sensitively): not refused.
    # `root` names an account (`arn:aws:iam::*:root` in AWS's own managed policies)
    if service == "iam" and resource not in ("*", "root") and not resource.lower().startswith(_IAM_PREFIXES):
        return IAM_PATH
    return None
