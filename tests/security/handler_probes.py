"""Deploying and invoking a probe handler in one account, for the isolation reviews' end-to-end tests.

An isolation test deploys untrusted handler code (`app.handler` in `app.py`, python3.11) in one account and reads what
it saw from its answer; a handler error fails the test at once (it would otherwise read as "the probe saw nothing").

AWS: a function's deployment package is a .zip archive of its code
(https://docs.aws.amazon.com/lambda/latest/dg/python-package.html); `Invoke` answers the handler's return value, and
`FunctionError` when the handler raised (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role

_FIXED_DATE = (2024, 1, 1, 0, 0, 0)


def package(code: str, *, reproducible: bool = False) -> bytes:
    """A package holding `code` as app.py. `reproducible`: byte for byte the same in every build (a fixed entry date),
    so two accounts building the same source get the same CodeSha256, as a deterministic build tool gives them."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr(zipfile.ZipInfo("app.py", date_time=_FIXED_DATE) if reproducible else "app.py", code)
    return buf.getvalue()


def deploy(server: Endpoint, account: str, name: str, zipped: bytes, *, region: str, timeout: int) -> Any:
    """Function `name` running package `zipped` in `account`'s `region` under a role of its own; waits until it is
    Active and returns the account's Lambda client."""
    role = make_role(server.client("iam", key=account), f"{name}-role")
    lam = server.client("lambda", key=account, region=region)
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zipped},
        Timeout=timeout,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return lam


def invoke(lam: Any, name: str, event: dict[str, Any]) -> Any:
    """The handler's answer to `event` (a synchronous Invoke); fails the test if the handler raised."""
    reply = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    body = json.loads(reply["Payload"].read())
    assert "FunctionError" not in reply, body
    return body
