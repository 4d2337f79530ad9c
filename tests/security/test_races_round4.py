"""Attack class: races (time of check vs time of use), review round 4.

Rounds 1–3 held what a caller's call names from its authorization to its execution: bucket, topic and role
names (`gateway/bucket_names.py`), a function's incarnation (`services/lambda_/incarnation.py`), each S3 object
a call names (`gateway/object_holds.py`), the SQS poller's function. This round plays the window round 3 named
and left: Lambda's read of a function's code from S3, decided as the caller's `s3:GetObject` (object tags
included) and then read outside the pipeline; and looks at the trail's group commit, the bucket registry, SNS
subscription confirmation, IAM policy versions, Lambda RevisionId, Role changes, access key deletion and the
sandbox slots. Every window is played deterministically with gates in a real server (`race_gate_round4`: the
gates of rounds 1–3, plus one between the code read's decision and the read), never with timing.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.gated_servers import gated_for_module
from tests.security.iam_users import user_keys
from tests.security.race_support import Held, through_gate
from tests.security.test_code_from_s3 import code_of

REGION = "us-east-1"
PUBLIC = zip_of({"app.py": "def handler(event, context):\n    return 'public'\n"})
SECRET = zip_of({"app.py": "SECRET = 'victim data'\n\ndef handler(event, context):\n    return SECRET\n"})


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Endpoint, Path]]:
    yield from gated_for_module(tmp_path_factory, "races4", "tests.security.race_gate_round4")


def _sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


# --- Lambda code from S3: the object overwritten between the read's decision and the read ---------------------


def _deployer(server: Endpoint, owner: str, user: str, bucket: str) -> tuple[Any, Any]:
    """(lambda client, s3 client) of IAM user `user` of `owner`: may manage functions and pass roles, and read
    the objects of `bucket` except those tagged classification=secret (an explicit Deny on
    s3:ExistingObjectTag/classification)."""
    statements = [
        {"Effect": "Allow", "Action": ["lambda:*", "iam:PassRole"], "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
        {
            "Effect": "Deny",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"StringEquals": {"s3:ExistingObjectTag/classification": "secret"}},
        },
    ]
    keys = user_keys(server, owner, user, *statements)
    return server.client("lambda", **keys), server.client("s3", **keys)


@pytest.mark.parametrize("operation", ["CreateFunction", "UpdateFunctionCode"])
def test_code_from_s3_is_not_an_object_written_after_the_read_was_decided(
    gated: tuple[Endpoint, Path], operation: str
) -> None:
    """Attack: user `deployer` may read the objects of the owner's bucket except those tagged
    classification=secret. Its CreateFunction (or UpdateFunctionCode) names `S3Key` `code-…zip`, tagged public:
    Lambda's read is decided as the deployer's s3:GetObject on that object's tags; before the read, the owner
    overwrites the key with secret code tagged secret. The read then took the secret archive into the deployer's
    function — code the deployer can download with GetFunction and run, read under the tags of an object that
    was no longer there.

    AWS: Lambda reads the archive with the caller's credentials (a forward access session:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/access_forward_access_sessions.html), so the read is the
    caller's GetObject, decided on the tags of the object it reads (s3:ExistingObjectTag:
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html); S3 is strongly consistent
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel): the read gets the public
    archive (before the overwrite) or is denied (after it: 403 AccessDeniedException "Your access has been denied
    by S3…"). No order puts the secret archive into the deployer's function."""
    server, gate = gated
    owner = "555500000401" if operation == "CreateFunction" else "555500000402"
    bucket, key, name = f"race-code-{owner}", f"code-{owner}.zip", f"race-code-{owner}"
    s3 = server.client("s3", key=owner)
    s3.create_bucket(Bucket=bucket)
    role = make_role(server.client("iam", key=owner), "race-code-role")
    lam, _ = _deployer(server, owner, "deployer", bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=PUBLIC, Tagging="classification=public")
    own = zip_of({"app.py": "def handler(event, context):\n    return 'own'\n"})
    create = {"FunctionName": name, "Runtime": "python3.12", "Role": role, "Handler": "app.handler"}
    deploy: Callable[[], Any]
    if operation == "CreateFunction":
        deploy = lambda: lam.create_function(**create, Code={"S3Bucket": bucket, "S3Key": key})["CodeSha256"]  # noqa: E731
    else:
        lam.create_function(**create, Code={"ZipFile": own})
        lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key=key)  # control: the public archive
        assert code_of(server, lam, name) == PUBLIC
        lam.update_function_code(FunctionName=name, ZipFile=own)
        deploy = lambda: lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key=key)["CodeSha256"]  # noqa: E731

    (gate / f"code-{key}.hold").touch()
    held = Held(gate, f"code-{key}", deploy).start()  # decided on the public tags, stopped before the read
    (gate / f"code-{key}.hold").unlink()
    overwrite = Held(
        gate, "unused", lambda: s3.put_object(Bucket=bucket, Key=key, Body=SECRET, Tagging="classification=secret")
    )
    overwrite.thread.start()
    overwrite.thread.join(5)  # with a hold on the object the overwrite waits for the read; without, it is done
    outcome = held.release()
    overwrite.thread.join(30)
    assert overwrite.outcome is not None and overwrite.outcome[0] == "ok", overwrite.outcome
    assert outcome[0] == "ok" or outcome == ("error", "AccessDeniedException"), outcome
    if outcome[0] == "ok":
        assert outcome[1] != _sha(SECRET), "the secret archive became the deployer's code"
        assert outcome[1] == _sha(PUBLIC) and code_of(server, lam, name) == PUBLIC
    elif operation == "UpdateFunctionCode":
        assert code_of(server, lam, name) == own
    # control: after the overwrite the deployer is denied the secret archive
    with pytest.raises(ClientError) as denied:
        if operation == "UpdateFunctionCode" or outcome[0] == "ok":
            lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key=key)
        else:
            lam.create_function(**create, Code={"S3Bucket": bucket, "S3Key": key})
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"


