"""Region/account review round 13's ten spellings of an ARN that are not the ARN of the resource they spell.

Each template spells "resource {res} of service {s} (upper-cased: {S}) in account {a}'s region {r}" otherwise: in
another partition, with another or an upper-cased service, with a trailing newline or space, with an extra `:` or `/`
segment, in another region (eu-west-1) or in another account ({b}). A request naming a resource by one of them must
not escape a Deny written on the resource's `aws` ARN: AWS resolves it to that resource and decides on its ARN, or
refuses it.

AWS: an ARN is `arn:partition:service:region:account-id:resource` and names a resource of its partition
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).
"""

from __future__ import annotations


def spellings(wrong_service: str) -> dict[str, str]:
    """The ten templates, by name (`str.format` fields s, S, r, a, b, res). `wrong_service` is the service the
    "wrong-service" spelling names instead: one other than every service the caller spells (IAM's own ARNs need
    another than `iam`)."""
    return {
        "aws-cn": "arn:aws-cn:{s}:{r}:{a}:{res}",
        "aws-us-gov": "arn:aws-us-gov:{s}:{r}:{a}:{res}",
        "wrong-service": f"arn:aws:{wrong_service}:{{r}}:{{a}}:{{res}}",
        "upper-service": "arn:aws:{S}:{r}:{a}:{res}",
        "newline": "arn:aws:{s}:{r}:{a}:{res}\n",
        "space": "arn:aws:{s}:{r}:{a}:{res} ",
        "extra-colon-segment": "arn:aws:{s}:{r}:{a}:x:{res}",
        "extra-path-segment": "arn:aws:{s}:{r}:{a}:x/{res}",
        "other-region": "arn:aws:{s}:eu-west-1:{a}:{res}",
        "other-account": "arn:aws:{s}:{r}:{b}:{res}",
    }
