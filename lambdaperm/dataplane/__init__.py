"""Data-plane services the function code talks to (DynamoDB, S3, SQS, SNS, Logs, EC2 VPC objects):
served by an embedded moto backend behind our authorization, or forwarded to an upstream endpoint."""

from .moto_backend import MotoBackend
from .upstream import Upstream

__all__ = ["MotoBackend", "Upstream"]
