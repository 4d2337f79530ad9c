"""Seeded random grammar for IAM authorization scenarios (lambdaperm REQUEST format).

Used by ``test_differential.py`` to compare lambdaperm's policy engine with iam-simulate.  Every
scenario is a plain JSON-able dict in the ``lambdaperm simulate`` REQUEST format
(docs/engine-contract.md)::

    {"principal", "action", "resource", "context", "resourceOwnerAccount"?, "policies": {...}}

Design rules (see docs/fidelity.md, "Differential test against iam-simulate"):

* Small pools: 3 accounts (two in one organization), IAM users, role sessions, root users, service
  principals and anonymous callers; a few services (lambda, s3, dynamodb, sqs, iam, sts) with real
  actions and ARNs, so that both engines accept every request.
* The request context is *realistic*: keys that AWS always derives from the caller (aws:PrincipalArn,
  aws:PrincipalAccount, aws:PrincipalType, aws:userid, aws:username, ...) are always present and
  consistent with the principal; other keys (aws:SourceIp, aws:PrincipalTag/team, aws:ResourceTag/env,
  aws:MultiFactorAuthPresent, aws:TagKeys, ...) are sometimes present and sometimes missing, so that
  IfExists / Null / negated operators / ForAllValues-on-missing are exercised.
* Policies are biased toward the request (actions and resources that match about half the time),
  so that all three outcomes (allowed / explicitDeny / implicitDeny) are frequent.
* Nothing outside what both engines model is generated: no NotPrincipal, no Version-2008 policy
  variables, no wildcards in an ARN's service segment or before the resource-type separator, no
  wildcard request resources, no SCPs for service principals or anonymous callers, custom RCPs are
  Deny-only with ``Principal: "*"``, VPC endpoint policies use ``Principal: "*"``.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator, Mapping
from typing import Any

JSON = dict[str, Any]

# --------------------------------------------------------------------------------------------- pools
ACCT_A = "111111111111"
ACCT_B = "222222222222"
ACCT_C = "333333333333"
ACCOUNTS = (ACCT_A, ACCT_B, ACCT_C)
ORG_ID = "o-a1b2c3d4e5"
OTHER_ORG_ID = "o-zz9yy8xx7w"
ORG_ACCOUNTS = frozenset({ACCT_A, ACCT_B})
REGION = "us-east-1"
OTHER_REGION = "eu-west-1"

USERS = (("alice", "/"), ("bob", "/dev/"))
ROLES = (("AppRole", "/", "worker-1"), ("Deployer", "/team/", "ci"))
SERVICES = {
    "s3.amazonaws.com": lambda acct: "arn:aws:s3:::data-bkt",
    "sns.amazonaws.com": lambda acct: f"arn:aws:sns:{REGION}:{acct}:alerts",
    "events.amazonaws.com": lambda acct: f"arn:aws:events:{REGION}:{acct}:rule/nightly",
}
ASSUME_SERVICE = "lambda.amazonaws.com"

FUNCTIONS = ("orders", "orders-v2", "Billing")
QUALIFIERS = (None, None, None, "prod", "1")
BUCKETS = ("data-bkt", "logs-bkt")
KEYS = ("reports/q1.csv", "alice/notes.txt", "public/index.html", "bob/x.bin")
TABLES = ("Orders", "Users")
QUEUES = ("jobs", "jobs-dlq")

ACTIONS = {
    "lambda": (
        "lambda:InvokeFunction",
        "lambda:GetFunction",
        "lambda:UpdateFunctionCode",
        "lambda:DeleteFunction",
        "lambda:GetFunctionConfiguration",
        "lambda:InvokeFunctionUrl",
    ),
    "s3obj": ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
    "s3bucket": ("s3:ListBucket",),
    "dynamodb": ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"),
    "sqs": ("sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"),
    "iamrole": ("iam:PassRole", "iam:GetRole"),
    "iamuser": ("iam:GetUser",),
    "assume": ("sts:AssumeRole",),
}
ALL_ACTIONS = tuple(a for acts in ACTIONS.values() for a in acts)
SERVICE_OF_KIND = {
    "lambda": "lambda",
    "s3obj": "s3",
    "s3bucket": "s3",
    "dynamodb": "dynamodb",
    "sqs": "sqs",
    "iamrole": "iam",
    "iamuser": "iam",
    "assume": "sts",
}

REQUEST_IPS = ("203.0.113.10", "198.51.100.7", "10.1.2.3", "2001:db8::5", "192.0.2.200")
POLICY_CIDRS = (
    "203.0.113.0/24",
    "10.0.0.0/8",
    "198.51.100.7",
    "198.51.100.0/25",
    "2001:db8::/32",
    "192.0.2.0/24",
    "0.0.0.0/0",
)
VPCES = ("vpce-0a1b2c3d4e5f6a7b8", "vpce-99999999999999999")
VPCS = ("vpc-0123456789abcdef0", "vpc-fedcba9876543210f")
TEAMS = ("blue", "red")
ENVS = ("prod", "dev")
TAG_KEY_SETS = (["env"], ["env", "team"], ["Owner"], ["team"], ["env", "cost-center"], [])
CURRENT_TIMES = (("2025-06-15T12:00:00Z", "1749988800"), ("2026-02-01T08:30:00Z", "1769934600"))
POLICY_DATES = (
    "2025-01-01T00:00:00Z",
    "2026-01-01T00:00:00Z",
    "2025-06-15T12:00:00Z",
    "1767225600",
    "2025-12-31",
)
RCP_KINDS = frozenset({"s3obj", "s3bucket", "sqs", "dynamodb", "assume"})


def _acct_of_arn(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) >= 6 else ""


class Principal:
    """A caller: kind in {"user", "session", "root", "service", "anonymous"}."""

    def __init__(self, kind: str, arn: str, account: str | None, **info: str) -> None:
        self.kind = kind
        self.arn = arn
        self.account = account
        self.info = info

    @property
    def iam(self) -> bool:
        return self.kind in ("user", "session", "root")

    @property
    def role_arn(self) -> str | None:
        return self.info.get("role_arn")


# ------------------------------------------------------------------------------------- generator
class ScenarioGenerator:
    """``ScenarioGenerator(seed).scenarios(n)`` yields n deterministic REQUEST dicts."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)

    # ------------------------------------------------------------------ helpers
    def p(self, prob: float) -> bool:
        return self.rng.random() < prob

    def pick(self, seq: Any) -> Any:
        return self.rng.choice(list(seq))

    def weighted(self, pairs: list[tuple[Any, float]]) -> Any:
        items = [x for x, _ in pairs]
        weights = [w for _, w in pairs]
        return self.rng.choices(items, weights=weights, k=1)[0]

    def mangle_case(self, text: str) -> str:
        mode = self.rng.randrange(3)
        if mode == 0:
            return text.lower()
        if mode == 1:
            return text.upper()
        return "".join(ch.upper() if self.p(0.5) else ch.lower() for ch in text)

    # ------------------------------------------------------------------ request
    def scenarios(self, n: int) -> Iterator[JSON]:
        for _ in range(n):
            yield self.scenario()

    def scenario(self) -> JSON:
        principal_kind = self.weighted(
            [("user", 34), ("session", 34), ("root", 9), ("service", 14), ("anonymous", 9)]
        )
        if principal_kind == "service":
            kind = self.weighted([("lambda", 4), ("sqs", 3), ("s3obj", 2), ("assume", 2)])
        elif principal_kind == "anonymous":
            kind = self.weighted([("s3obj", 4), ("s3bucket", 2), ("lambda", 3), ("sqs", 2)])
        else:
            kind = self.weighted(
                [
                    ("lambda", 30),
                    ("s3obj", 14),
                    ("s3bucket", 5),
                    ("dynamodb", 12),
                    ("sqs", 9),
                    ("iamrole", 7),
                    ("iamuser", 3),
                    # root cannot call AssumeRole at all (STS API reference); neither engine's model
                    ("assume", 0 if principal_kind == "root" else 10),
                ]
            )
        res_acct = ACCT_A if self.p(0.75) else ACCT_B
        action = self.pick(ACTIONS[kind])
        if principal_kind == "service":
            action = {
                "lambda": "lambda:InvokeFunction",
                "sqs": "sqs:SendMessage",
                "s3obj": "s3:PutObject",
                "assume": "sts:AssumeRole",
            }[kind]
        if principal_kind == "anonymous" and kind == "lambda":
            action = self.pick(("lambda:InvokeFunctionUrl", "lambda:InvokeFunction"))
        resource = self.resource_arn(kind, res_acct)
        principal = self.principal(principal_kind, res_acct, kind)

        req: JSON = {"principal": principal.arn, "action": action, "resource": resource}
        if kind in ("s3obj", "s3bucket"):
            req["resourceOwnerAccount"] = res_acct
        ctx = self.context(principal, kind, action, res_acct)
        req["context"] = ctx
        self.cur = {
            "principal": principal,
            "kind": kind,
            "action": action,
            "resource": resource,
            "res_acct": res_acct,
            "ctx": ctx,
        }
        req["policies"] = self.policies(principal, kind, action, resource, res_acct, ctx)
        return req

    def resource_arn(self, kind: str, acct: str) -> str:
        if kind == "lambda":
            fn = self.pick(FUNCTIONS)
            q = self.pick(QUALIFIERS)
            base = f"arn:aws:lambda:{REGION}:{acct}:function:{fn}"
            return f"{base}:{q}" if q else base
        if kind == "s3obj":
            return f"arn:aws:s3:::{self.pick(BUCKETS)}/{self.pick(KEYS)}"
        if kind == "s3bucket":
            return f"arn:aws:s3:::{self.pick(BUCKETS)}"
        if kind == "dynamodb":
            return f"arn:aws:dynamodb:{REGION}:{acct}:table/{self.pick(TABLES)}"
        if kind == "sqs":
            return f"arn:aws:sqs:{REGION}:{acct}:{self.pick(QUEUES)}"
        if kind in ("iamrole", "assume"):
            name, path, _ = self.pick(ROLES)
            return f"arn:aws:iam::{acct}:role{path}{name}"
        if kind == "iamuser":
            name, path = self.pick(USERS)
            return f"arn:aws:iam::{acct}:user{path}{name}"
        raise AssertionError(kind)

    def principal(self, kind: str, res_acct: str, res_kind: str) -> Principal:
        if kind == "service":
            if res_kind == "assume":
                return Principal("service", ASSUME_SERVICE, None, service=ASSUME_SERVICE)
            svc = self.pick(SERVICES)
            return Principal("service", svc, None, service=svc)
        if kind == "anonymous":
            return Principal("anonymous", "*", None)
        acct = res_acct if self.p(0.68) else self.pick([a for a in ACCOUNTS if a != res_acct])
        if kind == "root":
            return Principal("root", f"arn:aws:iam::{acct}:root", acct)
        if kind == "user":
            name, path = self.pick(USERS)
            return Principal(
                "user",
                f"arn:aws:iam::{acct}:user{path}{name}",
                acct,
                name=name,
                userid=f"AIDA{name.upper()}{acct[:4]}EXAMPLE",
            )
        name, path, session = self.pick(ROLES)
        return Principal(
            "session",
            f"arn:aws:sts::{acct}:assumed-role/{name}/{session}",
            acct,
            role_arn=f"arn:aws:iam::{acct}:role{path}{name}",
            role_name=name,
            session=session,
            userid=f"AROA{name.upper()}{acct[:4]}:{session}",
        )

    # ------------------------------------------------------------------ context
    def context(self, pr: Principal, kind: str, action: str, res_acct: str) -> JSON:
        ctx: JSON = {}
        # Keys AWS always derives from an authenticated IAM caller.
        if pr.kind == "user":
            ctx["aws:PrincipalArn"] = pr.arn
            ctx["aws:PrincipalType"] = "User"
            ctx["aws:userid"] = pr.info["userid"]
            ctx["aws:username"] = pr.info["name"]
        elif pr.kind == "session":
            ctx["aws:PrincipalArn"] = pr.info["role_arn"]
            ctx["aws:PrincipalType"] = "AssumedRole"
            ctx["aws:userid"] = pr.info["userid"]
        elif pr.kind == "root":
            ctx["aws:PrincipalArn"] = pr.arn
            ctx["aws:PrincipalType"] = "Account"
            ctx["aws:userid"] = pr.account
        elif pr.kind == "anonymous":
            # IAM documents these two for anonymous callers (reference_policies_variables.html).
            ctx["aws:PrincipalType"] = "Anonymous"
            ctx["aws:userid"] = "anonymous"
        if pr.iam:
            assert pr.account is not None
            ctx["aws:PrincipalAccount"] = pr.account
            ctx["aws:PrincipalIsAWSService"] = "false"
            if pr.account in ORG_ACCOUNTS:
                ctx["aws:PrincipalOrgID"] = ORG_ID
        if pr.kind == "service":
            ctx["aws:PrincipalIsAWSService"] = "true"
            ctx["aws:PrincipalServiceName"] = pr.info["service"]
            if pr.info["service"] in SERVICES and self.p(0.7):
                ctx["aws:SourceArn"] = SERVICES[pr.info["service"]](res_acct)
            if self.p(0.7):
                ctx["aws:SourceAccount"] = res_acct
        # Always-present request keys.
        ctx["aws:SecureTransport"] = "true" if self.p(0.8) else "false"
        ctx["aws:RequestedRegion"] = REGION if self.p(0.85) else OTHER_REGION
        ctx["aws:ResourceAccount"] = res_acct
        now_iso, now_epoch = self.pick(CURRENT_TIMES)
        ctx["aws:CurrentTime"] = now_iso
        ctx["aws:EpochTime"] = now_epoch
        if pr.kind == "session" and self.p(0.5):
            ctx["aws:TokenIssueTime"] = self.pick(("2025-06-15T11:00:00Z", "2024-12-31T23:00:00Z"))
        # Network origin: a VPC endpoint (no aws:SourceIp) or the internet.
        if pr.kind != "service":
            if self.p(0.15):
                ctx["aws:SourceVpce"] = self.pick(VPCES)
                ctx["aws:SourceVpc"] = self.pick(VPCS)
            elif self.p(0.9):
                ctx["aws:SourceIp"] = self.pick(REQUEST_IPS)
        # Sometimes-present keys.
        if pr.kind in ("user", "session") and self.p(0.5):
            ctx["aws:PrincipalTag/team"] = self.pick(TEAMS)
        if kind not in ("s3obj", "s3bucket") and self.p(0.5):
            ctx["aws:ResourceTag/env"] = self.pick(ENVS)
        if kind not in ("s3obj", "s3bucket") and self.p(0.3):
            ctx["aws:ResourceTag/team"] = self.pick(TEAMS)
        if pr.kind == "session" and self.p(0.6):
            mfa = self.p(0.6)
            ctx["aws:MultiFactorAuthPresent"] = "true" if mfa else "false"
            if mfa and self.p(0.7):
                ctx["aws:MultiFactorAuthAge"] = self.pick(("30", "3600", "90000"))
        if self.p(0.25):
            ctx["aws:TagKeys"] = list(self.pick(TAG_KEY_SETS))
        if pr.iam:
            if self.p(0.1):
                ctx["aws:CalledVia"] = ["cloudformation.amazonaws.com"]
                ctx["aws:ViaAWSService"] = "true"
            elif self.p(0.5):
                ctx["aws:ViaAWSService"] = "false"
        # Action-specific keys.
        if action == "s3:ListBucket" and self.p(0.7):
            ctx["s3:prefix"] = self.pick(("reports/", "alice/", "bob/", ""))
        if action == "lambda:InvokeFunctionUrl" and self.p(0.8):
            ctx["lambda:FunctionUrlAuthType"] = self.pick(("NONE", "AWS_IAM"))
        if action == "iam:PassRole" and self.p(0.85):
            ctx["iam:PassedToService"] = self.pick(("lambda.amazonaws.com", "ec2.amazonaws.com"))
        if kind == "dynamodb" and action != "dynamodb:DescribeTable" and self.p(0.5):
            ctx["dynamodb:LeadingKeys"] = list(self.pick((["alice"], ["bob"], ["alice", "bob"])))
        return ctx

    # ------------------------------------------------------------------ policies
    def policies(
        self, pr: Principal, kind: str, action: str, resource: str, res_acct: str, ctx: JSON
    ) -> JSON:
        pol: JSON = {}
        if pr.kind in ("user", "session"):
            n = self.weighted([(0, 12), (1, 45), (2, 30), (3, 13)])
            pol["identity"] = [self.identity_policy("identity") for _ in range(n)]
            if self.p(0.2):
                pol["permissionsBoundary"] = self.identity_policy("boundary")
        if pr.kind == "session" and self.p(0.2):
            pol["session"] = self.identity_policy("session")
        if kind == "assume":
            pol["trust"] = self.trust_policy()
        else:
            need_rp = pr.kind in ("service", "anonymous")
            if (need_rp and self.p(0.95)) or (not need_rp and self.p(0.5)):
                pol["resource"] = self.resource_policy()
        if pr.iam and pr.account in ORG_ACCOUNTS and self.p(0.3):
            pol["scps"] = [self.scp_level() for _ in range(self.weighted([(1, 5), (2, 3), (3, 2)]))]
        if res_acct in ORG_ACCOUNTS and self.p(0.22 if kind in RCP_KINDS else 0.06):
            pol["rcps"] = [self.rcp_level() for _ in range(self.weighted([(1, 3), (2, 1)]))]
        if "aws:SourceVpce" in ctx and self.p(0.6):
            pol["vpcEndpoint"] = self.endpoint_policy()
        return pol

    def doc(self, statements: list[JSON], *, rcp: bool = False) -> JSON:
        if rcp:
            return {"Version": "2012-10-17", "Statement": statements}
        version = self.weighted([("2012-10-17", 90), (None, 6), ("2008-10-17", 4)])
        body: JSON = {"Statement": statements[0] if len(statements) == 1 and self.p(0.1) else statements}
        return {"Version": version, **body} if version else body

    def maybe_sid(self, st: JSON, i: int) -> JSON:
        if self.p(0.3):
            return {"Sid": f"S{i}", **st}
        return st

    def identity_policy(self, flavor: str) -> JSON:
        n = self.weighted([(1, 50), (2, 35), (3, 15)])
        sts = []
        for i in range(n):
            deny_p = {"identity": 0.22, "boundary": 0.15, "session": 0.15}[flavor]
            effect = "Deny" if self.p(deny_p) else "Allow"
            relevance = 0.72 if flavor == "identity" else 0.8
            sts.append(self.maybe_sid(self.identity_statement(effect, relevance), i))
        return self.doc(sts)

    def identity_statement(self, effect: str, relevance: float, *, allow_not: bool = True) -> JSON:
        st: JSON = {"Effect": effect}
        if allow_not and self.p(0.1):
            st["NotAction"] = self.action_list(match=not self.p(relevance))
        else:
            st["Action"] = self.action_list(match=self.p(relevance))
        if allow_not and self.p(0.08):
            st["NotResource"] = self.resource_list(match=not self.p(relevance))
        else:
            st["Resource"] = self.resource_list(match=self.p(relevance))
        cond_p = 0.3 if effect == "Allow" else 0.6
        if self.p(cond_p):
            st["Condition"] = self.condition_block(effect)
        return st

    # ---- actions
    def action_pattern(self, match: bool) -> str:
        action = self.cur["action"]
        svc, name = action.split(":")
        if match:
            form = self.weighted(
                [
                    ("exact", 4),
                    ("case", 2),
                    ("prefix", 2),
                    ("suffix", 1),
                    ("qmark", 1),
                    ("svc", 2),
                    ("all", 1),
                ]
            )
            if form == "exact":
                return action
            if form == "case":
                return f"{self.mangle_case(svc)}:{self.mangle_case(name)}"
            if form == "prefix":
                k = self.rng.randrange(0, len(name))
                return f"{svc}:{name[:k]}*"
            if form == "suffix":
                k = self.rng.randrange(1, len(name) + 1)
                return f"{svc}:*{name[-k:]}"
            if form == "qmark":
                k = self.rng.randrange(len(name))
                return f"{svc}:{name[:k]}?{name[k + 1 :]}"
            if form == "svc":
                return f"{svc}:*"
            return "*"
        form = self.weighted([("other", 5), ("othersvc", 3), ("near", 2)])
        if form == "other":
            others = [a for a in ALL_ACTIONS if a.split(":")[0] == svc and a.lower() != action.lower()]
            if others:
                return str(self.pick(others))
        if form == "near":
            return self.pick((f"{action}?", f"{svc}:{name}X*", f"{svc}:X{name[1:]}"))
        others = [a for a in ALL_ACTIONS if a.split(":")[0] != svc]
        choice = str(self.pick(others))
        if self.p(0.3):
            return choice.split(":")[0] + ":*"
        return choice

    def action_list(self, match: bool) -> str | list[str]:
        n = self.weighted([(1, 6), (2, 3), (3, 1)])
        items = [self.action_pattern(False) for _ in range(n)]
        if match:
            items[self.rng.randrange(n)] = self.action_pattern(True)
        items = list(dict.fromkeys(items))
        return items[0] if len(items) == 1 and self.p(0.7) else items

    # ---- resources
    def resource_pattern(self, match: bool) -> str:
        arn = self.cur["resource"]
        kind = self.cur["kind"]
        acct = self.cur["res_acct"]
        if match:
            return self.matching_resource(arn, kind, acct)
        return self.other_resource(arn, kind, acct)

    def matching_resource(self, arn: str, kind: str, acct: str) -> str:
        parts = arn.split(":", 5)
        head, res = ":".join(parts[:5]), parts[5]
        forms: list[tuple[str, float]] = [("exact", 5), ("all", 2), ("tail", 3), ("qmark", 1), ("mid", 2)]
        if kind not in ("s3obj", "s3bucket", "iamrole", "iamuser", "assume"):
            forms.append(("region", 1))
        if kind in ("dynamodb", "sqs", "iamrole", "iamuser", "assume"):
            forms.append(("account", 1))
        if kind == "lambda":
            forms.append(("lambda-family", 2))
        if kind == "s3obj":
            forms.append(("s3-user", 1))
        form = self.weighted(forms)
        if form == "exact":
            return arn
        if form == "all":
            return "*"
        if form == "tail":
            # keep the resource-type prefix literal (before the first '/' or ':'), glob the rest
            sep = min([i for i in (res.find("/"), res.find(":")) if i >= 0], default=-1)
            start = sep + 1 if sep >= 0 else 0
            k = self.rng.randrange(start, len(res) + 1)
            return f"{head}:{res[:k]}*"
        if form == "mid":
            sep = min([i for i in (res.find("/"), res.find(":")) if i >= 0], default=-1)
            start = sep + 1 if sep >= 0 else 0
            if start >= len(res) - 1:
                return arn
            i = self.rng.randrange(start, len(res))
            j = self.rng.randrange(i, len(res) + 1)
            return f"{head}:{res[:i]}*{res[j:]}"
        if form == "qmark":
            sep = min([i for i in (res.find("/"), res.find(":")) if i >= 0], default=-1)
            start = sep + 1 if sep >= 0 else 0
            if start >= len(res):
                return arn
            k = self.rng.randrange(start, len(res))
            return f"{head}:{res[:k]}?{res[k + 1 :]}"
        if form == "region":
            p = arn.split(":", 5)
            return ":".join([p[0], p[1], p[2], "*", p[4], p[5]])
        if form == "account":
            p = arn.split(":", 5)
            return ":".join([p[0], p[1], p[2], p[3], "*", p[5]])
        if form == "lambda-family":
            fn = res.split(":")[1]
            qualified = res.count(":") >= 2
            base = f"{head}:function:{fn}"
            return f"{base}:*" if qualified else self.pick((base, f"{base}*"))
        if form == "s3-user":
            # ${aws:username} resolves only for IAM users; 2012-10-17 policies only.
            bucket = res.split("/")[0]
            return f"arn:aws:s3:::{bucket}/${{aws:username}}/*"
        raise AssertionError(form)

    def other_resource(self, arn: str, kind: str, acct: str) -> str:
        form = self.weighted([("sibling", 4), ("otheracct", 2), ("case", 1), ("otherkind", 2), ("qual", 1)])
        if form == "sibling" or (form == "qual" and kind != "lambda"):
            for _ in range(6):
                cand = self.resource_arn(kind, acct)
                if cand != arn:
                    return cand
            form = "otherkind"
        if form == "otheracct":
            other = self.pick([a for a in ACCOUNTS if a != acct])
            if kind in ("s3obj", "s3bucket"):
                return self.resource_arn(kind, other).replace("-bkt", "-bkt-" + other[:3])
            return self.resource_arn(kind, other)
        if form == "case":
            p = arn.split(":", 5)
            mangled = self.mangle_case(p[5])
            if mangled != p[5]:
                return ":".join([*p[:5], mangled])
            return arn + "-x"
        if form == "qual":
            if arn.count(":") >= 7:  # qualified -> the unqualified function
                return arn.rsplit(":", 1)[0]
            return arn + ":prod"
        other_kind = self.pick([k for k in ("lambda", "s3obj", "dynamodb", "sqs", "iamrole") if k != kind])
        return self.resource_arn(other_kind, acct)

    def resource_list(self, match: bool) -> str | list[str]:
        n = self.weighted([(1, 6), (2, 3), (3, 1)])
        items = [self.resource_pattern(False) for _ in range(n)]
        if match:
            items[self.rng.randrange(n)] = self.resource_pattern(True)
        items = list(dict.fromkeys(items))
        return items[0] if len(items) == 1 and self.p(0.7) else items

    # ---- principals (resource-based policies)
    def principal_element(self, match: bool) -> Any:
        pr: Principal = self.cur["principal"]
        res_acct = self.cur["res_acct"]
        if match:
            forms: list[tuple[str, float]] = [("star", 3), ("awsstar", 1)]
            if pr.kind == "user":
                forms += [("arn", 5), ("account", 3), ("accountid", 2)]
            elif pr.kind == "session":
                forms += [("rolearn", 5), ("sessionarn", 2), ("account", 3), ("accountid", 1)]
            elif pr.kind == "root":
                forms += [("account", 4), ("accountid", 2)]
            elif pr.kind == "service":
                forms += [("service", 8)]
            else:  # anonymous
                forms = [("star", 4), ("awsstar", 2)]
            form = self.weighted(forms)
        else:
            form = "other"
        if form == "star":
            return "*"
        if form == "awsstar":
            return {"AWS": "*"}
        if form == "arn":
            value: Any = pr.arn
        elif form == "rolearn":
            value = pr.info["role_arn"]
        elif form == "sessionarn":
            value = pr.arn
        elif form == "account":
            value = f"arn:aws:iam::{pr.account}:root"
        elif form == "accountid":
            value = pr.account
        elif form == "service":
            svc = pr.info["service"]
            other = [s for s in (*SERVICES, ASSUME_SERVICE) if s != svc]
            return {"Service": [svc, self.pick(other)] if self.p(0.3) else svc}
        else:
            return self.other_principal(pr, res_acct)
        if self.p(0.25):
            extra = self.other_principal(pr, res_acct)
            if "AWS" in extra:
                return {"AWS": [value, extra["AWS"]]}
            return {"AWS": value, **extra}
        return {"AWS": value}

    def other_principal(self, pr: Principal, res_acct: str) -> JSON:
        form = self.weighted([("acct", 3), ("user", 3), ("role", 3), ("svc", 2)])
        others = [a for a in ACCOUNTS if a != pr.account]
        acct = self.pick(others)
        if form == "acct":
            return {"AWS": f"arn:aws:iam::{acct}:root" if self.p(0.6) else acct}
        if form == "user":
            name, path = self.pick(USERS)
            if pr.kind == "user" and self.p(0.5):
                # same account, other user
                names = [u for u in USERS if f"user{u[1]}{u[0]}" not in pr.arn]
                name, path = self.pick(names)
                acct = pr.account or acct
            return {"AWS": f"arn:aws:iam::{acct}:user{path}{name}"}
        if form == "role":
            name, path, session = self.pick(ROLES)
            if pr.kind == "session" and self.p(0.5):
                names = [r for r in ROLES if r[0] != pr.info["role_name"]]
                name, path, session = self.pick(names)
                acct = pr.account or acct
            if self.p(0.2):
                return {"AWS": f"arn:aws:sts::{acct}:assumed-role/{name}/{session}"}
            return {"AWS": f"arn:aws:iam::{acct}:role{path}{name}"}
        svcs = [s for s in (*SERVICES, ASSUME_SERVICE) if s != pr.info.get("service")]
        return {"Service": self.pick(svcs)}

    def resource_policy(self) -> JSON:
        n = self.weighted([(1, 50), (2, 35), (3, 15)])
        sts = []
        for i in range(n):
            effect = "Deny" if self.p(0.2) else "Allow"
            st: JSON = {
                "Effect": effect,
                "Principal": self.principal_element(match=self.p(0.7)),
            }
            if self.p(0.08):
                st["NotAction"] = self.action_list(match=not self.p(0.7))
            else:
                st["Action"] = self.action_list(match=self.p(0.75))
            if self.p(0.06):
                st["NotResource"] = self.resource_list(match=not self.p(0.75))
            else:
                st["Resource"] = self.resource_list(match=self.p(0.75))
            if self.p(0.4 if effect == "Allow" else 0.6):
                st["Condition"] = self.condition_block(effect)
            sts.append(self.maybe_sid(st, i))
        return self.doc(sts)

    def trust_policy(self) -> JSON:
        n = self.weighted([(1, 60), (2, 30), (3, 10)])
        sts = []
        for i in range(n):
            effect = "Deny" if self.p(0.12) else "Allow"
            acts = self.pick(
                (
                    "sts:AssumeRole",
                    "sts:AssumeRole",
                    "sts:AssumeRole*",
                    "sts:*",
                    ["sts:AssumeRole", "sts:TagSession"],
                    "sts:AssumeRoleWithWebIdentity",
                )
            )
            st: JSON = {
                "Effect": effect,
                "Principal": self.principal_element(match=self.p(0.7)),
                "Action": acts,
            }
            if self.p(0.3 if effect == "Allow" else 0.6):
                st["Condition"] = self.condition_block(effect)
            sts.append(self.maybe_sid(st, i))
        return self.doc(sts)

    def scp_level(self) -> list[JSON]:
        docs: list[JSON] = []
        if self.p(0.85):
            docs.append(
                self.doc([{"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}])
            )
        elif self.p(0.6):
            docs.append(self.doc([self.identity_statement("Allow", 0.7, allow_not=True)]))
        if self.p(0.45) or not docs:
            sts = [self.identity_statement("Deny", 0.6) for _ in range(self.weighted([(1, 3), (2, 1)]))]
            docs.append(self.doc(sts))
        return docs

    def rcp_level(self) -> list[JSON]:
        sts = []
        for _ in range(self.weighted([(1, 3), (2, 1)])):
            action = self.action_list(match=self.p(0.7))
            if action == "*" or (isinstance(action, list) and "*" in action):
                svc = self.cur["action"].split(":")[0]
                action = f"{svc}:*"
            st: JSON = {"Effect": "Deny", "Principal": "*", "Action": action}
            if self.p(0.5):
                st["Resource"] = "*"
            else:
                st["Resource"] = self.resource_list(match=self.p(0.7))
            if self.p(0.75):
                st["Condition"] = self.pick(
                    (
                        {
                            "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG_ID},
                            "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
                        },
                        {"BoolIfExists": {"aws:SecureTransport": "false"}},
                        {"StringNotEquals": {"aws:PrincipalAccount": [ACCT_A, ACCT_B]}},
                        {"StringNotEqualsIfExists": {"aws:SourceAccount": self.cur["res_acct"]}},
                        self.condition_block("Deny"),
                    )
                )
            sts.append(st)
        return [self.doc(sts, rcp=True)]

    def endpoint_policy(self) -> JSON:
        sts: list[JSON] = []
        if self.p(0.8):
            st: JSON = {
                "Effect": "Allow",
                "Principal": "*",
                "Action": self.action_list(match=self.p(0.7)),
                "Resource": self.resource_list(match=self.p(0.7)),
            }
            if self.p(0.3):
                st["Condition"] = self.condition_block("Allow")
            sts.append(st)
        if self.p(0.3) or not sts:
            st = {
                "Effect": "Deny",
                "Principal": "*",
                "Action": self.action_list(match=self.p(0.6)),
                "Resource": self.resource_list(match=self.p(0.6)),
            }
            if self.p(0.6):
                st["Condition"] = self.condition_block("Deny")
            sts.append(st)
        return self.doc(sts)

    # ---- conditions
    def key_name(self, key: str) -> str:
        """Condition keys are case-insensitive; vary the spelling now and then."""
        if self.p(0.15):
            prefix, _, rest = key.partition(":")
            return f"{self.mangle_case(prefix)}:{self.mangle_case(rest)}"
        return key

    def condition_block(self, effect: str) -> JSON:
        block: JSON = {}
        for _ in range(self.weighted([(1, 7), (2, 3)])):
            op, key, values = self.condition(effect)
            block.setdefault(op, {})[self.key_name(key)] = values
        return block

    def condition(self, effect: str) -> tuple[str, str, Any]:
        ctx: JSON = self.cur["ctx"]
        pr: Principal = self.cur["principal"]
        action: str = self.cur["action"]
        candidates: list[tuple[str, float]] = [
            ("aws:SourceIp", 3),
            ("aws:PrincipalTag/team", 3),
            ("aws:PrincipalOrgID", 2),
            ("aws:PrincipalArn", 3),
            ("aws:PrincipalAccount", 2),
            ("aws:SecureTransport", 2),
            ("aws:MultiFactorAuthPresent", 2),
            ("aws:MultiFactorAuthAge", 1),
            ("aws:TagKeys", 2),
            ("aws:RequestedRegion", 1),
            ("aws:SourceVpce", 1),
            ("aws:username", 1),
            ("aws:PrincipalType", 1),
            ("aws:CalledVia", 1),
            ("aws:ViaAWSService", 1),
            ("aws:SourceArn", 1 if pr.kind == "service" else 0.3),
            ("aws:SourceAccount", 1 if pr.kind == "service" else 0.3),
            ("aws:PrincipalServiceName", 1 if pr.kind == "service" else 0.2),
            ("aws:PrincipalIsAWSService", 1),
            ("aws:CurrentTime", 2),
            ("aws:EpochTime", 1),
            ("aws:TokenIssueTime", 1 if pr.kind == "session" else 0.2),
        ]
        if self.cur["kind"] == "lambda":
            candidates.append(("lambda:FunctionUrlAuthType", 0.5))
        if self.cur["kind"] not in ("s3obj", "s3bucket"):
            candidates += [("aws:ResourceTag/env", 2), ("aws:ResourceTag/team", 1)]
        if action == "s3:ListBucket":
            candidates.append(("s3:prefix", 4))
        if action == "lambda:InvokeFunctionUrl":
            candidates.append(("lambda:FunctionUrlAuthType", 5))
        if action == "iam:PassRole":
            candidates.append(("iam:PassedToService", 5))
        if self.cur["kind"] == "dynamodb":
            candidates.append(("dynamodb:LeadingKeys", 4))
        key = self.weighted(candidates)
        present = ctx.get(key)

        if self.p(0.07):
            return "Null", key, self.pick(("true", "false"))

        def vals(pool: list[str], actual: Any) -> Any:
            out = list(
                dict.fromkeys(
                    self.rng.sample(pool, k=min(len(pool), self.weighted([(1, 6), (2, 3), (3, 1)])))
                )
            )
            if actual is not None and not isinstance(actual, list) and self.p(0.5) and actual not in out:
                out[self.rng.randrange(len(out))] = actual
            return out[0] if len(out) == 1 and self.p(0.7) else out

        def ifexists(op: str) -> str:
            return op + "IfExists" if self.p(0.25) else op

        if key == "aws:SourceIp":
            op = ifexists(self.weighted([("IpAddress", 3), ("NotIpAddress", 2)]))
            return op, key, vals(list(POLICY_CIDRS), None)
        if key in (
            "aws:SecureTransport",
            "aws:MultiFactorAuthPresent",
            "aws:ViaAWSService",
            "aws:PrincipalIsAWSService",
        ):
            value: Any = self.pick(("true", "false"))
            if self.p(0.1):
                value = value == "true"  # JSON boolean
            return ifexists("Bool"), key, value
        if key in ("aws:CurrentTime", "aws:TokenIssueTime") or (key == "aws:EpochTime" and self.p(0.6)):
            op = ifexists(
                self.pick(
                    (
                        "DateLessThan",
                        "DateGreaterThan",
                        "DateLessThanEquals",
                        "DateGreaterThanEquals",
                        "DateEquals",
                        "DateNotEquals",
                    )
                )
            )
            pool = list(POLICY_DATES)
            if key == "aws:EpochTime":
                pool = [d for d in pool if d.isdigit()] + ["1749988800"]
            return op, key, vals(pool, present if self.p(0.3) else None)
        if key == "aws:EpochTime":
            op = ifexists(self.pick(("NumericLessThan", "NumericGreaterThanEquals", "NumericEquals")))
            return op, key, vals(["1749988800", "1767225600", "1800000000"], present if self.p(0.3) else None)
        if key == "aws:MultiFactorAuthAge":
            op = ifexists(
                self.pick(("NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericEquals"))
            )
            v = self.pick(("30", "3600", "86400", "60"))
            return op, key, v if self.p(0.9) else int(v)
        if key in ("aws:TagKeys", "aws:CalledVia", "dynamodb:LeadingKeys"):
            setop = self.pick(("ForAnyValue", "ForAllValues"))
            base = self.weighted(
                [
                    ("StringEquals", 4),
                    ("StringLike", 2),
                    ("StringNotEquals", 1),
                    ("StringEqualsIgnoreCase", 1),
                ]
            )
            pool = {
                "aws:TagKeys": ["env", "team", "Owner", "owner", "cost-*", "t*"],
                "aws:CalledVia": ["cloudformation.amazonaws.com", "athena.amazonaws.com", "*.amazonaws.com"],
                "dynamodb:LeadingKeys": ["alice", "bob", "carol", "${aws:username}", "a*"],
            }[key]
            if base != "StringLike":
                pool = [v for v in pool if "*" not in v]
            return f"{setop}:{base}", key, vals(pool, None)
        if key in ("aws:PrincipalArn", "aws:SourceArn"):
            op = ifexists(
                self.weighted([("ArnLike", 4), ("ArnNotLike", 2), ("ArnEquals", 1), ("StringLike", 1)])
            )
            if key == "aws:PrincipalArn":
                pool = [
                    f"arn:aws:iam::{ACCT_A}:role/*",
                    f"arn:aws:iam::{ACCT_A}:user/*",
                    "arn:aws:iam::*:role/team/*",
                    f"arn:aws:iam::{ACCT_B}:*",
                    "arn:aws:iam::*:root",
                    f"arn:aws:iam::{ACCT_A}:role/AppRole",
                    "arn:aws:iam::*",
                    f"arn:aws:iam::{ACCT_A}:*",
                    "arn:aws:*:*:*:*/Deployer",
                ]
            else:
                pool = [
                    "arn:aws:s3:::data-*",
                    f"arn:aws:sns:{REGION}:{ACCT_A}:alerts",
                    "arn:aws:events:*:*:rule/*",
                    f"arn:aws:sns:*:{ACCT_B}:*",
                ]
            if op.startswith("ArnEquals"):
                pool = [v for v in pool if "*" not in v] or [f"arn:aws:iam::{ACCT_A}:role/AppRole"]
            return op, key, vals(pool, present if self.p(0.5) else None)
        # plain strings
        pools: dict[str, list[str]] = {
            "aws:PrincipalTag/team": ["blue", "red", "Blue", "${aws:ResourceTag/team}", "r?d", "b*e"],
            "aws:ResourceTag/env": ["prod", "dev", "Prod", "${aws:PrincipalTag/team}"],
            "aws:ResourceTag/team": ["blue", "red", "${aws:PrincipalTag/team}"],
            "aws:PrincipalOrgID": [ORG_ID, OTHER_ORG_ID],
            "aws:PrincipalAccount": [ACCT_A, ACCT_B, ACCT_C, "${aws:ResourceAccount}"],
            "aws:RequestedRegion": [REGION, OTHER_REGION, "us-*", "us-east-?"],
            "aws:SourceVpce": list(VPCES),
            "aws:username": ["alice", "bob", "Alice"],
            "aws:PrincipalType": ["User", "AssumedRole", "Account"],
            "aws:SourceAccount": [ACCT_A, ACCT_B, "${aws:ResourceAccount}"],
            "aws:PrincipalServiceName": [*SERVICES, ASSUME_SERVICE],
            "s3:prefix": ["reports/", "alice/", "${aws:username}/", "", "public/*"],
            "lambda:FunctionUrlAuthType": ["NONE", "AWS_IAM"],
            "iam:PassedToService": ["lambda.amazonaws.com", "ec2.amazonaws.com", "*.amazonaws.com"],
        }
        pool = pools[key]
        op = self.weighted(
            [
                ("StringEquals", 5),
                ("StringNotEquals", 3),
                ("StringLike", 2),
                ("StringNotLike", 1),
                ("StringEqualsIgnoreCase", 1),
                ("StringNotEqualsIgnoreCase", 1),
                ("ForAnyValue:StringEquals", 0.5),
                ("ForAllValues:StringEquals", 0.5),
            ]
        )
        if "Like" not in op:
            pool = [v for v in pool if "*" not in v] or pool[:1]
        if "IgnoreCase" in op:
            pool = [v for v in pool if "${" not in v] or pool[:1]
        if not op.startswith("For"):
            op = ifexists(op)
        return op, key, vals(pool, present if self.p(0.5) else None)


def generate(seed: int, n: int) -> list[JSON]:
    """``n`` scenarios from ``seed`` (deterministic)."""
    return list(ScenarioGenerator(seed).scenarios(n))


# --------------------------------------------------------------------------------------- shrinker
def _candidates(sc: JSON) -> Iterator[JSON]:
    """Smaller variants of ``sc`` (one reduction each), biggest reductions first."""
    pol = sc.get("policies", {})
    for key in list(pol):
        out = copy.deepcopy(sc)
        del out["policies"][key]
        yield out
    for key in ("scps", "rcps"):
        for i in range(len(pol.get(key, []))):
            out = copy.deepcopy(sc)
            del out["policies"][key][i]
            yield out
            for j in range(len(pol[key][i])):
                out = copy.deepcopy(sc)
                del out["policies"][key][i][j]
                yield out
    for i in range(len(pol.get("identity", []))):
        out = copy.deepcopy(sc)
        del out["policies"]["identity"][i]
        yield out
    for path, doc in _docs(sc):
        stmts = doc.get("Statement")
        if isinstance(stmts, list):
            for i in range(len(stmts)):
                if len(stmts) > 1:
                    out = copy.deepcopy(sc)
                    del _get(out, path)["Statement"][i]
                    yield out
            for i in range(len(stmts)):
                yield from _statement_candidates(sc, [*path, "Statement", i])
        elif isinstance(stmts, dict):
            yield from _statement_candidates(sc, [*path, "Statement"])
    for k in list(sc.get("context", {})):
        out = copy.deepcopy(sc)
        del out["context"][k]
        yield out
        v = sc["context"][k]
        if isinstance(v, list) and len(v) > 1:
            for i in range(len(v)):
                out = copy.deepcopy(sc)
                del out["context"][k][i]
                yield out


def _statement_candidates(sc: JSON, path: list[Any]) -> Iterator[JSON]:
    st = _get(sc, path)
    if "Condition" in st:
        out = copy.deepcopy(sc)
        del _get(out, path)["Condition"]
        yield out
        for op, body in st["Condition"].items():
            if len(st["Condition"]) > 1:
                out = copy.deepcopy(sc)
                del _get(out, path)["Condition"][op]
                yield out
            for key, vals in body.items():
                if len(body) > 1:
                    out = copy.deepcopy(sc)
                    del _get(out, path)["Condition"][op][key]
                    yield out
                if isinstance(vals, list):
                    for v in vals:
                        out = copy.deepcopy(sc)
                        _get(out, path)["Condition"][op][key] = v
                        yield out
    for field in ("Action", "NotAction", "Resource", "NotResource"):
        vals = st.get(field)
        if isinstance(vals, list):
            for v in vals:
                out = copy.deepcopy(sc)
                _get(out, path)[field] = v
                yield out
    pr = st.get("Principal")
    if isinstance(pr, dict):
        for k, v in pr.items():
            if len(pr) > 1:
                out = copy.deepcopy(sc)
                del _get(out, path)["Principal"][k]
                yield out
            if isinstance(v, list):
                for x in v:
                    out = copy.deepcopy(sc)
                    _get(out, path)["Principal"][k] = x
                    yield out
    if "Sid" in st:
        out = copy.deepcopy(sc)
        del _get(out, path)["Sid"]
        yield out


def _docs(sc: JSON) -> Iterator[tuple[list[Any], JSON]]:
    pol = sc.get("policies", {})
    for i, d in enumerate(pol.get("identity", [])):
        yield ["policies", "identity", i], d
    for key in ("resource", "trust", "permissionsBoundary", "session", "vpcEndpoint"):
        if isinstance(pol.get(key), dict):
            yield ["policies", key], pol[key]
    for key in ("scps", "rcps"):
        for i, level in enumerate(pol.get(key, [])):
            for j, d in enumerate(level):
                yield ["policies", key, i, j], d


def _get(obj: Any, path: list[Any]) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def shrink(sc: JSON, still_failing: Callable[[JSON], bool], max_steps: int = 2000) -> JSON:
    """Greedy delta-debugging: the smallest variant of ``sc`` for which ``still_failing`` holds."""
    current = copy.deepcopy(sc)
    steps = 0
    progress = True
    while progress and steps < max_steps:
        progress = False
        for cand in _candidates(current):
            steps += 1
            try:
                ok = still_failing(cand)
            except Exception:
                ok = False
            if ok:
                current = cand
                progress = True
                break
            if steps >= max_steps:
                break
    return current


def dumps(sc: Mapping[str, Any]) -> str:
    return json.dumps(sc, sort_keys=False, separators=(",", ":"))


if __name__ == "__main__":  # pragma: no cover - manual inspection helper
    import sys

    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    for s in generate(seed, count):
        print(json.dumps(s, indent=2))
