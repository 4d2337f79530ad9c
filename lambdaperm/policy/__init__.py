"""The policy engine: parse IAM policy documents once, decide requests as AWS does.

Pure and standard-library only: no I/O, no globals, no clock reads (time comes in with the request).
"""

from .arn import arn_like, resource_match, split_arn
from .decide import Evaluator, PolicySet, decide
from .decision import Decision, MatchedStatement
from .errors import MalformedPolicyDocument, PolicyError, PolicySizeExceeded, ScenarioError
from .glob import glob_match
from .kinds import Effect, EvalDecision, PolicyType
from .model import Policy, Statement
from .parse import check_policy, parse_policy
from .principals import Caller, PrincipalKind, parse_caller
from .request import AuthzRequest, normalize_context, principal_context
from .scenario import Scenario

__all__ = [
    "AuthzRequest", "Caller", "Decision", "Effect", "EvalDecision", "Evaluator", "MalformedPolicyDocument",
    "MatchedStatement", "Policy", "PolicyError", "PolicySet", "PolicySizeExceeded", "PolicyType",
    "PrincipalKind", "Scenario", "ScenarioError", "Statement", "arn_like", "check_policy", "decide", "glob_match",
    "normalize_context", "parse_caller", "parse_policy", "principal_context", "resource_match", "split_arn",
]
