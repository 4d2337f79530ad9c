"""botocore's service models, loaded once, and the indexes that find a model from what a request carries:
the SigV4 signing name, the X-Amz-Target prefix, the query `Version`, the host's endpoint prefix.

AWS SigV4 credential scopes name the *signing name* of a service (`metadata.signingName`, falling back to
`metadata.endpointPrefix`): https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import cache

from botocore.loaders import Loader  # type: ignore[import-untyped]
from botocore.model import OperationModel, ServiceModel, Shape  # type: ignore[import-untyped]

# The services this endpoint serves (botocore service names). Adding one here makes every index below
# know it; the protocols themselves are driven by the model.
SUPPORTED_SERVICES: tuple[str, ...] = (
    "iam",
    "sts",
    "dynamodb",
    "cloudtrail",
    "logs",
    "sqs",
    "sns",
    "ec2",
    "lambda",
    "accessanalyzer",
    "s3",
)


@cache
def _loader() -> Loader:
    """botocore's data loader (a botocore Session would import the whole client stack: ~0.3 s at start-up)."""
    return Loader()


_LOADING = threading.Lock()


@cache
def service_model(service_name: str) -> ServiceModel:
    """The botocore model of one service (cached; loading EC2's takes ~0.2 s)."""
    with _LOADING:
        return ServiceModel(_loader().load_service_model(service_name, "service-2"), service_name=service_name)


@cache
def operation_model(service_name: str, operation_name: str) -> OperationModel:
    return service_model(service_name).operation_model(operation_name)


@cache
def operation_names(service_name: str) -> frozenset[str]:
    return frozenset(service_model(service_name).operation_names)


def protocol_of(service_name: str) -> str:
    """The wire protocol this botocore speaks to the service (`query`, `ec2`, `json`, `rest-json`,
    `rest-xml`): the first of the model's `protocols` in botocore's priority order."""
    return str(service_model(service_name).resolved_protocol)


def is_query_compatible(service_name: str) -> bool:
    """A JSON service that still accepts (and answers) the query protocol (SQS: `awsQueryCompatible`)."""
    return "awsQueryCompatible" in service_model(service_name).metadata


def signing_name_of(service_name: str) -> str:
    metadata = service_model(service_name).metadata
    return str(metadata.get("signingName") or metadata["endpointPrefix"])


@cache
def _signing_index() -> Mapping[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for name in SUPPORTED_SERVICES:
        index.setdefault(signing_name_of(name), []).append(name)
    return {key: tuple(value) for key, value in index.items()}


def services_for_signing_name(signing_name: str) -> tuple[str, ...]:
    """The supported services signed with this name (the credential scope's service), e.g.
    `access-analyzer` → (`accessanalyzer`,). Several services may share one signing name."""
    return _signing_index().get(signing_name, ())


@cache
def _target_index() -> Mapping[str, str]:
    index: dict[str, str] = {}
    for name in SUPPORTED_SERVICES:
        prefix = service_model(name).metadata.get("targetPrefix")
        if prefix:
            index[str(prefix)] = name
    return index


def service_for_target_prefix(prefix: str) -> str | None:
    """The JSON service whose `X-Amz-Target` starts with this prefix (`DynamoDB_20120810`)."""
    return _target_index().get(prefix)


@cache
def _query_version_index() -> Mapping[str, str]:
    index: dict[str, str] = {}
    for name in SUPPORTED_SERVICES:
        if protocol_of(name) in ("query", "ec2") or is_query_compatible(name):
            index[str(service_model(name).metadata["apiVersion"])] = name
    return index


def service_for_query_version(version: str) -> str | None:
    """The query-protocol service whose API version this is (`Version=2011-06-15` → `sts`)."""
    return _query_version_index().get(version)


@cache
def _endpoint_index() -> Mapping[str, str]:
    index: dict[str, str] = {}
    for name in SUPPORTED_SERVICES:
        metadata = service_model(name).metadata
        index.setdefault(str(metadata["endpointPrefix"]), name)
    return index


def service_for_endpoint_prefix(prefix: str) -> str | None:
    """The service whose AWS host starts with this label (`iam.amazonaws.com` → `iam`)."""
    return _endpoint_index().get(prefix)


@cache
def _error_index(service_name: str) -> Mapping[str, Shape]:
    index: dict[str, Shape] = {}
    for shape in service_model(service_name).error_shapes:
        index.setdefault(shape.name, shape)
        code = shape.error_code
        if code:
            index.setdefault(code, shape)
    return index


def error_shape(service_name: str, code: str) -> Shape | None:
    """The modelled error shape of a wire code or shape name (`NoSuchEntity`, `NoSuchEntityException`)."""
    return _error_index(service_name).get(code)
