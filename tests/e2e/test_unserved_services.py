"""A service lambdaperm does not serve is refused in the protocol its client speaks — XML to query/ec2/rest-xml
clients, JSON to json/rest-json ones — naming the service (issue 8 §4: `aws cloudformation list-stacks` showed
"invalid XML received")."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import Endpoint

ACCOUNT = "777740000008"


def _refusal(call: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as refused:
        call()
    error = refused.value.response
    return error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"], error["Error"].get("Message", "")


# service: (a call, the code its protocol's client must read)
UNSERVED: dict[str, tuple[str, str]] = {
    "cloudformation": ("list_stacks", "InvalidAction"),  # query → XML
    "rds": ("describe_db_instances", "InvalidAction"),  # query → XML
    "route53": ("list_hosted_zones", "InvalidAction"),  # rest-xml → XML
    "ecs": ("list_clusters", "UnknownOperationException"),  # json
    "apigateway": ("get_rest_apis", "UnknownOperationException"),  # rest-json
}


@pytest.mark.parametrize("service", sorted(UNSERVED))
def test_an_unserved_service_is_refused_in_its_clients_protocol(server: Endpoint, service: str) -> None:
    operation, code = UNSERVED[service]
    client = server.client(service, key=ACCOUNT)
    status, got, message = _refusal(lambda: getattr(client, operation)())
    assert (status, got) == (400, code)
    assert f"'{service}'" in message and "does not serve" in message


def test_the_aws_cli_reads_an_unserved_query_service_refusal(server: Endpoint) -> None:
    if shutil.which("aws") is None:
        pytest.skip("the AWS CLI is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCOUNT,
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_MAX_ATTEMPTS="1",
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
    )
    done = subprocess.run(
        ["aws", "--endpoint-url", server.url, "cloudformation", "list-stacks"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "invalid XML" not in done.stderr
    assert "(InvalidAction)" in done.stderr and "'cloudformation'" in done.stderr, done.stderr
