"""Our own control plane: IAM, STS (and Lambda, CloudTrail, Access Analyzer as they come).

Each service module exposes `OPERATIONS: dict[str, Handler]`; a handler takes the request context and the
parsed input parameters (a boto3-style dict) and returns the output dict, or raises ServiceError.
"""
