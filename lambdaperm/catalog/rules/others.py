"""Exception rows for IAM, STS, SQS, SNS, CloudWatch Logs, CloudTrail, Access Analyzer and EC2."""

from __future__ import annotations

from collections.abc import Mapping

from .. import identifiers as ids
from ..bindings import Param, Parsed
from .model import Derived, Need, Rule, When

_STS = "https://docs.aws.amazon.com/STS/latest/APIReference"
_SQS = ("https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/"
        "sqs-api-permissions-reference.html")
_SNS = "https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-language-api-permissions-reference.html"
_EC2 = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html"

# EC2 resource IDs carry their type in the prefix (CreateTags/DeleteTags take a list of any of them).
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html
EC2_ID_TYPES: dict[str, tuple[str, str]] = {
    "vpc-": ("vpc", "VpcId"),
    "subnet-": ("subnet", "SubnetId"),
    "sg-": ("security-group", "SecurityGroupId"),
    "sgr-": ("security-group-rule", "SecurityGroupRuleId"),
    "eni-": ("network-interface", "NetworkInterfaceId"),
    "vpce-": ("vpc-endpoint", "VpcEndpointId"),
    "rtb-": ("route-table", "RouteTableId"),
    "igw-": ("internet-gateway", "InternetGatewayId"),
    "acl-": ("network-acl", "NaclId"),
    "i-": ("instance", "InstanceId"),
}


def ec2_resource_id(value: object) -> list[Derived]:
    """`vpc-0abc` → the vpc resource type with VpcId bound."""
    if not isinstance(value, str):
        return []
    for prefix, (type_name, var) in EC2_ID_TYPES.items():
        if value.startswith(prefix):
            return [Derived(None, {var: (value,)}, (type_name,))]
    return []


_EC2_TAGGING = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html"


def _ec2_create(op: str, var: str, kind: str) -> Rule:
    """A create is authorized on the new resource before it has an ID (`vpc/*`) and on what it uses.

    Tags in its TagSpecifications are also authorized as ec2:CreateTags on the new resource, with `ec2:CreateAction`
    the create's name: "If tags are specified in the resource-creating action, Amazon performs additional
    authorization on the ec2:CreateTags action to verify if users have permissions to create tags" (condition keys
    review round 8: the create alone was decided, and a user denied ec2:CreateTags tagged the new resource)."""
    return Rule("ec2", op, (Need(f"ec2:{op}", fixed={var: "*"}), _ec2_tag_on_create(op, var, kind)),
                f"{_EC2}; {_EC2_TAGGING}")


def _logs_tag_on_create(kind: str, fixed: Mapping[str, str]) -> Need:
    """Tags given to a CloudWatch Logs create are also logs:TagResource on the new resource: "User ... is not
    authorized to perform CreateLogGroup with Tags. An additional permission "logs:TagResource" is required"
    (observed, DataDog/cloudformation-template#61), read as the service's rule for every resource type
    logs:TagResource lists (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html).
    Review round 9."""
    return Need("logs:TagResource", when=(When("tags"),), types=(kind,), fixed=dict(fixed))


def _ec2_tag_on_create(op: str, var: str, kind: str) -> Need:
    """ec2:CreateTags on the `kind` resource `op` creates, when its TagSpecifications carry tags."""
    return Need(
        "ec2:CreateTags",
        when=(When("TagSpecifications[].Tags[]"),),
        fixed={var: "*"},
        types=(kind,),
        isolate=True,
        context={"ec2:CreateAction": op},
        # the new endpoint's service is the request's, but the key is not read from the request on CreateTags
        # (round 4: a CreateTags call names no service): unsupplied here too
        unsupplied=("ec2:VpceServiceName",) if kind == "vpc-endpoint" else (),
    )


def _ec2_rule_create(op: str) -> Rule:
    """AuthorizeSecurityGroupIngress/Egress create security group rules; their TagSpecifications tag the new rules
    (ec2:CreateTags on `security-group-rule/*`, review round 8)."""
    return Rule("ec2", op, (Need(f"ec2:{op}"), _ec2_tag_on_create(op, "SecurityGroupRuleId", "security-group-rule")),
                f"{_EC2}; {_EC2_TAGGING}")


