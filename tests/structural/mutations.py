"""Mutations of a real, signed request, each named for the class of ambiguity it tries: a request that
lambdaperm reads one way and the executor (moto reading the canonical request, or an upstream reading the
client's bytes) another.

Classes (`MUTATORS`): repeated-key, query-beside-body, mixed-locations, percent-encoding, other-host,
content-type, duplicate-header, duplicate-json-key, case-variant, target-swap, action-swap, body-as-form,
user-agent-region, whitespace-and-unicode, list-index, s3-subresource, s3-copy-source, s3-path,
s3-delete-body, method-override. A mutator returns None when the request has nothing it can change.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import quote, unquote_plus

from .wire import Raw
from .world import OTHER, Seed

Mutator = Callable[[random.Random, Seed, Raw, list[str]], Raw | None]
_FORM_PROTOCOLS = ("sns", "ec2")


def _is_form(raw: Raw) -> bool:
    return bool(raw.body) and (
        raw.body.startswith(b"Action=") or (raw.service in _FORM_PROTOCOLS and raw.method == "POST")
    )


def _is_json(raw: Raw) -> bool:
    return raw.body[:1] == b"{"


def _pairs(text: str) -> list[tuple[str, str]]:
    return [tuple(p.split("=", 1)) if "=" in p else (p, "") for p in text.split("&") if p]  # type: ignore[misc]


def _join(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{k}={v}" for k, v in pairs)


def _enc(value: str) -> str:
    return quote(value, safe="-_.~")


def _slot(rng: random.Random, seed: Seed) -> tuple[str, str] | None:
    if not seed.slots:
        return None
    name = rng.choice(sorted(seed.slots))
    return name, rng.choice(seed.slots[name])


def _json_with(raw: Raw, text: str) -> Raw:
    return raw.with_body(text.encode())


def repeated_key(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    slot = _slot(rng, seed)
    if slot is None:
        return None
    name, victim = slot
    if _is_form(raw):
        pairs = _pairs(raw.body.decode())
        extra = (name, _enc(victim))
        pairs = [extra, *pairs] if rng.random() < 0.5 else [*pairs, extra]
        return raw.with_body(_join(pairs).encode())
    if _is_json(raw):
        text = raw.body.decode()
        member = f'"{name}": {json.dumps(victim)}'
        if rng.random() < 0.5:
            return _json_with(raw, "{" + member + ", " + text[1:])
        return _json_with(raw, text[:-1] + ", " + member + "}")
    return None


def query_beside_body(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    slot = _slot(rng, seed)
    extra: list[tuple[str, str]] = []
    if slot is not None:
        extra.append((slot[0], _enc(slot[1])))
    if raw.service == "s3":
        extra.append(
            rng.choice(
                [
                    ("bucket", victims[0]),
                    ("key", "victim-key"),
                    ("prefix", ""),
                    ("x-id", rng.choice(["DeleteObject", "DeleteBucket", "PutObject"])),
                ]
            )
        )
    if rng.random() < 0.4 and raw.service != "s3":
        extra.append(
            (
                "Action",
                rng.choice(
                    ["DeleteTable", "DeleteQueue", "DeleteTopic", "PurgeQueue", "DeleteSecurityGroup", "DeleteLogGroup"]
                ),
            )
        )
    if not extra:
        return None
    query = _join([*_pairs(raw.query), *extra])
    return replace(raw, query=query)


def mixed_locations(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    if not _is_form(raw):
        return None
    pairs = _pairs(raw.body.decode())
    if len(pairs) < 2:
        return None
    cut = rng.randrange(1, len(pairs))
    moved, kept = (pairs[:cut], pairs[cut:]) if rng.random() < 0.5 else (pairs[cut:], pairs[:cut])
    if rng.random() < 0.3:  # everything in the query string, nothing in the body
        moved, kept = pairs, []
    return replace(raw, query=_join([*_pairs(raw.query), *moved])).with_body(_join(kept).encode())


def percent_encoding(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    pairs = _pairs(raw.body.decode()) if _is_form(raw) else []
    if pairs:
        i = rng.randrange(len(pairs))
        name, value = pairs[i]
        style = rng.choice(["name", "double", "lower", "plus", "semicolon", "empty", "raw"])
        if style == "name" and name:
            j = rng.randrange(len(name))
            name = name[:j] + f"%{ord(name[j]):02X}" + name[j + 1 :]
        elif style == "double":
            value = value.replace("%", "%25")
        elif style == "lower":
            value = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), value)
        elif style == "plus":
            value = value.replace("%20", "+") + "+"
        elif style == "raw":
            value = unquote_plus(value)
        pairs[i] = (name, value)
        sep = ";" if style == "semicolon" else "&"
        body = sep.join(f"{k}={v}" for k, v in pairs) + ("&&=" if style == "empty" else "")
        return raw.with_body(body.encode())
    if raw.service == "s3" and seed.key is not None:
        path = raw.path
        style = rng.choice(["slash", "letter", "lower"])
        if style == "slash" and "/" in seed.key:
            path = path.replace(seed.key.replace("/", "/"), seed.key.replace("/", "%2F"), 1)
        elif style == "letter":
            path = path.replace(seed.key, "".join(f"%{ord(c):02X}" for c in seed.key), 1)
        else:
            path = path.replace(seed.bucket or "", "".join(f"%{ord(c):02x}" for c in seed.bucket or ""), 1)
        return replace(raw, path=path)
    if _is_json(raw):
        text = raw.body.decode()
        keys = re.findall(r'"([A-Za-z]+)":', text)
        if not keys:
            return None
        key = rng.choice(keys)
        escaped = "".join(f"\\u{ord(c):04x}" if rng.random() < 0.5 else c for c in key)
        return _json_with(raw, text.replace(f'"{key}":', f'"{escaped}":', 1))
    return None


def other_host(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    service = {"logs": "logs", "ec2": "ec2"}.get(raw.service, raw.service)
    hosts = [
        f"{service}.{OTHER}.amazonaws.com",
        f"{service}.{OTHER}.amazonaws.com:443",
        f"{service.upper()}.{OTHER.upper()}.AMAZONAWS.COM",
        f"{service}.amazonaws.com",
        "localhost",
        f"{service}.{OTHER}.amazonaws.com.",
        f"{OTHER}.queue.amazonaws.com",
        f"{service}-fips.{OTHER}.amazonaws.com",
    ]
    if raw.service == "s3":
        hosts += [
            f"{victims[0]}.s3.amazonaws.com",
            f"{victims[0]}.s3.{OTHER}.amazonaws.com",
            f"{victims[0]}.localhost",
            f"s3.{OTHER}.amazonaws.com",
            f"{victims[0]}.s3-website-{OTHER}.amazonaws.com",
        ]
    return raw.with_header("Host", rng.choice(hosts))


_CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "application/x-amz-json-1.0",
    "application/x-amz-json-1.1",
    "application/json",
    "text/plain",
    "application/xml",
    "multipart/form-data; boundary=x",
    "APPLICATION/X-AMZ-JSON-1.0",
    "application/x-amz-json-1.0; charset=utf-8",
    "application/x-amz-cbor-1.1",
]


def content_type(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    return raw.with_header("Content-Type", rng.choice([*_CONTENT_TYPES, None]))


def duplicate_header(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    choices: list[tuple[str, str]] = [
        ("Host", f"{raw.service}.{OTHER}.amazonaws.com"),
        ("Content-Type", rng.choice(_CONTENT_TYPES)),
        ("X-Amz-Date", "20000101T000000Z"),
    ]
    target = raw.header("X-Amz-Target")
    if target is not None:
        prefix = target.rsplit(".", 1)[0]
        choices.append(("X-Amz-Target", f"{prefix}.{rng.choice(['DeleteTable', 'DeleteQueue', 'DeleteLogGroup'])}"))
    if raw.service == "s3":
        choices += [
            ("x-amz-copy-source", f"{victims[0]}/victim-key"),
            ("x-amz-tagging", "t=victim"),
            ("x-amz-version-id", "1"),
        ]
    name, value = rng.choice(choices)
    return replace(raw, unsigned=(*raw.unsigned, (name, value)))


def duplicate_json_key(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    """A member of a nested object given twice (RequestItems, Key, TransactItems …)."""
    if not _is_json(raw):
        return None
    text = raw.body.decode()
    members = list(re.finditer(r'"([A-Za-z:]+)": ("[^"]*"|\{)', text))
    if not members:
        return None
    m = rng.choice(members)
    name = m.group(1)
    victim = json.dumps(rng.choice(seed.slots.get(name, ["victim"])))
    dup = f'"{name}": {victim}, '
    return _json_with(raw, text[: m.start()] + dup + text[m.start() :])


def case_variant(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    slot = _slot(rng, seed)
    if slot is None:
        return None
    name, victim = slot
    variant = rng.choice([name.lower(), name.upper(), name[0].swapcase() + name[1:]])
    if _is_form(raw):
        return raw.with_body(raw.body + f"&{variant}={_enc(victim)}".encode())
    if _is_json(raw):
        text = raw.body.decode()
        return _json_with(raw, text[:-1] + f', "{variant}": {json.dumps(victim)}}}')
    return None


def target_swap(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    target = raw.header("X-Amz-Target")
    if target is None:
        return None
    prefix, op = target.rsplit(".", 1)
    value = rng.choice(
        [
            target.lower(),
            f" {target} ",
            f"{prefix}.{op}, {prefix}.DeleteTable",
            f"{prefix}..{op}",
            f"{prefix}.{op}\t",
            op,
            f"{prefix.lower()}.{op}",
        ]
    )
    return raw.with_header("X-Amz-Target", value)


def action_swap(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    if not _is_form(raw):
        return None
    pairs = _pairs(raw.body.decode())
    destructive = {"sns": "DeleteTopic", "ec2": "DeleteSecurityGroup", "sqs": "DeleteQueue"}.get(raw.service, "X")
    style = rng.choice(["second", "lower", "first"])
    if style == "second":
        pairs.append(("Action", destructive))
    elif style == "first":
        pairs.insert(0, ("Action", destructive))
    else:
        pairs.append(("action", destructive))
    return raw.with_body(_join(pairs).encode())


def body_as_form(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    """A JSON call's members sent as a form body (or beside the JSON), with or without X-Amz-Target."""
    if not _is_json(raw):
        return None
    data = json.loads(raw.body)
    pairs = [(k, _enc(v if isinstance(v, str) else json.dumps(v))) for k, v in data.items()]
    target = raw.header("X-Amz-Target") or ""
    pairs.insert(0, ("Action", target.rsplit(".", 1)[-1]))
    out = raw.with_body(_join(pairs).encode())
    if rng.random() < 0.5:
        out = out.with_header("Content-Type", "application/x-www-form-urlencoded")
    if rng.random() < 0.5:
        out = out.with_header("X-Amz-Target", None)
    return out


