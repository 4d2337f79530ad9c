"""The facts the policy source gives the authorizer: from the records for IAM and Lambda, from the embedded
backend for the data plane, and nothing (None: unsupplied) for a data plane lambdaperm does not hold."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lambdaperm.gateway.policy_source import CompositePolicies
from lambdaperm.services.policy_sources import ServicePolicies
from lambdaperm.state import Database, Records

ACCOUNT = "660000000001"
REGION = "us-east-1"


@pytest.fixture
def records() -> Iterator[Records]:
    db = Database(None)
    yield Records(db)
    db.close()


def test_upstream_data_plane_facts_are_unknown(records: Records) -> None:
    source = CompositePolicies(ServicePolicies(records), embedded_data_plane=False)
    assert source.resource_tags(f"arn:aws:sqs:{REGION}:{ACCOUNT}:q") is None
    assert source.object_tags("arn:aws:s3:::b/k", None) is None
    assert source.partition_key(f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/T") is None
    assert source.subnet_vpc(ACCOUNT, REGION, ("subnet-1",)) is None
    # our own control plane's resources are still known: a function that does not exist has no tags
    assert source.resource_tags(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:none") == {}


def test_iam_tags_and_boundaries_from_the_records(records: Records) -> None:
    source = CompositePolicies(ServicePolicies(records), embedded_data_plane=True)
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/b"
    records.put(
        "iam.role",
        ACCOUNT,
        "r",
        {
            "RoleName": "R",
            "Arn": f"arn:aws:iam::{ACCOUNT}:role/p/R",
            "Tags": {"env": "prod"},
            "PermissionsBoundary": boundary,
        },
    )
    assert source.resource_tags(f"arn:aws:iam::{ACCOUNT}:role/p/R") == {"env": "prod"}
    assert source.permissions_boundary(f"arn:aws:iam::{ACCOUNT}:role/R") == (boundary,)
    assert source.permissions_boundary(f"arn:aws:iam::{ACCOUNT}:user/nobody") == ()
    assert source.resource_tags(f"arn:aws:iam::{ACCOUNT}:instance-profile/x") is None  # not kept: unsupplied
    assert source.resource_tags("arn:aws:iam::aws:policy/AdministratorAccess") == {}


def test_data_plane_facts_from_the_embedded_backend(records: Records) -> None:
    from moto.dynamodb.models import dynamodb_backends
    from moto.sqs.models import sqs_backends

    source = CompositePolicies(ServicePolicies(records), embedded_data_plane=True)
    sqs_backends[ACCOUNT][REGION].create_queue("tagged", tags={"env": "prod"})
    assert source.resource_tags(f"arn:aws:sqs:{REGION}:{ACCOUNT}:tagged") == {"env": "prod"}
    assert source.resource_tags(f"arn:aws:sqs:{REGION}:{ACCOUNT}:missing") == {}
    ddb = dynamodb_backends[ACCOUNT][REGION]
    ddb.create_table(
        "T",
        schema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        attr=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "g", "AttributeType": "S"}],
        throughput=None,
        billing_mode="PAY_PER_REQUEST",
        indexes=None,
        global_indexes=[
            {
                "IndexName": "G",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        streams=None,
        sse_specification=None,
        tags=[{"Key": "env", "Value": "dev"}],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/T"
    assert source.partition_key(table) == "pk"
    assert source.partition_key(f"{table}/index/G") == "g"
    assert source.partition_key(f"{table}/index/none") is None
    assert source.resource_tags(f"{table}/index/G") == {"env": "dev"}  # an index: its table's tags
    assert source.resource_tags(f"{table}/stream/2026-01-01T00:00:00.000") is None  # streams: unsupplied
    assert source.resource_tags("arn:aws:s3:::any-bucket") == {}  # bucket ABAC is Disabled


def test_the_function_of_an_event_source_mapping(records: Records) -> None:
    source = CompositePolicies(ServicePolicies(records), embedded_data_plane=True)
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f:live"
    records.put(
        "lambda.mapping",
        "",
        "1234-abcd",
        {"UUID": "1234-abcd", "FunctionArn": function, "_Account": ACCOUNT, "_Region": REGION},
    )
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:1234-abcd"
    assert source.mapping_function(arn) == (function,)
    assert source.mapping_function(arn.replace(ACCOUNT, "660000000002")) == ()  # another account's UUID
    assert source.mapping_function(f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:none") == ()
