"""Where the variables of the ARN templates come from in each service's request parameters (data).

`SOURCES[service]`: template variable ← request parameter(s), or a parser for identifiers that come in
several shapes. `ARN_PARAMS[service]`: parameters whose value is already a resource ARN; such a value is
used for every resource type of the action whose template it fits (and keeps its own account: a caller who
names a resource in another account asks for that account's resource). `TEMPLATE_OVERRIDES`: the ARN AWS
actually evaluates when it differs from the reference's template. `DOMINATES`: a sub-resource that, when the
request names it, replaces its parent as the authorized resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from . import identifiers as ids
from .arns import Bindings
from .identifiers import Parser
from .params import strings


@dataclass(frozen=True)
class Param:
    """Template variable ← the values of request parameters (ARN values are left to ARN_PARAMS)."""

    var: str
    paths: tuple[str, ...]

    @property
    def params(self) -> tuple[str, ...]:
        return self.paths

    @property
    def vars(self) -> tuple[str, ...]:
        return (self.var,)

    def bind(self, params: Mapping[str, object]) -> Bindings:
        values = tuple(v for v in strings(params, *self.paths) if not v.startswith("arn:"))
        return {self.var: values} if values else {}


@dataclass(frozen=True)
class Parsed:
    """Template variables ← a parser of an identifier with several shapes."""

    parse: Parser
    params: tuple[str, ...]
    vars: tuple[str, ...]

    def bind(self, params: Mapping[str, object]) -> Bindings:
        return self.parse(params)


Source = Param | Parsed


def _p(var: str, *paths: str) -> Param:
    return Param(var, paths)


FUNCTION = Parsed(ids.lambda_function, ("FunctionName", "Qualifier"),
                  ("FunctionName", "QualifierSuffix", "Alias", "Version"))

SOURCES: dict[str, tuple[Source, ...]] = {
    # Lambda API reference (FunctionName, Qualifier, LayerName, ...) — https://docs.aws.amazon.com/lambda/latest/api/
    "lambda": (
        FUNCTION,
        Parsed(ids.lambda_layer, ("LayerName",), ("LayerName",)),
        _p("LayerVersion", "VersionNumber"),
        _p("UUID", "UUID"),
        _p("CapacityProviderName", "CapacityProviderName"),
    ),
    "dynamodb": (
        Parsed(ids.dynamodb_tables("TableName", "TableCreationParameters.TableName"),
               ("TableName", "TableCreationParameters.TableName"), ("TableName",)),
        _p("IndexName", "IndexName"),
        _p("GlobalTableName", "GlobalTableName"),
    ),
    "s3": (
        Parsed(ids.s3_bucket, ("Bucket",), ("BucketName", "AccessPointName")),
        Parsed(ids.s3_key, ("Key",), ("ObjectName",)),
    ),
    "sqs": (
        Parsed(ids.sqs_queue_url, ("QueueUrl",), ("QueueName",)),
        _p("QueueName", "QueueName"),
        _p("Account", "QueueOwnerAWSAccountId"),
        Parsed(ids.sqs_task_handle, ("TaskHandle",), ("QueueName",)),
    ),
    "sns": (
        _p("TopicName", "Name"),
        Parsed(ids.sns_subscription, ("SubscriptionArn",), ("TopicName",)),
    ),
    "logs": (
        _p("LogGroupName", "logGroupName", "logGroupIdentifier", "logGroupNames[]", "logGroupIdentifiers[]"),
        _p("LogStreamName", "logStreamName"),
        _p("DestinationName", "destinationName"),
        _p("DeliverySourceName", "deliverySourceName", "name"),
        _p("DeliveryDestinationName", "deliveryDestinationName", "name"),
        _p("DeliveryName", "id"),
        _p("LookupTableName", "lookupTableName"),
        _p("ScheduledQueryId", "identifier"),
    ),
    "cloudtrail": (
        _p("TrailName", "Name", "TrailName"),
        _p("EventDataStoreId", "EventDataStore", "EventDataStores[]"),
        _p("ChannelId", "Channel"),
        _p("DashboardName", "DashboardId"),
    ),
    "accessanalyzer": (
        _p("AnalyzerName", "analyzerName"),
        _p("RuleName", "ruleName"),
    ),
    # IAM: `*NameWithPath` variables are path-less names (the gateway fills the path in) unless the request
    # gives a `Path` (Create* operations). https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html
    "iam": (
        Parsed(ids.iam_name_with_path("RoleNameWithPath", "RoleName"), ("RoleName",), ("RoleNameWithPath",)),
        Parsed(ids.iam_name_with_path("UserNameWithPath", "UserName"), ("UserName",), ("UserNameWithPath",)),
        Parsed(ids.iam_name_with_path("GroupNameWithPath", "GroupName"), ("GroupName",),
               ("GroupNameWithPath",)),
        Parsed(ids.iam_name_with_path("PolicyNameWithPath", "PolicyName"), ("PolicyName",),
               ("PolicyNameWithPath",)),
        Parsed(ids.iam_name_with_path("InstanceProfileNameWithPath", "InstanceProfileName"),
               ("InstanceProfileName",), ("InstanceProfileNameWithPath",)),
        Parsed(ids.iam_name_with_path("CertificateNameWithPath", "ServerCertificateName"),
               ("ServerCertificateName",), ("CertificateNameWithPath",)),
        Parsed(ids.iam_name_with_path("MfaTokenIdWithPath", "VirtualMFADeviceName"),
               ("VirtualMFADeviceName",), ("MfaTokenIdWithPath",)),
        Parsed(ids.iam_mfa_serial, ("SerialNumber",), ("MfaTokenIdWithPath",)),
        Parsed(ids.iam_oidc_provider, ("Url",), ("OidcProviderName",)),
        Parsed(ids.iam_deletion_task, ("DeletionTaskId",), ("RoleNameWithPath",)),
        _p("SamlProviderName", "Name"),
        _p("EntityPath", "EntityPath"),
        _p("DelegationRequestId", "DelegationRequestId"),
    ),
    "sts": (
        _p("FederatedUserName", "Name"),
        _p("Account", "TargetPrincipal"),
    ),
    # EC2 resource IDs — https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
    "ec2": (
        _p("VpcId", "VpcId"),
        # ModifyVpcEndpoint attaches and detaches subnets, groups and route tables by Add*/Remove* lists
        _p("SubnetId", "SubnetId", "SubnetIds[]", "AddSubnetIds[]", "RemoveSubnetIds[]"),
        _p("SecurityGroupId", "GroupId", "Groups[]", "SecurityGroupIds[]", "AddSecurityGroupIds[]",
           "RemoveSecurityGroupIds[]"),
        _p("SecurityGroupRuleId", "SecurityGroupRules[].SecurityGroupRuleId", "SecurityGroupRuleIds[]"),
        _p("NetworkInterfaceId", "NetworkInterfaceId"),
        _p("VpcEndpointId", "VpcEndpointId", "VpcEndpointIds[]"),
        _p("RouteTableId", "RouteTableIds[]", "AddRouteTableIds[]", "RemoveRouteTableIds[]"),
        _p("KeyPairName", "KeyName"),  # CreateKeyPair, RunInstances: `key-pair/${KeyPairName}`
        _p("ImageId", "ImageId"),  # RunInstances: `image/${ImageId}`
    ),
}

ARN_PARAMS: dict[str, tuple[str, ...]] = {
    "lambda": ("Resource", "CodeSigningConfigArn", "DurableExecutionArn", "Arn", "CapacityProviderName"),
    "dynamodb": ("ResourceArn", "TableArn", "BackupArn", "ExportArn", "ImportArn", "SourceTableArn"),
    "s3": (),
    "sqs": ("SourceArn",),
    "sns": ("TopicArn", "ResourceArn"),
    "logs": ("resourceArn", "anomalyDetectorArn", "lookupTableArn", "deliveryDestinationArn",
             "destinationArn", "logGroupIdentifier", "logGroupIdentifiers[]", "logGroupArnList[]",
             "identifier"),
    "cloudtrail": ("Name", "TrailName", "ResourceArn", "ResourceId", "ResourceIdList[]", "EventDataStore",
                   "EventDataStores[]", "Channel", "DashboardId", "InsightSource"),
    "accessanalyzer": ("analyzerArn", "resourceArn"),
    "iam": ("PolicyArn", "OpenIDConnectProviderArn", "SAMLProviderArn", "Arn", "PolicySourceArn",
            "SerialNumber", "EntityArn"),
    "sts": ("RoleArn",),
    "ec2": (),
}

# Suffixes an ARN parameter may carry that are not part of the resource's ARN: DescribeLogGroups returns
# log group ARNs as `...:log-group:<name>:*`, and callers pass them back.
ARN_SUFFIXES: dict[str, tuple[str, ...]] = {"logs": (":*",)}

TEMPLATE_OVERRIDES: dict[tuple[str, str], str] = {
    # Lambda authorizes the ARN the caller addressed, qualified or not (spec §3.4).
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html
    ("lambda", "function"):
        "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}${QualifierSuffix}",
    # CloudWatch Logs evaluates log-group actions on `log-group:<name>:log-stream:` (observed in AWS's
    # AccessDenied messages: widdix/aws-cf-templates#308, elastic/apm-aws-lambda#526,
    # prowler-cloud/prowler#37, aws-ia/terraform-aws-eks-blueprints#1454), which is why policies need
    # `log-group:<name>:*`.
    ("logs", "log-group"): "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:",
}

DOMINATES: dict[tuple[str, str], tuple[str, ...]] = {
    # Query/Scan on an index are authorized on the index ARN, not the table's.
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
    ("dynamodb", "index"): ("table",),
}


# What AWS uses for a resource parameter the request leaves out. IAM API reference: "If you do not specify
# a user name, IAM determines the user name implicitly based on the Amazon Web Services access key ID
# signing the request"; GetAccessKeyLastUsed acts on the key's owner.
IMPLICIT: dict[tuple[str, str], dict[str, str]] = {
    ("iam", "*"): {"UserName": "caller"},
    ("iam", "GetAccessKeyLastUsed"): {"UserName": "access-key-owner"},
}


def implicit(service: str, operation: str, missing: tuple[str, ...]) -> dict[str, str]:
    table = IMPLICIT.get((service, operation)) or IMPLICIT.get((service, "*"), {})
    return {param: meaning for param, meaning in table.items() if param in missing}


def bind(service: str, params: Mapping[str, object], extra: tuple[Source, ...] = ()) -> Bindings:
    """All template variables the request parameters give (later sources override earlier ones)."""
    out: Bindings = {}
    for source in (*SOURCES.get(service, ()), *extra):
        out.update(source.bind(params))
    return out


def params_for(service: str, var: str, extra: tuple[Source, ...] = ()) -> tuple[str, ...]:
    """The request parameters that would give template variable `var` (for error messages)."""
    out: list[str] = []
    for source in (*extra, *SOURCES.get(service, ())):
        if var in source.vars:
            out.extend(p for p in source.params if p not in out)
    return tuple(out)
