"""Lambda operations whose authorization differs from "the IAM action of the same name"."""

from __future__ import annotations

from .model import Need, Rule, When

_API_REF = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html"
_VPC = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html"
_LAYERS = "https://docs.aws.amazon.com/lambda/latest/dg/permissions-user-layer.html"

# iam:PassRole on the execution role, as Lambda checks it (spec §3.1.1).
_PASS_ROLE = Need("iam:PassRole", arn=("Role",), context={"iam:PassedToService": "lambda.amazonaws.com"})
# lambda:GetLayerVersion on every layer version the function uses; cross-account layers need the layer's
# resource policy (observed: "is not authorized to perform: lambda:GetLayerVersion on resource:
# arn:aws:lambda:us-east-1:667743079194:layer:serverless-bash:35", crucial-project/serverless-shell#2).
_LAYER_VERSIONS = Need("lambda:GetLayerVersion", each="Layers[]", arn=(".",))
# The caller of a VPC configuration needs these (spec §3.1.4).
_VPC_DESCRIBE = tuple(
    Need(action, when=(When("VpcConfig.SubnetIds[]"),), star=True)
    for action in ("ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs")
)

RULES: tuple[Rule, ...] = (
    # Invoke is authorized as lambda:InvokeFunction, and so is the deprecated InvokeAsync (spec §1.3).
    Rule("lambda", "Invoke", (Need("lambda:InvokeFunction"),), "spec §1.3; " + _API_REF),
    Rule("lambda", "InvokeAsync", (Need("lambda:InvokeFunction"),), "spec §1.3; " + _API_REF),
    # "This operation requires permission for the lambda:InvokeFunction action." (API reference)
    Rule("lambda", "InvokeWithResponseStream", (Need("lambda:InvokeFunction"),),
         "https://docs.aws.amazon.com/lambda/latest/api/API_InvokeWithResponseStream.html"),
    # GetLayerVersionByArn is GetLayerVersion addressed by ARN (`Arn`).
    Rule("lambda", "GetLayerVersionByArn", (Need("lambda:GetLayerVersion"),),
         "https://docs.aws.amazon.com/lambda/latest/api/API_GetLayerVersionByArn.html; " + _API_REF),
    Rule("lambda", "CreateFunction",
         (Need("lambda:CreateFunction"), _PASS_ROLE, _LAYER_VERSIONS, *_VPC_DESCRIBE,
          # "lambda:TagResource – Grant this permission to anyone who needs to call TagResource or perform a tag
          # on create" (configuration-tags.html). Review round 1.
          Need("lambda:TagResource", when=(When("Tags"),), types=("function",))),
         f"spec §3.1; {_LAYERS}; {_VPC}; https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html"),
    Rule("lambda", "UpdateFunctionConfiguration",
         (Need("lambda:UpdateFunctionConfiguration"),
          Need(_PASS_ROLE.action, when=(When("Role"),), arn=_PASS_ROLE.arn, context=_PASS_ROLE.context),
          _LAYER_VERSIONS, *_VPC_DESCRIBE),
         f"spec §3.1; {_LAYERS}; {_VPC}"),
    # Event source mappings: resource `*` (the reference lists no resource type for the create), with
    # lambda:FunctionArn as the condition key (spec §3.7).
    # An update that names another function: lambda:FunctionArn could be the mapping's or the new one.
    Rule("lambda", "UpdateEventSourceMapping",
         (Need("lambda:UpdateEventSourceMapping", when=(When("FunctionName", "absent"),)),
          Need("lambda:UpdateEventSourceMapping", when=(When("FunctionName"),), unsupplied=("lambda:FunctionArn",))),
         _API_REF),
    # lambda:FunctionUrlAuthType is "the authorization type specified in request"; an update that specifies none
    # keeps the URL's, and which value AWS evaluates then is not documented: unsupplied (review round 6).
    Rule("lambda", "UpdateFunctionUrlConfig",
         (Need("lambda:UpdateFunctionUrlConfig", when=(When("AuthType"),)),
          Need("lambda:UpdateFunctionUrlConfig", when=(When("AuthType", "absent"),),
               unsupplied=("lambda:FunctionUrlAuthType",))),
         "https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-conditions.html"),
    Rule("lambda", "CreateEventSourceMapping", (Need("lambda:CreateEventSourceMapping", star=True),),
         "spec §3.7; " + _API_REF),
)
