"""required_actions(): the IAM action(s), resources and context keys one API request needs.

1. The operation must be one the catalog covers (botocore's operations of a covered service; the EC2
   subset), else UnmappedOperation.
2. Its needs come from the exception table (rules/), else the IAM action of the same name, which must
   exist in the Service Authorization Reference, else UnmappedOperation (fail closed).
3. Each need's resources are built from the reference's ARN templates for the action's resource types,
   with variables bound from the request (bindings.py). A type whose template cannot be filled is skipped;
   if no type can be built and one is required, the request does not name its resource:
   UnresolvedResource (fail closed). `*` only for actions without resource-level permissions (no
   resource types) or whose resource types are all optional.
4. Context: the documented condition keys the request carries (context.py), the literal keys of the
   exception row where the action documents them, and the `lambdaperm:` facts the authorizer needs
   (condition_keys.py): the keys this request leaves unsupplied, the key attributes of the DynamoDB items
   it touches, and the S3 object version it names. Request-level keys are read from the request without the
   items of an `each` need (a transaction item's dynamodb:Attributes are its own), item-level keys from the item.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import arn_parameters, arns, bindings, condition_keys, context, leading_keys, reference, services
from .arns import Bindings
from .errors import UnmappedOperation, UnresolvedResource
from .model import RequiredAction
from .params import strings
from .reference import ActionInfo
from .rules import Derived, Need, rule


def required_actions(
    service_name: str,
    operation: str,
    params: Mapping[str, object],
    *,
    account: str,
    region: str,
    partition: str = "aws",
) -> list[RequiredAction]:
    """The IAM actions `service_name`.`operation` with boto3-style `params` needs, in order.

    Raises UnmappedOperation when the catalog does not cover the operation and UnresolvedResource when the
    request does not name the resource an action is authorized on. An empty list means the operation needs
    no permission (sts:GetCallerIdentity, sts:GetSessionToken).
    """
    prefix = services.IAM_PREFIX.get(service_name)
    op = services.canonical_operation(service_name, operation) if prefix else None
    if prefix is None or op is None:
        raise UnmappedOperation(service_name, operation)
    row = rule(service_name, op)
    if row is not None:
        needs = row.needs
    elif reference.action(f"{prefix}:{op}") is not None:
        needs = (Need(f"{prefix}:{op}"),)
    else:
        raise UnmappedOperation(
            service_name, op, f"no IAM action {prefix}:{op} in the Service Authorization Reference and no exception row"
        )
    request = _Request(service_name, op, params, context.Env(account, region, partition))
    out: list[RequiredAction] = []
    for need in needs:
        for item in request.resolve(need):
            _merge(out, item)
    if needs and not out:  # conditional needs that all failed to apply: never "no permission needed"
        raise UnresolvedResource(
            service_name, op, (), "the request names none of the resources the operation is authorized on"
        )
    return out


def _without_each(params: Mapping[str, object], each: str | None) -> Mapping[str, object]:
    """The request without the member an `each` need iterates (its items are read one by one)."""
    if not each:
        return params
    root = each.split(".")[0].split("[")[0].split("{")[0]
    return {k: v for k, v in params.items() if k != root}


def _merge(out: list[RequiredAction], item: RequiredAction) -> None:
    """Consecutive results for the same action and context become one (DeleteObjects: one per key)."""
    for i, existing in enumerate(out):
        if existing.action == item.action and existing.context == item.context:
            resources = tuple(dict.fromkeys(existing.resources + item.resources))
            out[i] = RequiredAction(existing.action, resources, existing.context)
            return
    out.append(item)


class _Request:
    """One request being mapped: the operation, its parameters, and where it is evaluated."""

    def __init__(self, service: str, operation: str, params: Mapping[str, object], env: context.Env) -> None:
        self.service = service
        self.operation = operation
        self.params = params
        self.env = env
        self.base: Bindings = {"Partition": (env.partition,), "Region": (env.region,), "Account": (env.account,)}
        self.bound = {**self.base, **bindings.bind(service, params)}

    def resolve(self, need: Need) -> list[RequiredAction]:
        out: list[RequiredAction] = []
        for scope in need.scopes(self.params):
            if not all(w.holds(scope, self.params) for w in need.when):
                continue
            derived = need.derive(scope) if need.derive else [Derived()]
            if not derived:
                raise UnresolvedResource(
                    self.service, self.operation, (need.each or "",), f"cannot tell which resource {scope!r} names"
                )
            for d in derived:
                out.append(self._one(need, scope, d))
        return out

    def _info(self, name: str) -> ActionInfo:
        info = reference.action(name)
        if info is None:  # a data error in the exception table: deny
            raise UnmappedOperation(self.service, self.operation, f"unknown IAM action {name}")
        return info

    def _one(self, need: Need, scope: object, derived: Derived) -> RequiredAction:
        info = self._info(derived.action or need.action)
        scope_map = scope if isinstance(scope, Mapping) else {}
        bound = dict(self.base) if need.isolate else dict(self.bound)
        for source in need.sources:
            bound.update(source.bind(scope_map))
        bound.update({k: (v,) for k, v in need.fixed.items()})
        bound.update(derived.bindings)
        if need.star:
            resources: tuple[str, ...] = ("*",)
        elif need.arn:
            resources = strings(scope, *need.arn)
            if not resources or not all(r.startswith("arn:") for r in resources):
                raise UnresolvedResource(
                    self.service, self.operation, need.arn, f"{info.full_name} needs an ARN in {' or '.join(need.arn)}"
                )
        else:
            resources = self._resources(info, bound, derived.types or need.types, scope_map, need)
        return RequiredAction(info.full_name, resources, self._context(info, need, scope, derived))

    def _context(self, info: ActionInfo, need: Need, scope: object, derived: Derived) -> dict[str, tuple[str, ...]]:
        action = info.full_name
        if scope is self.params:
            request, item = self.params, None
        else:
            request = _without_each(self.params, need.each)
            item = need.item(self.params, scope) if need.item is not None else scope
        ctx = context.extract(condition_keys.request_keys(action), [request, item], self.env)
        literal = condition_keys.literal_keys(action)
        ctx.update({k.lower(): (v,) for k, v in need.context.items() if k.lower() in literal})
        unsupplied = [k.lower() for k in need.unsupplied]
        documented = {k.lower() for k in condition_keys.documented_keys(action)}
        ctx.update({k.lower(): v for k, v in derived.context.items() if k.lower() in documented})
        scope_of_item = item if item is not None else request
        unsupplied += [k for k in context.uncertain_keys(action, scope_of_item) if k in documented]
        families = {condition_keys.normalize(k) for k in documented}
        unsupplied += [  # a tag key given two values (in any case): no one value (condition keys ignore case)
            k for k in context.clashing_tag_keys([request, item]) if f"{k.split('/')[0]}/*" in families
        ]
        if (
            "dynamodb:leadingkeys" in documented
            and condition_keys.rule(action, "dynamodb:LeadingKeys").supply is condition_keys.Supply.RESOURCE
        ):
            items = leading_keys.dynamodb_key_items(item if item is not None else request)
            if items is None:
                unsupplied.append("dynamodb:leadingkeys")
            else:
                ctx[condition_keys.KEY_ITEMS_MARK] = leading_keys.encode_key_items(items)
        if "s3:existingobjecttag/*" in families and "s3:versionid" not in ctx:
            # the tags are the named version's for every action of the request, documented with s3:versionid or not
            version = strings(scope_of_item, "VersionId")
            if version:
                ctx[condition_keys.OBJECT_VERSION_MARK] = version
        if unsupplied:
            ctx[condition_keys.UNSUPPLIED_MARK] = tuple(sorted(set(unsupplied)))
        return ctx

    def _resources(
        self, info: ActionInfo, bound: Bindings, types: tuple[str, ...] | None, scope: Mapping[str, object], need: Need
    ) -> tuple[str, ...]:
        refs = info.resource_types
        if types is not None:
            refs = tuple(r for r in refs if r.name.lower() in {t.lower() for t in types}) or tuple(
                reference.ResourceRef(t, True, ()) for t in types
            )
            refs = tuple(reference.ResourceRef(r.name, True, r.condition_keys) for r in refs)
        if not refs:
            return ("*",)
        arn_values = self._arn_values(scope, need) if need.by_arn else ()
        built: dict[str, tuple[str, ...]] = {}
        for ref in refs:
            resource = reference.resource_type(info.prefix, ref.name)
            if resource is None:
                continue
            template = bindings.TEMPLATE_OVERRIDES.get((info.prefix, resource.name), resource.arn)
            found: list[str] = []
            for value in arn_values:
                parsed = arns.parse(resource.arn, value) or arns.parse(template, value)
                if parsed is not None:
                    filled = arns.fill(template, {**self.base, **_defaults(template), **parsed})
                    found.extend(filled or (value,))
            found.extend(arns.fill(template, bound) or ())
            if found:
                built[resource.name.lower()] = tuple(dict.fromkeys(found))
        for sub, parents in bindings.DOMINATES.items():
            if sub[0] == info.prefix and sub[1] in built:
                for parent in parents:
                    built.pop(parent, None)
        if built:
            return tuple(dict.fromkeys(arn for arns_ in built.values() for arn in arns_))
        if arn_values:
            raise UnresolvedResource(
                self.service,
                self.operation,
                (),
                f"{info.full_name}: {arn_values[0]!r} is not an ARN of a resource type the action is authorized on",
                unreadable=arn_values[0],
            )
        if any(r.required for r in refs) or self._names_required_member(info, refs, need):
            raise self._unresolved(info, refs, bound)
        arn_parameters.refuse_non_arns(self.service, self.operation, (scope, self.params))  # never `*` for it
        return ("*",)

    def _names_required_member(self, info: ActionInfo, refs: tuple[reference.ResourceRef, ...], need: Need) -> bool:
        """All the action's resource types are optional (S3 object actions: object or access point object;
        DynamoDB ListExports: a table or none). `*` is right only when the request may leave them all out:
        not when a parameter that names them is required by the API (S3 `Key`)."""
        required = services.required_members(self.service, self.operation)
        if not required:
            return False
        names: set[str] = set()
        for ref in refs:
            resource = reference.resource_type(info.prefix, ref.name)
            template = resource.arn if resource else ""
            for var in arns.variables(template):
                params = bindings.params_for(self.service, var, need.sources)
                names.update(p.split(".")[0].split("[")[0].split("{")[0] for p in params)
        return bool(names & required)

    def _arn_values(self, scope: Mapping[str, object], need: Need) -> tuple[str, ...]:
        """Values of the service's ARN parameters (in the item too, for per-item needs)."""
        paths = bindings.ARN_PARAMS.get(self.service, ())
        if need.isolate:
            sources: tuple[object, ...] = (scope,)
        elif scope is self.params:
            sources = (self.params,)
        else:
            sources = (self.params, scope)
        suffixes = bindings.ARN_SUFFIXES.get(self.service, ())
        out: list[str] = []
        for src in sources:
            for value in strings(src, *paths):
                for suffix in suffixes:
                    value = value.removesuffix(suffix)
                if value.startswith("arn:") and value not in out:
                    out.append(value)
        return tuple(out)

    def _unresolved(
        self, info: ActionInfo, refs: tuple[reference.ResourceRef, ...], bound: Bindings
    ) -> UnresolvedResource:
        missing: list[str] = []
        unnamed: list[str] = []
        names: list[str] = []
        wanted = [r for r in refs if r.required] or list(refs)
        for ref in wanted:
            resource = reference.resource_type(info.prefix, ref.name)
            if resource is None:
                continue
            template = bindings.TEMPLATE_OVERRIDES.get((info.prefix, resource.name), resource.arn)
            names.append(resource.name)
            for var in arns.variables(template):
                if not bound.get(var):
                    params = bindings.params_for(self.service, var)
                    missing.extend(p for p in params if p not in missing)
                    unnamed.extend(() if params or var in unnamed else (var,))
        # ...or an ARN parameter of the service could have named it.
        missing.extend(p for p in bindings.ARN_PARAMS.get(self.service, ()) if p not in missing)
        missing = missing or unnamed
        return UnresolvedResource(
            self.service,
            self.operation,
            tuple(missing),
            f"{info.full_name} is authorized on a {' or '.join(names)} resource, but the request does not "
            "name it" + (f" (missing: {', '.join(missing)})" if missing else ""),
            bindings.implicit(self.service, self.operation, tuple(missing)),
        )


def _defaults(template: str) -> Bindings:
    """Variables an ARN never carries but an override template adds (Lambda's qualifier suffix)."""
    return {"QualifierSuffix": ("",)} if "${QualifierSuffix}" in template else {}
