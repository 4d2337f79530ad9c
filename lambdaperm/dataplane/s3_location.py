"""CreateBucket's legacy LocationConstraint `EU` names eu-west-1.

"Buckets with a LocationConstraint of EU reside in eu-west-1"
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html). The backend took `EU` as a region
name of its own: the bucket lived in a region no request is signed for, so S3's region check refused eu-west-1
requests and accepted requests signed for the non-region `EU`, decided with `aws:RequestedRegion` = `EU` (a
guardrail on eu-west-1 did not apply; region/account review round 6). The backend now gets `eu-west-1`.

Only at the us-east-1 endpoint, the one that takes a LocationConstraint of another region
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html); elsewhere the backend's refusal of a
constraint other than the endpoint's own stands. Limit: GetBucketLocation then answers `eu-west-1` where S3
answers `EU` (a fidelity difference, not an access one).
"""

from __future__ import annotations

from typing import Any

LEGACY_EU = "EU"
EU_WEST_1 = "eu-west-1"
GLOBAL_ENDPOINT_REGION = "us-east-1"


def canonical_location(operation: str, params: dict[str, Any], region: str) -> dict[str, Any]:
    """`params` with LocationConstraint `EU` read as eu-west-1 (CreateBucket at the us-east-1 endpoint)."""
    config = params.get("CreateBucketConfiguration")
    if operation != "CreateBucket" or region != GLOBAL_ENDPOINT_REGION or not isinstance(config, dict):
        return params
    if config.get("LocationConstraint") != LEGACY_EU:
        return params
    return {**params, "CreateBucketConfiguration": {**config, "LocationConstraint": EU_WEST_1}}