# --- Lambda: a cross-account call decided on a function policy, executed on the function created since ----------


def test_update_function_code_does_not_change_a_function_recreated_after_it_was_decided(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: B's function `race-shared` has a policy letting account A call lambda:UpdateFunctionCode (a
    cross-account action a function policy may grant). A's UpdateFunctionCode is decided on that policy; before it
    executes, B deletes the function and creates another `race-shared` (B's code, no policy: A may do nothing with
    it). The held update then replaced the new function's code with A's — code B's function then runs as B's
    execution role.

    AWS: a function's resource-based policy is deleted with the function
    (https://docs.aws.amazon.com/lambda/latest/api/API_DeleteFunction.html); another account may act on a function
    only where its policy allows it (https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-cross-account.html).
    The update acts on the function whose policy allowed it — deleted: ResourceNotFoundException — never on the
    new one. (Round 2 pinned the incarnation for Invoke only.)"""

    server, gate = gated
    a, b = "555500000411", "555500000412"
    name = "race-shared"
    lam_b = server.client("lambda", key=b)
    role = make_role(server.client("iam", key=b), "race-shared-role")
    own = zip_of({"app.py": "def handler(event, context):\n    return 'b'\n"})
    mine = zip_of({"app.py": "def handler(event, context):\n    return 'a was here'\n"})

    def create() -> None:
        lam_b.create_function(
            FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": own}
        )

    create()
    lam_b.add_permission(
        FunctionName=name, StatementId="a", Action="lambda:UpdateFunctionCode", Principal=f"arn:aws:iam::{a}:root"
    )
    arn = f"arn:aws:lambda:{REGION}:{b}:function:{name}"
    lam_a = server.client("lambda", key=a)
    lam_a.update_function_code(FunctionName=arn, ZipFile=own)  # control: the policy lets A update it

    held_a = through_gate(server.client("lambda", key=a), "update")
    held = Held(gate, "update", lambda: held_a.update_function_code(FunctionName=arn, ZipFile=mine)).start()
    lam_b.delete_function(FunctionName=name)
    create()
    outcome = held.release()
    assert outcome == ("error", "ResourceNotFoundException"), outcome
    assert code_of(server, lam_b, name) == own
    # control: the new function's (absent) policy lets A do nothing
    with pytest.raises(ClientError) as denied:
        lam_a.update_function_code(FunctionName=arn, ZipFile=mine)
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