_TAG_SESSION = Need("sts:TagSession", when=(When("", "any_present", ("Tags", "TransitiveTagKeys")),))
_SOURCE_IDENTITY = Need("sts:SetSourceIdentity", when=(When("SourceIdentity"),))

RULES: tuple[Rule, ...] = (
    # --- STS ---
    # "No permissions are required to perform this operation" (and explicit denies don't apply).
    Rule("sts", "GetCallerIdentity", (), f"{_STS}/API_GetCallerIdentity.html; spec §4.2"),
    # "No permissions are required for users to perform this operation."
    Rule("sts", "GetSessionToken", (), f"{_STS}/API_GetSessionToken.html"),
    # Session tags need sts:TagSession, a source identity sts:SetSourceIdentity (spec §4.2).
    Rule("sts", "AssumeRole", (Need("sts:AssumeRole"), _TAG_SESSION, _SOURCE_IDENTITY),
         "spec §4.2; https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html"),
    # --- IAM ---
    # "The caller of this operation must be granted the PassRole permission on the IAM role."
    # The service the role is passed to is not documented: iam:PassedToService is undecidable there.
    Rule("iam", "AddRoleToInstanceProfile",
         (Need("iam:AddRoleToInstanceProfile"), Need("iam:PassRole", unsupplied=("iam:PassedToService",))),
         "https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddRoleToInstanceProfile.html"),
    # Renames need permission on the old and on the new name.
    Rule("iam", "UpdateUser",
         (Need("iam:UpdateUser", sources=(Param("UserNameWithPath", ("UserName", "NewUserName")),)),),
         "https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateUser.html"),
    Rule("iam", "UpdateGroup",
         (Need("iam:UpdateGroup", sources=(Param("GroupNameWithPath", ("GroupName", "NewGroupName")),)),),
         "https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateGroup.html"),
    Rule("iam", "UpdateServerCertificate",
         (Need("iam:UpdateServerCertificate",
               sources=(Param("CertificateNameWithPath",
                              ("ServerCertificateName", "NewServerCertificateName")),)),),
         "https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateServerCertificate.html"),
    # Without UserName, ListMFADevices lists the caller's own devices: authorized on the caller's user
    # (the reference marks the type optional; `*` would miss `user/${aws:username}` policies).
    Rule("iam", "ListMFADevices", (Need("iam:ListMFADevices", types=("user",)),),
         "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_configure-api-require.html"),
    # A delegation request does not exist before it is created: `delegation-request/*`.
    Rule("iam", "CreateDelegationRequest",
         (Need("iam:CreateDelegationRequest", fixed={"DelegationRequestId": "*"}),),
         "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html"),
    Rule("iam", "CreateServiceLinkedRole",
         (Need("iam:CreateServiceLinkedRole",
               sources=(Parsed(ids.iam_service_linked_role, ("AWSServiceName", "CustomSuffix"),
                               ("RoleNameWithPath",)),)),),
         "https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html"),
    # Tag on create: "To add tags when you create a role, you must have permission for both iam:CreateRole and
    # iam:TagRole" (id_tags_roles.html); the same for users (iam:TagUser, id_tags_users.html) and managed
    # policies (iam:TagPolicy, id_tags_customer-managed-policies.html). Review round 1.
    Rule("iam", "CreateUser", (Need("iam:CreateUser"), Need("iam:TagUser", when=(When("Tags[]"),))),
         "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_users.html; access_iam-tags.html"),
    Rule("iam", "CreateRole", (Need("iam:CreateRole"), Need("iam:TagRole", when=(When("Tags[]"),))),
         "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_roles.html; access_iam-tags.html"),
    Rule("iam", "CreatePolicy", (Need("iam:CreatePolicy"), Need("iam:TagPolicy", when=(When("Tags[]"),))),
         "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_customer-managed-policies.html"),
    Rule("iam", "CreateInstanceProfile",
         (Need("iam:CreateInstanceProfile"), Need("iam:TagInstanceProfile", when=(When("Tags[]"),))),
         "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_instance-profiles.html"),
    # --- SQS: batch actions use the permission of the single action. ---
    Rule("sqs", "SendMessageBatch", (Need("sqs:SendMessage"),), _SQS),
    Rule("sqs", "DeleteMessageBatch", (Need("sqs:DeleteMessage"),), _SQS),
    Rule("sqs", "ChangeMessageVisibilityBatch", (Need("sqs:ChangeMessageVisibility"),), _SQS),
    # "Tagging at CreateQueue needs both sqs:CreateQueue and sqs:TagQueue" (spec §12.5; sqs-queue-tags.html).
    Rule("sqs", "CreateQueue", (Need("sqs:CreateQueue"), Need("sqs:TagQueue", when=(When("tags"),))),
         _SQS + "; https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-tags.html"),
    # --- SNS ---
    # "sns:Publish: Grants permission to both publish and publish batch to a topic or endpoint."
    Rule("sns", "PublishBatch", (Need("sns:Publish"),), _SNS),
    # "Tagging at CreateTopic needs sns:CreateTopic + sns:TagResource" (spec §12.5).
    Rule("sns", "CreateTopic", (Need("sns:CreateTopic"), Need("sns:TagResource", when=(When("Tags[]"),))),
         _SNS + "; https://docs.aws.amazon.com/sns/latest/dg/sns-tags.html"),
    # Publish to a topic (TopicArn), to a mobile endpoint (TargetArn: the endpoint ARN is the resource), or
    # a direct SMS (PhoneNumber: no resource, `*`).
    Rule("sns", "Publish",
         (Need("sns:Publish", when=(When("TopicArn"),)),
          Need("sns:Publish", when=(When("TargetArn"),), arn=("TargetArn",)),
          Need("sns:Publish", when=(When("PhoneNumber"),), star=True)),
         _SNS + "; https://docs.aws.amazon.com/sns/latest/dg/sms_publish-to-phone.html"),
    # --- CloudWatch Logs ---
    # "User with accountId: ... is not authorized to perform CreateLogGroup with Tags. An additional
    # permission "logs:TagResource" is required." (observed: DataDog/cloudformation-template#61)
    Rule("logs", "CreateLogGroup",
         (Need("logs:CreateLogGroup"), Need("logs:TagResource", when=(When("tags"),), types=("log-group",))),
         "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html"),
    # Observed resource: "logs:DescribeLogGroups on resource:
    # arn:aws:logs:us-east-1:...:log-group::log-stream:" (FormidableLabs/terraform-aws-serverless#49), also with
    # a name prefix (maxbanton/cwh#83); the reference lists no resource type for the action, so the groups a
    # request names in `logGroupIdentifiers` (names or ARNs) are not resources of the check.
    Rule("logs", "DescribeLogGroups",
         (Need("logs:DescribeLogGroups", fixed={"LogGroupName": ""}, types=("log-group",), by_arn=False),),
         "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/permissions-reference-cwl.html"),
    Rule("logs", "CreateScheduledQuery",
         (Need("logs:CreateScheduledQuery", fixed={"ScheduledQueryId": "*"}),
          _logs_tag_on_create("scheduled-query", {"ScheduledQueryId": "*"})),
         "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html"),
    # The same tag-on-create check for every other CloudWatch Logs create that takes `tags` (review round 9): the
    # service's tagging action, logs:TagResource, lists each of these resource types; a resource the service names
    # (a delivery, an anomaly detector) is `<type>:*`.
    *(Rule("logs", op, (Need(f"logs:{op}"), _logs_tag_on_create(kind, fixed)),
           "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html")
      for op, kind, fixed in (
          ("PutDeliveryDestination", "delivery-destination", {}),
          ("PutDeliverySource", "delivery-source", {}),
          ("CreateDelivery", "delivery", {"DeliveryName": "*"}),
          ("CreateLogAnomalyDetector", "anomaly-detector", {"DetectorId": "*"}),
          ("CreateLookupTable", "lookup-table", {}),
      )),
    # "To perform a PutDestination operation, you must also have the iam:PassRole permission" on `roleArn`, the
    # role Logs assumes to write to the destination's stream (region/account review round 10: a user denied the
    # role, or another account, stored it).
    Rule("logs", "PutDestination",
         (Need("logs:PutDestination"), _logs_tag_on_create("destination", {}),
          Need("iam:PassRole", arn=("roleArn",), context={"iam:PassedToService": "logs.amazonaws.com"})),
         "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutDestination.html"),
    # --- CloudTrail ---
    # "linked to the cloudtrail:LookupEvents action and cloudtrail:ListInsightsData" (with TrailName).
    Rule("cloudtrail", "ListInsightsMetricData",
         (Need("cloudtrail:LookupEvents"), Need("cloudtrail:ListInsightsData", when=(When("TrailName"),))),
         "https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_ListInsightsMetricData.html"),
    Rule("cloudtrail", "CreateEventDataStore",
         (Need("cloudtrail:CreateEventDataStore", fixed={"EventDataStoreId": "*"}),),
         "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudtrail.html"),
    Rule("cloudtrail", "CreateChannel",
         (Need("cloudtrail:CreateChannel", fixed={"ChannelId": "*"}, types=("channel",)),
          Need("cloudtrail:CreateChannel", arn=("Destinations[].Location",))),
         "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudtrail.html"),
    Rule("cloudtrail", "CreateDashboard",
         (Need("cloudtrail:CreateDashboard", sources=(Param("DashboardName", ("Name",)),)),),
         "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudtrail.html"),
    # --- Access Analyzer ---
    # "GetFinding and GetFindingV2 both use access-analyzer:GetFinding" (same for ListFindingsV2).
    Rule("accessanalyzer", "GetFindingV2", (Need("access-analyzer:GetFinding"),),
         "https://docs.aws.amazon.com/access-analyzer/latest/APIReference/API_GetFindingV2.html"),
    Rule("accessanalyzer", "ListFindingsV2", (Need("access-analyzer:ListFindings"),),
         "https://docs.aws.amazon.com/access-analyzer/latest/APIReference/API_ListFindingsV2.html"),
    # --- EC2 ---
    _ec2_create("CreateVpc", "VpcId", "vpc"),
    _ec2_create("CreateSubnet", "SubnetId", "subnet"),
    _ec2_create("CreateSecurityGroup", "SecurityGroupId", "security-group"),
    _ec2_create("CreateNetworkInterface", "NetworkInterfaceId", "network-interface"),
    _ec2_create("CreateVpcEndpoint", "VpcEndpointId", "vpc-endpoint"),
    # issue 8 §5. A key pair is named by the request (`key-pair/${KeyPairName}`); tags given to it are also
    # ec2:CreateTags on it.
    Rule("ec2", "CreateKeyPair",
         (Need("ec2:CreateKeyPair"),
          Need("ec2:CreateTags", when=(When("TagSpecifications[].Tags[]"),), types=("key-pair",), isolate=False,
               context={"ec2:CreateAction": "CreateKeyPair"})),
         f"{_EC2}; {_EC2_TAGGING}"),
    # RunInstances is decided on the new instance, its network interface and volumes (no IDs yet: `*`) and on
    # what the request names (image, subnet, security groups, key pair); then refused 501 (dataplane/ec2_instances).
    Rule("ec2", "RunInstances",
         (Need("ec2:RunInstances", fixed={"InstanceId": "*", "NetworkInterfaceId": "*", "VolumeId": "*"}),),
         f"{_EC2}; https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ExamplePolicies_EC2.html#iam-example-runinstances"),
    _ec2_rule_create("AuthorizeSecurityGroupIngress"),
    _ec2_rule_create("AuthorizeSecurityGroupEgress"),
    # A CreateTags call of its own: which resource-creating action (ec2:CreateAction) AWS reports, if any, is not
    # documented: unsupplied, as it was before the key was supplied on a tag on create (review round 8).
    Rule("ec2", "CreateTags",
         (Need("ec2:CreateTags", each="Resources[]", derive=ec2_resource_id, unsupplied=("ec2:CreateAction",)),),
         _EC2),
    # DeleteTags without `Tags` deletes every user-defined tag of the resources; which aws:TagKeys AWS evaluates then
    # is not documented: unsupplied (condition keys review round 10), not absent — absent, a ForAllValues Allow on
    # the keys would let it delete every tag and a ForAnyValue Deny would not apply.
    Rule("ec2", "DeleteTags",
         (Need("ec2:DeleteTags", each="Resources[]", derive=ec2_resource_id, when=(When("^Tags"),)),
          Need("ec2:DeleteTags", each="Resources[]", derive=ec2_resource_id, when=(When("^Tags", "absent"),),
               unsupplied=("aws:TagKeys",))),
         "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteTags.html"),
)
