"""A botocore release newer than the pinned one can know operations the catalog does not map. Such an install
is not broken: the running server answers those operations with a fail-closed denial, in the service's
protocol, that names the operation (gateway/denials.py `unmapped`, docs/coverage.md).

The newer release is simulated with real botocore models, not a mock: the installed model of each service plus
an operation botocore does not know, written to `~/.aws/models` (botocore's customer data path, read before the
models it ships) for the server — whose catalog and protocol layer read models through botocore's default
`Loader` — and given to the client as its session's `data_path` (what `AWS_DATA_PATH` sets).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint, start_server, stop_server
from tests.upstream_model import write_extended_model

PROBE = "GetUpstreamProbe"  # no service and no IAM action has this name
_NAME = {"shape": "ProbeName"}
_SHAPES: dict[str, dict[str, Any]] = {
    "ProbeName": {"type": "string"},
    "ProbeInput": {"type": "structure", "members": {"ProbeName": _NAME}},
    "ProbeOutput": {"type": "structure", "members": {"ProbeName": _NAME}},
}
_QUERY_OP = {
    "http": {"method": "POST", "requestUri": "/"},
    "input": {"shape": "ProbeInput"},
    "output": {"shape": "ProbeOutput", "resultWrapper": f"{PROBE}Result"},
}
_JSON_OP = {
    "http": {"method": "POST", "requestUri": "/"},
    "input": {"shape": "ProbeInput"},
    "output": {"shape": "ProbeOutput"},
}
_LAMBDA_SHAPES: dict[str, dict[str, Any]] = {
    **_SHAPES,
    "ProbeInput": {
        "type": "structure",
        "required": ["ProbeName"],
        "members": {"ProbeName": {**_NAME, "location": "uri", "locationName": "ProbeName"}},
    },
}
_LAMBDA_OP = {
    "http": {"method": "GET", "requestUri": "/2015-03-31/upstream-probes/{ProbeName}", "responseCode": 200},
    "input": {"shape": "ProbeInput"},
    "output": {"shape": "ProbeOutput"},
}

# service -> (operation definition, shapes); one per protocol lambdaperm serves with its own control plane
# (query: IAM, STS; rest-json: Lambda) and one forwarded to the data plane (json: DynamoDB)
NEW_OPERATIONS: dict[str, tuple[dict[str, Any], dict[str, dict[str, Any]]]] = {
    "iam": (_QUERY_OP, _SHAPES),
    "sts": (_QUERY_OP, _SHAPES),
    "lambda": (_LAMBDA_OP, _LAMBDA_SHAPES),
    "dynamodb": (_JSON_OP, _SHAPES),
}
# the status and code each service's AccessDenied has (spec §2.2, gateway/denials.py)
DENIAL = {
    "iam": (403, "AccessDenied"),
    "sts": (403, "AccessDenied"),
    "lambda": (403, "AccessDeniedException"),
    "dynamodb": (400, "AccessDeniedException"),
}

# An operation the pinned botocore does not know but whose name is an IAM action of the reference (a
# permission-only action today): the catalog maps only the operations it was reviewed against
# (catalog/reviewed.py), so it is denied by name like any unmapped operation — never authorized by its name.
NAMED_BY_AN_ACTION: dict[str, tuple[str, str]] = {
    # service: (operation, its resource parameter)
    "iam": ("PassRole", "RoleName"),
    "dynamodb": ("ConditionCheckItem", "TableName"),
}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("home") / ".aws" / "models"
    for service, (op, shapes) in NEW_OPERATIONS.items():
        operations, all_shapes = {PROBE: op}, dict(shapes)
        if service in NAMED_BY_AN_ACTION:
            name, param = NAMED_BY_AN_ACTION[service]
            operations[name] = {"http": {"method": "POST", "requestUri": "/"}, "input": {"shape": f"{name}Input"}}
            all_shapes[f"{name}Input"] = {"type": "structure", "required": [param], "members": {param: _NAME}}
        write_extended_model(data, service, operations, all_shapes)
    return data


@pytest.fixture(scope="module")
def newer_server(models: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    home = models.parent.parent
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))  # the server's botocore reads ~/.aws/models (start_server keeps HOME)
        endpoint = start_server(None, tmp_path_factory.mktemp("lambdaperm"))
    yield endpoint
    stop_server(endpoint)


def _client(endpoint: Endpoint, service: str, models: Path) -> Any:
    session = botocore.session.Session()
    session.set_config_variable("data_path", str(models))  # AWS_DATA_PATH for this session only
    return boto3.Session(botocore_session=session).client(
        service,
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.mark.parametrize("service", sorted(NEW_OPERATIONS))
def test_an_operation_the_catalog_does_not_map_is_denied_by_name(
    newer_server: Endpoint, models: Path, service: str
) -> None:
    client = _client(newer_server, service, models)
    assert PROBE in client.meta.service_model.operation_names  # the client's botocore knows it
    with pytest.raises(ClientError) as caught:
        client.get_upstream_probe(ProbeName="p1")
    error = caught.value.response
    status, code = DENIAL[service]
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (status, code)
    message = error["Error"]["Message"]
    assert f"does not know which IAM action authorizes {service}:{PROBE}" in message
    assert "denied (fail closed)" in message


def test_the_probe_is_denied_to_the_account_root_too(newer_server: Endpoint, models: Path) -> None:
    """The denial comes before any policy is read: the root user of a fresh account (allowed everything the
    catalog maps) is refused as well — and the same root can call a mapped operation of the same server."""
    iam = _client(newer_server, "iam", models)
    assert iam.list_roles()["Roles"] == []
    with pytest.raises(ClientError) as caught:
        iam.get_upstream_probe()
    assert caught.value.response["Error"]["Code"] == "AccessDenied"


@pytest.mark.parametrize("service", sorted(NAMED_BY_AN_ACTION))
def test_a_new_operation_named_like_an_iam_action_is_denied_as_unreviewed(
    newer_server: Endpoint, models: Path, service: str
) -> None:
    operation, param = NAMED_BY_AN_ACTION[service]
    client = _client(newer_server, service, models)
    with pytest.raises(ClientError) as caught:
        getattr(client, xform_name(operation))(**{param: "thing"})  # the method botocore generates for it
    error = caught.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == DENIAL[service]
    assert f"does not know which IAM action authorizes {service}:{operation}" in error["Error"]["Message"]
