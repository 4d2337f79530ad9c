"""Query and EC2 protocol input: a parameter whose name is no member of the operation's input is refused, never
dropped.

AWS rule: EC2 answers 400 `UnknownParameter`, "An unknown or unrecognized parameter was supplied. Requests that could
cause this error include supplying a misspelled parameter or a parameter that is not supported for the specified API
version" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html), with the message "The parameter
<name> is not recognized"; names are case-sensitive
(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html). IAM, STS, SNS and SQS document no code
for it; lambdaperm takes the stricter reading and refuses it as their Common Errors' `InvalidQueryParameter` ("The AWS
query string is malformed or does not adhere to AWS standards",
https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html; docs/fidelity.md). Dropping it ran the call the
caller did not ask for: `dryrun=true` on DeleteSecurityGroup deleted the group (review round 21).

Driven by botocore's input shape: the names taken at the top level are the input members' wire names (as the
protocol's naming spells them), the protocol's own `Action` and `Version`, and the query-string authentication
parameters (a presigned URL's, read by authn). Parameters under a member's name that the reading does not use are
refused by `parse_query` itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from botocore.model import Shape  # type: ignore[import-untyped]

from lambdaperm.protocol.bad_input import BadInput
from lambdaperm.protocol.naming import Naming
from lambdaperm.protocol.one_reading import PRESIGN_PARAMS

PROTOCOL_PARAMS = frozenset({"Action", "Version", *PRESIGN_PARAMS})


def member_names(shape: Shape | None, naming: Naming) -> frozenset[str]:
    """The top-level parameter names the operation's input takes on the wire."""
    if shape is None:
        return frozenset()
    return frozenset(naming.member(shape, name, member) for name, member in shape.members.items())


def refuse_unknown(shape: Shape | None, keys: Iterable[str], naming: Naming) -> None:
    """Raises BadInput (`unknown`) naming the first parameter whose first segment is neither a member of the input
    nor one of the protocol's own parameters."""
    members = member_names(shape, naming)
    for key in keys:
        if key in PROTOCOL_PARAMS:
            continue
        if key.split(".", 1)[0] not in members:
            raise BadInput("unknown", f"The parameter {key} is not recognized")
