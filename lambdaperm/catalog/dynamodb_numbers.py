"""The text of a DynamoDB number as `dynamodb:LeadingKeys` can carry it.

A DynamoDB number is a number, not its text: "Leading and trailing zeroes are trimmed"
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number),
so `N "1.0"`, `"01"`, `"+1"`, `"1e0"` and `"1"` name one key, the item of the number 1. Which text IAM
compares in `dynamodb:LeadingKeys` for a number written in another form than DynamoDB's own is not documented
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html): only a number
written in its canonical form (the form DynamoDB returns: no exponent, sign only when negative, no leading or
trailing zeroes) has a value; any other writing leaves the key unsupplied (a Deny on it applies, an Allow on
it does not), never the text as written — a Deny on "1" would not see "1.0" reach the same item.
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation

_EXACT = Context(prec=400)  # DynamoDB keeps 38 digits between 1E-130 and 1E+126: never round here


def canonical(text: str) -> str | None:
    """`text` when it is the canonical writing of a finite number, else None."""
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    written = "0" if number.is_zero() else format(number.normalize(_EXACT), "f")
    return text if text == written else None
