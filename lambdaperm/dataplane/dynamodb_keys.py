"""The partition key of a DynamoDB table or index, read from the embedded backend at decision time.

`dynamodb:LeadingKeys` is the partition-key values of the items a request touches ("the first key attribute
of a table — in other words, the partition key",
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html). Which
attribute that is lives in the table's key schema; for a Query on an index, the index's partition key is the
one the key condition names (the request has no other partition key to give).
"""

from __future__ import annotations


def partition_key(resource: str) -> str | None:
    """The partition-key attribute of `arn:aws:dynamodb:r:a:table/T` or `.../table/T/index/I`; None when the
    table or index does not exist or the ARN names neither."""
    parts = resource.split(":", 5)
    if len(parts) != 6 or parts[2] != "dynamodb":
        return None
    region, account, path = parts[3], parts[4], parts[5].split("/")
    if len(path) not in (2, 4) or path[0] != "table" or (len(path) == 4 and path[2] != "index"):
        return None
    from moto.dynamodb.models import dynamodb_backends

    try:
        table = dynamodb_backends[account][region].tables.get(path[1])
        if table is None:
            return None
        if len(path) == 2:
            return str(table.hash_key_attr) or None
        index = {i.name: i for i in table.all_indexes()}.get(path[3])
        if index is None:
            return None
        return next((str(k["AttributeName"]) for k in index.schema if k.get("KeyType") == "HASH"), None)
    except (KeyError, AttributeError, TypeError):
        return None
