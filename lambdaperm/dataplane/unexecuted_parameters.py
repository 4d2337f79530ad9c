"""Request members the decision reads but the embedded backend does not carry out: refused, not ignored.

lambdaperm decides a call on its members — the resources they name, the condition keys read from them — and the
backend must then do what was decided. moto 5.2.1 ignores the members below (found by the structural audit of
review round 10, tests/security/test_decision_parameters_are_executed.py, which checks every member the decision
reads against moto's handlers); served, the call would be authorized on one reading and carried out on another.
Each is answered 501 NotImplemented naming the member, in both modes (an upstream moto reads them alike):

- S3 SSE-C (`SSECustomerAlgorithm`, the `s3:x-amz-server-side-encryption-customer-algorithm` key): moto reads no
  `x-amz-server-side-encryption-customer-*` header and stores the object in the clear, so a GetObject without
  the customer key returned it; S3 refuses that read ("you must provide the same encryption key"),
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html.
- CreateMultipartUpload's object-lock members (`s3:object-lock-mode`, `-retain-until-date`, `-legal-hold`): moto's
  CreateMultipartUpload reads none of them, so the completed object was unlocked (deletable at once),
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html.
- Conditional writes moto does not make conditional (`s3:if-match`, `s3:if-none-match`): CopyObject's
  destination `If-Match`/`If-None-Match` (moto reads only the `x-amz-copy-source-if-*` source conditions) and
  CompleteMultipartUpload's `If-Match` (moto reads `If-None-Match` only): S3 answers 412 PreconditionFailed when
  the condition fails, moto overwrote the object,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html.
- CreateBucket's `CreateBucketConfiguration.Tags` (`aws:RequestTag`, `aws:TagKeys`): moto reads only the
  LocationConstraint of the configuration; the bucket was created untagged,
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html.
- PutObjectRetention's `BypassGovernanceRetention` (which makes the call need s3:BypassGovernanceRetention):
  moto reads no `x-amz-bypass-governance-retention` there and enforces no existing retention at all, so it
  cannot honour what the header means (a COMPLIANCE retention stays unshortened even with it),
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html#object-lock-managing-bypass.
- Logs DescribeLogGroups' `logGroupIdentifiers` ("If you specify this parameter, the only other parameter you
  can choose to specify is includeLinkedAccounts"): moto lists every group, not the ones named (and authorized);
  StartQuery's `logGroupIdentifiers`: moto reads logGroupName(s) only and failed,
  https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogGroups.html,
  https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartQuery.html.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_SSE_C = ("SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5")

# (service, operation) → the members (dotted paths from the request) the backend does not carry out
UNEXECUTED: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "PutObject"): _SSE_C,
    ("s3", "CopyObject"): (*_SSE_C, "IfMatch", "IfNoneMatch"),
    ("s3", "CreateMultipartUpload"): (
        *_SSE_C,
        "ObjectLockMode",
        "ObjectLockRetainUntilDate",
        "ObjectLockLegalHoldStatus",
    ),
    ("s3", "UploadPart"): _SSE_C,
    ("s3", "UploadPartCopy"): _SSE_C,
    ("s3", "CompleteMultipartUpload"): (*_SSE_C, "IfMatch"),
    ("s3", "CreateBucket"): ("CreateBucketConfiguration.Tags",),
    ("s3", "PutObjectRetention"): ("BypassGovernanceRetention",),
    ("logs", "DescribeLogGroups"): ("logGroupIdentifiers",),
    ("logs", "StartQuery"): ("logGroupIdentifiers",),
}


def _present(params: Mapping[str, Any], path: str) -> bool:
    value: Any = params
    for name in path.split("."):
        if not isinstance(value, Mapping) or value.get(name) is None:
            return False
        value = value[name]
    return not (isinstance(value, str | list | tuple | dict) and len(value) == 0)


def check(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """501 NotImplemented naming the first member of the table the request carries."""
    for path in UNEXECUTED.get((service, operation), ()):
        if _present(params, path):
            raise ServiceError("NotImplemented", f"lambdaperm does not serve {operation} with {path}", 501)
