"""CloudTrail's `eventName` of a call: the API operation's name, except Lambda's management events, which carry
the API version they were made against — `CreateFunction20150331`, `UpdateFunctionCode20150331v2`,
`TagResource20170331v2`, `PublishLayerVersion20181031` — as AWS records them ("The eventName might include
date and version information, such as GetFunction20150331v2, but it still refers to the same public API").
https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html

The spellings are those of AWS's records (the versions are the dates of the operations' request URIs; the `v2`
ones are what current SDKs call). Operations absent from the table (function URL configs, event invoke configs,
concurrency reads, account settings, Invoke, a data event) are recorded under their plain name.
"""

from __future__ import annotations

from collections.abc import Mapping

_LAMBDA: Mapping[str, str] = {
    "CreateFunction": "CreateFunction20150331",
    "GetFunction": "GetFunction20150331v2",
    "GetFunctionConfiguration": "GetFunctionConfiguration20150331v2",
    "UpdateFunctionCode": "UpdateFunctionCode20150331v2",
    "UpdateFunctionConfiguration": "UpdateFunctionConfiguration20150331v2",
    "DeleteFunction": "DeleteFunction20150331",
    "ListFunctions": "ListFunctions20150331",
    "PublishVersion": "PublishVersion20150331",
    "ListVersionsByFunction": "ListVersionsByFunction20150331",
    "CreateAlias": "CreateAlias20150331",
    "GetAlias": "GetAlias20150331",
    "UpdateAlias": "UpdateAlias20150331",
    "DeleteAlias": "DeleteAlias20150331",
    "ListAliases": "ListAliases20150331",
    "AddPermission": "AddPermission20150331v2",
    "GetPolicy": "GetPolicy20150331v2",
    "RemovePermission": "RemovePermission20150331v2",
    "ListTags": "ListTags20170331",
    "TagResource": "TagResource20170331v2",
    "UntagResource": "UntagResource20170331v2",
    "CreateEventSourceMapping": "CreateEventSourceMapping20150331",
    "GetEventSourceMapping": "GetEventSourceMapping20150331",
    "UpdateEventSourceMapping": "UpdateEventSourceMapping20150331",
    "DeleteEventSourceMapping": "DeleteEventSourceMapping20150331",
    "ListEventSourceMappings": "ListEventSourceMappings20150331",
    "PutFunctionConcurrency": "PutFunctionConcurrency20171031",
    "DeleteFunctionConcurrency": "DeleteFunctionConcurrency20171031",
    "PublishLayerVersion": "PublishLayerVersion20181031",
    "GetLayerVersion": "GetLayerVersion20181031",
    "GetLayerVersionByArn": "GetLayerVersionByArn20181031",
    "ListLayers": "ListLayers20181031",
    "ListLayerVersions": "ListLayerVersions20181031",
    "DeleteLayerVersion": "DeleteLayerVersion20181031",
    "AddLayerVersionPermission": "AddLayerVersionPermission20181031",
    "GetLayerVersionPolicy": "GetLayerVersionPolicy20181031",
    "RemoveLayerVersionPermission": "RemoveLayerVersionPermission20181031",
}
_BY_SERVICE: Mapping[str, Mapping[str, str]] = {"lambda": _LAMBDA}


def event_name(service: str, operation: str) -> str:
    """The `eventName` CloudTrail records for `operation` of the botocore service `service`."""
    return _BY_SERVICE.get(service, {}).get(operation, operation)
