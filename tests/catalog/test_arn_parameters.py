"""An ARN parameter holding something other than an ARN is refused by the catalog instead of being
authorized on `*` (catalog/arn_parameters.py)."""

from __future__ import annotations

import pytest

from lambdaperm.catalog import required_actions
from lambdaperm.catalog.invalid import InvalidRequest

ACCOUNT, REGION = "111122223333", "us-east-1"


@pytest.mark.parametrize("resource", ["secret", "111122223333:function:secret", "function:secret"])
def test_a_lambda_tag_resource_that_is_not_an_arn_is_refused_not_authorized_on_star(resource: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        required_actions("lambda", "TagResource", {"Resource": resource, "Tags": {"a": "b"}},
                         account=ACCOUNT, region=REGION)
    assert refused.value.code == "ValidationException"
    assert f"Value '{resource}' at 'resource'" in refused.value.message


def test_the_function_arn_is_authorized_on_the_function() -> None:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:secret"
    needed = required_actions("lambda", "TagResource", {"Resource": arn, "Tags": {"a": "b"}},
                              account=ACCOUNT, region=REGION)
    assert [(n.action, n.resources) for n in needed] == [("lambda:TagResource", (arn,))]
