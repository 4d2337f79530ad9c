"""A deterministic gate between an end-to-end test and handler code running in a sandbox, through the real endpoint.

A sandbox's network is its own since isolation round 13 (`lambdaperm/runtime/endpoint_links.py`): a handler reaches
the endpoint and nothing else, so it can no longer signal a listener the test opens on the host's loopback. It
signals through the server instead, with quick calls of the function's own role to a DynamoDB table of its account
(the role is granted exactly PutItem and GetItem on it, `EndpointGate.allow`):

- "I run": `arrive(gate, tag)` puts an item ``arrived/<random>`` holding `tag`; the test reads the arrivals
  (`EndpointGate.arrived`, a consistent Scan) and waits for them with a bound (`wait_arrived`), never a sleep;
- "you may go": with `wait=True` the handler then polls the item ``open`` with a GetItem every `POLL` seconds until
  the test puts it (`EndpointGate.open`), raising TimeoutError after `timeout` seconds (bounded below the function's
  timeout). Each poll is one short request: a waiting handler holds no server request thread between polls (unlike a
  long poll), so a test that measures the server's request threads measures the invocations alone.

In handler code: `GATE` below, then ``arrive(event["gate"], "tag")`` (returns once the test opens the gate) or
``arrive(event["gate"], "tag", wait=False)``. The test passes ``{"gate": gate.name}`` in the event.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from tests.e2e.conftest import Endpoint

WAIT = 30.0  # seconds: the test's default bound on each wait
POLL = 0.1  # seconds between a waiting handler's GetItem calls

GATE = f"""
import time as _time, uuid as _uuid

def _gate_client():
    import boto3
    from botocore.config import Config
    return boto3.client("dynamodb", config=Config(retries={{"max_attempts": 1}}, connect_timeout=5, read_timeout=10))

def arrive(gate, tag, wait=True, timeout=25.0):
    ddb = _gate_client()
    ddb.put_item(TableName=gate, Item={{"pk": {{"S": "arrived/" + _uuid.uuid4().hex}}, "tag": {{"S": str(tag)}}}})
    if not wait:
        return
    deadline = _time.monotonic() + timeout
    while "Item" not in ddb.get_item(TableName=gate, Key={{"pk": {{"S": "open"}}}}, ConsistentRead=True):
        if _time.monotonic() >= deadline:
            raise TimeoutError(f"the test did not open gate {{gate}} within {{timeout}} s")
        _time.sleep({POLL})
"""


class EndpointGate:
    """A gate table in `account`: its functions' handlers arrive and wait there (`GATE`)."""

    def __init__(self, server: Endpoint, account: str, region: str = "us-east-1") -> None:
        self.name = f"gate-{secrets.token_hex(4)}"
        self.account = account
        self.region = region
        self._server = server
        self._ddb = server.client("dynamodb", key=account, region=region)
        self._ddb.create_table(
            TableName=self.name,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )

    @property
    def arn(self) -> str:
        return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{self.name}"

    def allow(self, role_name: str) -> None:
        """Grant the role `role_name` of the gate's account what `arrive` calls: PutItem and GetItem on this table."""
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:GetItem"], "Resource": self.arn}
            ],
        }
        self._server.client("iam", key=self.account).put_role_policy(
            RoleName=role_name, PolicyName=f"{self.name}-arrive", PolicyDocument=json.dumps(policy)
        )

    def event(self, **extra: Any) -> str:
        """The invocation's payload naming this gate."""
        return json.dumps({"gate": self.name, **extra})

    def arrived(self) -> list[str]:
        """The tags of the handlers that have arrived so far."""
        tags: list[str] = []
        kwargs: dict[str, Any] = {"TableName": self.name, "ConsistentRead": True}
        while True:
            page = self._ddb.scan(**kwargs)
            tags += [item["tag"]["S"] for item in page["Items"] if item["pk"]["S"].startswith("arrived/")]
            if "LastEvaluatedKey" not in page:
                return tags
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def wait_arrived(self, count: int = 1, timeout: float = WAIT) -> list[str] | None:
        """The tags of the first `count` handlers to arrive once they have, None if they have not within `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            tags = self.arrived()
            if len(tags) >= count:
                return tags
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    def open(self) -> None:
        """Let every waiting handler (and every later one) go."""
        self._ddb.put_item(TableName=self.name, Item={"pk": {"S": "open"}})
