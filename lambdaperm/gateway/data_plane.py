"""A data-plane call after authorization: executed exactly as authorized.

Embedded backend: the parsed parameters are brought to their one canonical form (`canonical_params`), the
region is the signed credential scope's, the account the one the authorization decided on; the backend
gets only the canonical re-serialization of that call, and its reply is parsed and re-serialized by our
own serializer (the output also goes to the trail). Nothing of the client's bytes, headers or host reaches
the backend.

Upstream (`--upstream URL`): the signed bytes must be forwarded unchanged, so instead of re-serializing,
anything the upstream could read differently from us is refused: the protocol layer's one-reading rules
(repeated or misplaced parameters, content types, X-Amz-Target, regions) and `upstream_reading`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambdaperm.catalog import RequiredAction
from lambdaperm.dataplane import (
    MotoBackend,
    bucket_registry,
    deliveries,
    dynamodb_policies,
    dynamodb_tag_targets,
    ec2_dry_run,
    ec2_endpoint_regions,
    ec2_endpoints,
    ec2_foreign_ids,
    ec2_group_names,
    ec2_instances,
    enum_values,
    logs_delivery_sources,
    logs_exports,
    pagination_tokens,
    partiql_support,
    s3_checksums,
    s3_expected_owner,
    s3_grant_headers,
    s3_public_policies,
    s3_support,
    s3_trailers,
    s3_xml_whitespace,
    sns_confirmation,
    sns_protocols,
    unperformed_settings,
    upstream_reading,
)
from lambdaperm.dataplane.canonical_params import canonical_params, queue_url_parts
from lambdaperm.dataplane.dynamodb_expressions import check_expressions
from lambdaperm.dataplane.dynamodb_legacy_conditions import check as check_legacy_conditions
from lambdaperm.dataplane.dynamodb_parameter_families import check as check_parameter_families
from lambdaperm.dataplane.dynamodb_read_projection import check as check_read_projection
from lambdaperm.dataplane.dynamodb_read_projection import project as read_projection
from lambdaperm.dataplane.dynamodb_tagging import check_tag_keys
from lambdaperm.dataplane.dynamodb_transact_projection import check as check_transact_projection
from lambdaperm.dataplane.dynamodb_transact_projection import project as transact_projection
from lambdaperm.dataplane.ec2_groups import check_groups
from lambdaperm.dataplane.exclusive_members import check as check_exclusive_members
from lambdaperm.dataplane.logs_stream_prefix import check as check_stream_prefix
from lambdaperm.dataplane.logs_subscriptions import check_destination
from lambdaperm.dataplane.moto_backend import BackendResult
from lambdaperm.dataplane.partiql_insert_tail import check as check_insert_tail
from lambdaperm.dataplane.partiql_key_updates import check as check_partiql_key_updates
from lambdaperm.dataplane.partiql_parameters import canonical as partiql_canonical
from lambdaperm.dataplane.partiql_parameters import check as check_partiql_parameters
from lambdaperm.dataplane.partiql_returning import check as check_partiql_returning
from lambdaperm.dataplane.s3_buckets import bucket_owner, bucket_region, check_bucket_region
from lambdaperm.dataplane.s3_list_max_keys import check as check_list_max_keys
from lambdaperm.dataplane.s3_list_max_keys import check_answer as list_max_keys
from lambdaperm.dataplane.s3_object_versions import check as check_object_version
from lambdaperm.dataplane.s3_retention import check as check_retention
from lambdaperm.dataplane.s3_tagging import check_tags
from lambdaperm.dataplane.s3_tagging_keys import check_key
from lambdaperm.dataplane.s3_uploads import check_upload
from lambdaperm.dataplane.sns_message_structure import check as check_message_structure
from lambdaperm.dataplane.sqs_attribute_values import check as check_sqs_values
from lambdaperm.dataplane.sqs_deletions import lifecycle
from lambdaperm.dataplane.sqs_message_attribute_names import check as check_sqs_attribute_names
from lambdaperm.dataplane.sqs_message_system_attributes import check as check_sqs_system_attributes
from lambdaperm.dataplane.sqs_redrive import check_redrive
from lambdaperm.dataplane.unexecuted_parameters import check as check_unexecuted
from lambdaperm.protocol import HttpResponse, Operation, ServiceError, serialize
from lambdaperm.protocol.region import known_regions
from lambdaperm.state.identity import Identity

from . import events, multi_delete, policy_reads, policy_writes
from .call import Call

if TYPE_CHECKING:
    from .server import Server

# S3 operations that name a bucket that need not exist in the signed region yet
_S3_NO_REGION_CHECK = frozenset({"CreateBucket", "ListBuckets", "ListDirectoryBuckets"})


def run(server: Server, call: Call, op: Operation, params: dict[str, Any],
        identity: Identity) -> tuple[HttpResponse, dict[str, Any] | None]:
    account = acting_account(call, identity)
    if (op.service_name == "s3" and isinstance(params.get("Bucket"), str) and op.name != "CreateBucket"
            and isinstance(server.dataplane, MotoBackend)):
        # S3 ARNs name no account: a bucket is acted on in its owner's account (the one the authorization
        # took as the resource account), never in the caller's through moto's cross-account fallback;
        # CreateBucket acts in the caller's (a name another account holds is BucketAlreadyExists)
        account = bucket_owner(params["Bucket"]) or account
    # DynamoDB table policies: a call across accounts only where DynamoDB supports it; a resource-policy call on
    # a table or stream ARN of the account acted in (dynamodb_policies, implicit accesses round 10 follow-up)
    dynamodb_policies.check_cross_account(op.service_name, op.name, account, identity.account, identity.caller.arn)
    dynamodb_policies.check_resource_arn(op.service_name, op.name, params, account, call.region)
    pins = policy_writes.check(op.service_name, op.name, params, server.records, account, call.region)
    check_groups(op.service_name, op.name, params)  # a security group by ID only, and by one member
    check_exclusive_members(op.service_name, op.name, params)  # documented alternatives given together (round 24)
    check_stream_prefix(op.service_name, op.name, params)  # a filter the backend ignores: 501 (round 24)
    check_message_structure(op.service_name, op.name, params)  # MessageStructure=json as SNS reads it (round 24)
    check_sqs_values(op.service_name, op.name, params)  # SQS attribute values as SQS reads them
    check_sqs_attribute_names(op.service_name, op.name, params)  # message attribute names' rules (round 25)
    check_sqs_system_attributes(op.service_name, op.model, params)  # AWSTraceHeader of type String only (round 26)
    check_tags(op.service_name, op.name, params)  # an S3 tag key once
    s3_xml_whitespace.check(op.service_name, op.model, params)  # an S3 XML value moto would strip
    s3_trailers.check(op.service_name, call.req)  # an aws-chunked trailer: an announced checksum only
    check_tag_keys(op.service_name, op.name, params)  # a DynamoDB tag key once
    enum_values.check(op.service_name, op.model, params)  # an enum as the service reads it (round 12)
    s3_grant_headers.check(op.service_name, op.model, params)  # grantees as S3 reads them (round 13)
    if op.service_name == "dynamodb":  # no legacy parameter beside an expression one (round 23)
        check_parameter_families(op.name, params)
    check_expressions(op.service_name, op.name, params)  # what DynamoDB refuses, moto reads wider
    check_transact_projection(op.service_name, op.name, params, isinstance(server.dataplane, MotoBackend))
    check_read_projection(op.service_name, op.name, params, isinstance(server.dataplane, MotoBackend))
    check_legacy_conditions(op.service_name, op.name, params)  # legacy conditions moto ignores
    check_unexecuted(op.service_name, op.name, params)  # members the decision reads and moto ignores (round 10)
    unperformed_settings.check(op.service_name, op.name, params, account, call.region,  # implicit accesses round 9
                               isinstance(server.dataplane, MotoBackend))
    sns_protocols.check(op.service_name, op.name, params)  # SNS deliveries not served (implicit round 11)
    check_object_version(op.service_name, op.name, params)  # a version moto would not act on
    check_list_max_keys(op.service_name, op.name, params, isinstance(server.dataplane, MotoBackend))
    s3_checksums.check(op, call.req)  # a checksum is the body's, as S3 computes it (round 11)
    s3_expected_owner.check(op.service_name, op.name, params, isinstance(server.dataplane, MotoBackend))  # round 11
    ec2_dry_run.check(op.service_name, params)  # authorized: DryRunOperation, nothing runs (round 11)
    ec2_instances.check(op.service_name, op.name)  # RunInstances: decided, then 501 (issue 8 §5)
    ec2_foreign_ids.check(op.service_name, op.name, params, account, call.region,  # region/account round 8
                          isinstance(server.dataplane, MotoBackend))
    ec2_group_names.check(op.service_name, op.name, params, account, call.region,  # a name in any case (round 16)
                          isinstance(server.dataplane, MotoBackend))
    ec2_endpoint_regions.check(op.service_name, op.name, params, account, call.region,  # another Region's service
                               isinstance(server.dataplane, MotoBackend))  # (region/account round 17)
    logs_delivery_sources.check(op.service_name, op.name, params)  # vended logs not served (round 8)
    targets = None
    if (op.service_name, op.name) == ("s3", "PutBucketNotificationConfiguration"):
        targets = events.check_bucket_notifications(server, params, account, call.region, call.now)
    if op.service_name == "s3":  # what moto (embedded or upstream) does not implement faithfully, or S3 checks
        s3_support.check(op.name, call.req)
    if op.service_name == "dynamodb":  # PartiQL: moto's executor must read each statement as authorized
        check_partiql_returning(op.name, params)  # a documented RETURNING not served: 501 (round 25)
        check_partiql_key_updates(op.name, params, account, call.region)  # no SET/REMOVE of a key (round 25)
        partiql_support.check(op.name, params)
        check_partiql_parameters(op.name, params)  # a value for every `?` (round 24)
        check_insert_tail(op.name, params)  # nothing after an INSERT's item (round 24)
    if not isinstance(server.dataplane, MotoBackend):
        upstream_reading.check(op.service_name, op.protocol, call.req)  # what the upstream reads otherwise
        if call.refused:  # the signed bytes cannot be forwarded without the refused keys: refuse them all
            raise ServiceError("AccessDenied", "Access Denied", 403)
        return _forward(server, call, op, params, account, targets), None
    if op.service_name == "s3":
        check_upload(op.name, params)  # moto finds an upload by its ID alone; S3 by bucket, key and ID
        s3_public_policies.check(op.service_name, op.name, params)  # Block Public Access (round 12 follow-up)
    if (op.service_name, op.name) == ("s3", "CreateBucket"):  # a name held across restarts, its owner's only
        bucket_registry.check_create(server.records, str(params["Bucket"]), account)
    pagination_tokens.check(op.service_name, op.name, params, account, call.region)  # one it issued (round 22)
    if op.service_name == "dynamodb":  # the values the `?` read, no more (round 24)
        params = partiql_canonical(op.name, params)
    executed = canonical_params(op.service_name, op.name, params, account, call.region)
    executed = ec2_endpoints.with_default_type(op.service_name, op.name, executed)  # EC2's default, moto's crash
    unknown_endpoints = ec2_endpoints.missing(op.service_name, op.name, executed, account, call.region)
    check_destination(op.service_name, op.name, executed)  # a log group is no subscription destination
    if op.service_name == "sqs":  # the dead-letter queue's RedriveAllowPolicy (review round 3)
        check_redrive(op.name, executed, account, call.region, isinstance(server.dataplane, MotoBackend))
    dynamodb_tag_targets.check(op.service_name, op.name, executed, account, call.region,  # round 15: no such table
                               isinstance(server.dataplane, MotoBackend))
    if op.service_name == "s3" and "Bucket" in executed and (
        op.name not in _S3_NO_REGION_CHECK or call.region not in known_regions()  # no bucket in a non-region
    ):
        check_bucket_region(str(executed["Bucket"]), call.region, presigned=bool(call.scope and call.scope.presigned))
    check_retention(op.service_name, op.name, executed, call.now)  # a retention in force is not weakened
    check_key(op.service_name, op.name, executed)  # DeleteObjectTagging of a missing key: 404, not moto's crash
    if call.refused is not None:
        result = _delete_objects(server.dataplane, executed, call.refused, account, call.region, op)
    else:
        try:
            with (server.dataplane.unit(op.service_name, op.name, executed, account, call.region, identity.account),
                  lifecycle(op.service_name, op.name, executed, account, call.region),  # a queue name: 60 s
                  logs_exports.executing(call.export)):  # an export writes the keys authorized only
                result = server.dataplane.execute(op.model, executed, account, call.region)
                if op.service_name == "sns":  # a queue of another account waits for its owner's confirmation
                    # (inside the call's journaled unit: replayed with it, dataplane/journal.py)
                    sns_confirmation.after(op.name, executed, result.output, identity.account, deliveries.sns_to_queue)
                # records of what the call did, inside its unit: committed with its journal entry (round 8)
                if (op.service_name, op.name) == ("s3", "CreateBucket"):  # the name is its owner's until DeleteBucket
                    bucket_registry.created(server.records, str(executed["Bucket"]))
                if targets is not None:  # the bucket's S3 → Lambda targets
                    events.store_bucket_notifications(server, params["Bucket"], account, call.region, targets)
                    targets = None  # stored: not again in _after
        except ServiceError as err:
            raise _missing_key(server, call, op, params, identity, err) from None
        ec2_endpoints.report_missing(result.output, unknown_endpoints)  # DeleteVpcEndpoints: Unsuccessful entries
        if pins is not None:  # the policy is stored: pin the users and roles it names
            policy_writes.record(server.records, pins)
        policy_reads.show(server.records, op.service_name, op.name, params, result.output, call.region)
        read_projection(op.service_name, op.name, executed, result.output)  # moto ignores AttributesToGet, COUNT
        list_max_keys(op.service_name, op.name, executed, result.output)  # moto's V1 counts keys only
        transact_projection(op.service_name, op.name, executed, result.output)  # moto returns whole items
    response = serialize(op, result.output, call.request_id)
    if 200 <= result.status < 300:
        response.status = result.status
    _after(server, call, op.service_name, op.name, params, account, targets, result.output)
    return response, result.output


def _missing_key(server: Server, call: Call, op: Operation, params: dict[str, Any], identity: Identity,
                 err: ServiceError) -> ServiceError:
    """S3 tells a missing key (404 NoSuchKey) only to a caller with s3:ListBucket on the bucket; anyone else
    gets 403 AccessDenied, so a read permission cannot probe which keys exist.
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (and API_HeadObject.html)"""
    if (op.service_name, op.name, err.code) not in _PROBED or call.context is None:
        return err
    listing = RequiredAction("s3:ListBucket", (f"arn:aws:s3:::{params['Bucket']}",), {})
    if server.authorizer.enforce(identity, [listing], call.context, call.transport) is None:
        return err
    return ServiceError("AccessDenied", "Access Denied", 403)


_PROBED = frozenset({("s3", "GetObject", "NoSuchKey"), ("s3", "HeadObject", "NoSuchKey"),
                     ("s3", "HeadObject", "404")})


def _delete_objects(backend: MotoBackend, params: dict[str, Any], refused: list[int], account: str, region: str,
                    op: Operation) -> BackendResult:
    """DeleteObjects with the refused entries taken out before the backend sees the request, and reported
    as per-key AccessDenied errors in the result."""
    allowed = multi_delete.allowed_params(params, refused)
    if allowed is None:
        if bucket_region(str(params["Bucket"])) is None:
            raise ServiceError("NoSuchBucket", "The specified bucket does not exist", 404,
                               fields={"BucketName": params["Bucket"]})
        result = BackendResult(200, {})
    else:
        result = backend.execute(op.model, allowed, account, region)
    return BackendResult(result.status, multi_delete.with_refusals(result.output, params, refused))


def _forward(server: Server, call: Call, op: Operation, params: dict[str, Any], account: str,
             targets: list[dict[str, Any]] | None) -> HttpResponse:
    if op.service_name == "sqs" and "QueueUrl" in params:
        queue_url_parts(str(params["QueueUrl"]), call.region)
    bucket = params.get("Bucket") if op.service_name == "s3" else None
    response = server.dataplane.handle(call.req, account, op.service_name, bucket)
    if response.status < 300:
        _after(server, call, op.service_name, op.name, params, account, targets, None)
    return response


def _after(server: Server, call: Call, service: str, operation: str, params: dict[str, Any], account: str,
           targets: list[dict[str, Any]] | None, output: dict[str, Any] | None) -> None:
    """Event sources fed by a successful data-plane call (S3 notifications, SNS subscriptions)."""
    if targets is not None:
        events.store_bucket_notifications(server, params["Bucket"], account, call.region, targets)
    elif service == "s3":
        events.s3_object_event(server, operation, params, call.now)
    elif service == "sns" and operation in ("Publish", "PublishBatch"):  # each message to Lambda subscribers
        events.sns_publish_event(server, operation, params, output, account, call.region, call.now)


def acting_account(call: Call, identity: Identity) -> str:
    """The account whose data-plane resources the call acts on: the owner named in the resource ARNs (a
    cross-account call the resource policy allowed), else the caller's own."""
    owners = set()
    for arn in call.resources:
        parts = arn.split(":", 5)
        if len(parts) == 6 and len(parts[4]) == 12 and parts[4].isdigit():
            owners.add(parts[4])
    if len(owners) > 1:  # one backend call acts in one account: never guess which
        raise ServiceError("InvalidRequest", "A request may act on the resources of one account only.", 400)
    return owners.pop() if owners else identity.account or "000000000000"