def user_agent_region(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    agent = rng.choice([f"Boto3/1.0 region/{OTHER}", f"aws-cli/2 md/{OTHER}", f"region#{OTHER}"])
    return replace(raw.with_header("User-Agent", None), unsigned=(*raw.unsigned, ("User-Agent", agent)))


def whitespace_and_unicode(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    slot = _slot(rng, seed)
    if slot is None:
        return None
    name, _ = slot
    text = raw.body.decode(errors="replace")
    for value in re.findall(r'"' + re.escape(name) + r'": "([^"]*)"', text) or re.findall(
        re.escape(name) + r"=([^&]*)", text
    ):
        variant = rng.choice(
            [
                value + " ",
                " " + value,
                value + "\\t" if _is_json(raw) else value + "%09",
                value.replace("a", "\\u0430", 1) if _is_json(raw) else value.replace("a", "%D0%B0", 1),
                value + ("\\u0000" if _is_json(raw) else "%00"),
                value.upper(),
            ]
        )
        return raw.with_body(text.replace(value, variant, 1).encode())
    return None


def list_index(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    if not _is_form(raw):
        return None
    pairs = _pairs(raw.body.decode())
    indexed = [i for i, (k, _) in enumerate(pairs) if re.search(r"\.\d+$", k)]
    if not indexed:
        slot = _slot(rng, seed)
        if slot is None:
            return None
        return raw.with_body(raw.body + f"&{slot[0]}.1={_enc(slot[1])}".encode())
    i = rng.choice(indexed)
    name = pairs[i][0]
    base = name.rsplit(".", 1)[0]
    victim = rng.choice(seed.slots.get(name, ["victim"]) or ["victim"])
    new = rng.choice([f"{base}.0", f"{base}.01", f"{base}.2", f"{base}.1", base, f"{base}.-1"])
    pairs.append((new, _enc(victim)))
    return raw.with_body(_join(pairs).encode())


_SUBRESOURCES = [
    "retention",
    "legal-hold",
    "acl",
    "tagging",
    "analytics",
    "cors",
    "policy",
    "versionId=1",
    "uploads",
    "delete",
    "torrent",
    "restore",
    "attributes",
    "notification",
    "lifecycle",
    "versions",
    "list-type=2",
    "select&select-type=2",
    "x-id=DeleteObject",
    "partNumber=1",
    "uploadId=x",
    "tagging&acl",
    "versionId=a&versionId=b",
    "response-content-type=text/html",
    "metrics&id=x",
    "intelligent-tiering",
    "ownershipControls",
    "website",
    "replication",
]


def s3_subresource(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    if raw.service != "s3":
        return None
    extra = rng.choice(_SUBRESOURCES)
    return replace(raw, query="&".join(p for p in (raw.query, extra) if p))


def s3_copy_source(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    if raw.service != "s3" or seed.operation not in ("CopyObject", "PutObject"):
        return None
    b = seed.bucket
    value = rng.choice(
        [
            f"{victims[0]}/victim-key",
            f"/{b}/k",
            f"{b}/k?versionId=1",
            f"{b}/k%3FversionId%3D1",
            f"{b}/k#{victims[0]}",
            f"{b}/k;{victims[0]}",
            f"%2F{b}%2Fk",
            f"{b}%2Fk",
            f"{b}/k?versionId=1&versionId=2",
            f"{b}/./victim-key",
            f"{b}/k/../victim-key",
            f"{b}/dir%2Fk",
            f"{b}/k?x=1",
            f"{victims[1]}/k",
            f"{b}/k ",
            f"{b.upper()}/k",
        ]
    )
    return raw.with_header("x-amz-copy-source", value)


def s3_path(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    if raw.service != "s3" or seed.bucket is None:
        return None
    b, k = seed.bucket, seed.key
    style = rng.choice(["dots", "double", "virtual", "upper", "trailing", "victim-host"])
    if style == "dots" and k:
        return replace(raw, path=f"/{b}/{k}/../victim-key")
    if style == "double":
        return replace(raw, path=raw.path.replace(f"/{b}", f"//{b}", 1))
    if style == "virtual":
        return replace(raw, path=raw.path.replace(f"/{b}", "", 1) or "/").with_header(
            "Host", f"{victims[0]}.s3.amazonaws.com"
        )
    if style == "upper":
        return replace(raw, path=raw.path.replace(b, b.upper(), 1))
    if style == "trailing" and k:
        return replace(raw, path=raw.path + rng.choice(["/", "%20", "#frag", ";x"]))
    return raw.with_header("Host", f"{b}.s3.amazonaws.com")


def s3_delete_body(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    if seed.operation != "DeleteObjects":
        return None
    ns = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
    bodies = [
        f"<Delete {ns}><Object><Key>gone</Key><Key>victim-key</Key></Object></Delete>",
        f'<Delete {ns} xmlns:x="urn:x"><Object><x:Key>victim-key</x:Key><Key>gone</Key></Object></Delete>',
        f"<Delete {ns}><Object><Key>gone</Key></Object><Object><Key>victim-key</Key></Object></Delete>",
        f"<Delete {ns}><Object><Key><![CDATA[victim-key]]></Key></Object></Delete>",
        f"<Delete {ns}><Object><Key>vic&#116;im-key</Key></Object></Delete>",
        f'<!DOCTYPE d [<!ENTITY e "victim-key">]><Delete {ns}><Object><Key>&e;</Key></Object></Delete>',
        "<Delete><Object><Key>victim-key</Key></Object></Delete>",
        f"<Delete {ns}><Object><Key>gone</Key><VersionId>1</VersionId><VersionId>2</VersionId></Object></Delete>",
        f"<Delete {ns}><Quiet>true</Quiet><Object><Key>gone</Key></Object></Delete>"
        "<Delete><Object><Key>victim-key</Key></Object></Delete>",
        f"<Delete {ns}><Object><Key>gone\r</Key></Object></Delete>",
    ]
    return raw.with_body(rng.choice(bodies).encode())


def method_override(rng: random.Random, seed: Seed, raw: Raw, victims: list[str]) -> Raw | None:
    style = rng.choice(["header", "query", "method"])
    if style == "header":
        return replace(raw, unsigned=(*raw.unsigned, ("X-HTTP-Method-Override", rng.choice(["DELETE", "PUT"]))))
    if style == "query":
        return replace(raw, query="&".join(p for p in (raw.query, "_method=DELETE") if p))
    return replace(raw, method=rng.choice(["PUT", "DELETE", "PATCH", "get", "GET"]))


MUTATORS: dict[str, Mutator] = {
    "repeated-key": repeated_key,
    "query-beside-body": query_beside_body,
    "mixed-locations": mixed_locations,
    "percent-encoding": percent_encoding,
    "other-host": other_host,
    "content-type": content_type,
    "duplicate-header": duplicate_header,
    "duplicate-json-key": duplicate_json_key,
    "case-variant": case_variant,
    "target-swap": target_swap,
    "action-swap": action_swap,
    "body-as-form": body_as_form,
    "user-agent-region": user_agent_region,
    "whitespace-and-unicode": whitespace_and_unicode,
    "list-index": list_index,
    "s3-subresource": s3_subresource,
    "s3-copy-source": s3_copy_source,
    "s3-path": s3_path,
    "s3-delete-body": s3_delete_body,
    "method-override": method_override,
}


def mutate(rng: random.Random, seed: Seed, victims: list[str], host: str) -> tuple[list[str], Raw] | None:
    """One or two mutations of `seed`, re-signed; (the classes applied, the request) or None."""
    raw = seed.raw
    applied: list[str] = []
    for _ in range(1 if rng.random() < 0.7 else 2):
        name = rng.choice(sorted(MUTATORS))
        out = MUTATORS[name](rng, seed, raw, victims)
        if out is not None and out != raw:
            raw, applied = out, [*applied, name]
    if not applied:
        return None
    return applied, raw.signed(host)
