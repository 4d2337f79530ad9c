"""CloudTrail for lambdaperm: records in the real JSON format (eventVersion 1.11), their SQLite store,
LookupEvents with AWS's rules, and trail log files in the S3 layout CloudTrail delivers.

Standard library only. https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference.html
"""

from .errors import LookupEventsError, TrailError
from .export import DELIVERY_WINDOW, export, log_file_key
from .identity import ANONYMOUS_IDENTITY, IDENTITY_KINDS, IdentityKind, iso_seconds, user_identity
from .lookup import LOOKUP_ATTRIBUTE_KEYS, LOOKUP_WINDOW, MAX_RESULTS, lookup_username, resource_name
from .record import (
    EVENT_CATEGORIES,
    EVENT_SOURCES,
    EVENT_TYPES,
    EVENT_VERSION,
    build_record,
    event_source_for,
    parse_event_time,
)
from .store import SCHEMA_VERSION, TrailStore

__all__ = [
    "ANONYMOUS_IDENTITY", "DELIVERY_WINDOW", "EVENT_CATEGORIES", "EVENT_SOURCES", "EVENT_TYPES",
    "EVENT_VERSION", "IDENTITY_KINDS", "LOOKUP_ATTRIBUTE_KEYS", "LOOKUP_WINDOW", "MAX_RESULTS",
    "SCHEMA_VERSION", "IdentityKind", "LookupEventsError", "TrailError", "TrailStore", "build_record",
    "event_source_for", "export", "iso_seconds", "log_file_key", "lookup_username", "parse_event_time",
    "resource_name", "user_identity",
]
