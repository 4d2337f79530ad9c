"""IAM entities in the record store. Names are unique per account whatever their case, as in IAM, so
records are keyed by the lower-cased name and keep the name as created."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from lambdaperm.state import Records

from ..context import RequestContext
from .errors import invalid_input, no_such_entity, validation

USER, GROUP, ROLE, POLICY = "iam.user", "iam.group", "iam.role", "iam.policy"
ACCESS_KEY = "iam.access_key"  # account "" : keys are looked up by id alone
GLOBAL = ""

KIND_NAMES = {USER: "user", GROUP: "group", ROLE: "role"}
_NAME = re.compile(r"^[\w+=,.@-]+$", re.ASCII)
_PATH = re.compile(r"^(/|/[\u0021-\u007E]+/)$")

Entity = dict[str, Any]


def iso(moment: datetime) -> str:
    return moment.isoformat()


def check_name(value: object, member: str, max_len: int = 64) -> str:
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise validation(value, member, f"Member must have length less than or equal to {max_len}")
    if not _NAME.match(value):
        raise validation(value, member, "Member must satisfy regular expression pattern: [\\w+=,.@-]+")
    return value


def check_path(value: object, member: str = "path") -> str:
    if value is None:
        return "/"
    if not isinstance(value, str) or not _PATH.match(value) or len(value) > 512:
        raise validation(value, member, "Member must satisfy regular expression pattern: "
                         "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)")
    return value


def get(records: Records, kind: str, account: str, name: str) -> Entity:
    found = records.get(kind, account, name.lower())
    if found is None:
        raise no_such_entity(f"The {KIND_NAMES.get(kind, 'entity')} with name {name} cannot be found.")
    return found


def find(records: Records, kind: str, account: str, name: str) -> Entity | None:
    return records.get(kind, account, name.lower())


def save(records: Records, kind: str, account: str, entity: Entity, name_field: str) -> None:
    records.put(kind, account, str(entity[name_field]).lower(), entity)


def entity_arn(ctx: RequestContext, kind: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{ctx.account}:{KIND_NAMES[kind]}{path}{name}"


def parse_policy_arn(arn: str) -> tuple[str, str, str]:
    """(account or 'aws', path, name) of a managed policy ARN."""
    m = re.match(r"^arn:aws:iam::(\d{12}|aws):policy(/(?:[^/]+/)*)([^/]+)$", arn, flags=re.ASCII)
    if not m:
        raise invalid_input(f"ARN {arn} is not valid.")
    return m.group(1), m.group(2), m.group(3)


def tags_out(entity: Entity) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in entity.get("Tags", {}).items()]


def paginate(items: Sequence[Any], params: dict[str, Any], key: str) -> dict[str, Any]:
    """IAM's Marker/MaxItems pagination (MaxItems 1-1000, default 100)."""
    max_items = params.get("MaxItems", 100)
    if not isinstance(max_items, int) or not 1 <= max_items <= 1000:
        raise validation(max_items, "maxItems", "Member must have value between 1 and 1000")
    start = 0
    marker = params.get("Marker")
    if marker:
        try:
            start = int(base64.b64decode(marker).decode())
        except (ValueError, UnicodeDecodeError):
            raise invalid_input("Invalid Marker.") from None
    page = list(items[start : start + max_items])
    out: dict[str, Any] = {key: page, "IsTruncated": start + max_items < len(items)}
    if out["IsTruncated"]:
        out["Marker"] = base64.b64encode(str(start + max_items).encode()).decode()
    return out


def with_path_prefix(entities: list[Entity], params: dict[str, Any]) -> list[Entity]:
    prefix = params.get("PathPrefix") or "/"
    return [e for e in entities if str(e.get("Path", "/")).startswith(prefix)]
