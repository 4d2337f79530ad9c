"""Concurrency (issue 8 §3): racing writers on one function policy and on one managed policy, through a real
`lambdaperm serve` and real boto3, with a bounded number of threads and a fixed number of calls each. The tests
assert invariants of the final and every observed state, never timings.

AWS rules:
- AddPermission / RemovePermission with `RevisionId` succeed only if the policy's revision is still that one
  (`PreconditionFailedException` otherwise); an acknowledged statement is in the policy until removed
  (https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html,
  https://docs.aws.amazon.com/lambda/latest/api/API_RemovePermission.html).
- A managed policy has at most 5 versions (`LimitExceeded`), exactly one of them the default, and the default
  version cannot be deleted (`DeleteConflict`)
  (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicyVersion.html,
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeletePolicyVersion.html,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-versioning.html).
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from .conftest import Endpoint
from .lambda_helpers import make_role, zip_of

THREADS = 4
CALLS = 25


def _race(work: Callable[[int], None]) -> None:
    """Run `work(i)` on THREADS threads released together; re-raise the first failure."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            work(i)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a racing thread did not finish"
    if errors:
        raise errors[0]


def _statements(lam: Any, name: str) -> tuple[set[str], str]:
    try:
        got = lam.get_policy(FunctionName=name)
    except ClientError as err:
        assert err.response["Error"]["Code"] == "ResourceNotFoundException"
        return set(), str(lam.get_function_configuration(FunctionName=name)["RevisionId"])
    return {s["Sid"] for s in json.loads(got["Policy"])["Statement"]}, str(got["RevisionId"])


def test_add_remove_permission_races_with_revision_id_never_lose_a_statement(server: Endpoint) -> None:
    iam, lam = server.client("iam"), server.client("lambda")
    role = make_role(iam, "race-permission-role")
    lam.create_function(
        FunctionName="race-permissions",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": "def handler(e, c):\n    return 1\n"})},
    )
    added: list[tuple[str, str]] = []  # (sid, the RevisionId it was added under), acknowledged
    removed: list[tuple[str, str]] = []
    refused: list[str] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        client = server.client("lambda")
        rng = random.Random(i)
        mine: list[str] = []
        for n in range(CALLS):
            sids, revision = _statements(client, "race-permissions")
            assert set(mine) <= sids, f"thread {i}: acknowledged statements missing: {set(mine) - sids}"
            try:
                if mine and rng.random() < 0.4:
                    sid = mine[rng.randrange(len(mine))]
                    client.remove_permission(FunctionName="race-permissions", StatementId=sid, RevisionId=revision)
                    mine.remove(sid)
                    with lock:
                        removed.append((sid, revision))
                else:
                    sid = f"t{i}-{n}"
                    client.add_permission(
                        FunctionName="race-permissions",
                        StatementId=sid,
                        Action="lambda:InvokeFunction",
                        Principal="s3.amazonaws.com",
                        SourceArn=f"arn:aws:s3:::bucket-{i}-{n}",
                        RevisionId=revision,
                    )
                    mine.append(sid)
                    with lock:
                        added.append((sid, revision))
            except ClientError as err:
                assert err.response["Error"]["Code"] == "PreconditionFailedException", err.response
                with lock:
                    refused.append(err.response["Error"]["Code"])

    _race(work)
    final, _ = _statements(lam, "race-permissions")
    assert final == {s for s, _ in added} - {s for s, _ in removed}
    # Compare-and-swap: each revision admits one change, so no two acknowledged changes name the same RevisionId.
    revisions = [r for _, r in added + removed]
    assert len(revisions) == len(set(revisions)), "two changes succeeded against the same RevisionId"
    assert len(added) + len(removed) + len(refused) == THREADS * CALLS
    assert added, "no AddPermission succeeded: the race did not exercise anything"


def _versions(iam: Any, arn: str) -> list[dict[str, Any]]:
    return list(iam.list_policy_versions(PolicyArn=arn)["Versions"])


def test_policy_version_races_keep_five_versions_and_exactly_one_default(server: Endpoint) -> None:
    iam = server.client("iam")
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    arn = iam.create_policy(PolicyName="race-versions", PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
    created: list[str] = ["v1"]
    deleted: list[str] = []
    lock = threading.Lock()
    expected_refusals = {"LimitExceeded", "DeleteConflict", "NoSuchEntity"}

    def work(i: int) -> None:
        client = server.client("iam")
        rng = random.Random(100 + i)
        for n in range(CALLS):
            versions = _versions(client, arn)
            assert len(versions) <= 5, versions
            assert sum(v["IsDefaultVersion"] for v in versions) == 1, versions
            ids = [v["VersionId"] for v in versions]
            roll = rng.random()
            try:
                if roll < 0.45:
                    body = {**doc, "Statement": [{**doc["Statement"][0], "Sid": f"T{i}N{n}"}]}
                    vid = client.create_policy_version(
                        PolicyArn=arn, PolicyDocument=json.dumps(body), SetAsDefault=rng.random() < 0.5
                    )["PolicyVersion"]["VersionId"]
                    with lock:
                        created.append(vid)
                elif roll < 0.75:
                    vid = rng.choice(ids)
                    client.delete_policy_version(PolicyArn=arn, VersionId=vid)
                    with lock:
                        deleted.append(vid)
                else:
                    client.set_default_policy_version(PolicyArn=arn, VersionId=rng.choice(ids))
            except ClientError as err:
                assert err.response["Error"]["Code"] in expected_refusals, err.response

    _race(work)
    assert len(created) == len(set(created)), "two CreatePolicyVersion calls were given the same VersionId"
    assert len(deleted) == len(set(deleted)), "one version was deleted twice"
    final = _versions(iam, arn)
    assert {v["VersionId"] for v in final} == set(created) - set(deleted)
    assert len(final) <= 5
    defaults = [v["VersionId"] for v in final if v["IsDefaultVersion"]]
    assert len(defaults) == 1
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert policy["DefaultVersionId"] == defaults[0]
    for v in final:  # every surviving version is whole
        got = iam.get_policy_version(PolicyArn=arn, VersionId=v["VersionId"])["PolicyVersion"]["Document"]
        assert got["Statement"][0]["Action"] == "s3:GetObject"
    assert len(created) > 5, "fewer than 6 versions were created: the limit was never exercised"
