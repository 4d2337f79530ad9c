"""S3 endpoints lambdaperm does not serve: Object Lambda, access points, S3 Control, Outposts, Multi-Region access,
Transfer Acceleration.

AWS reaches these through hosts of their own, each naming a resource that is not a bucket:

- `<name>-<account>.s3-object-lambda.<region>.amazonaws.com`: an Object Lambda access point, whose reads run a
  Lambda function and are authorized as `s3-object-lambda:*` on the access point
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/olap-use.html);
- `<name>-<account>.s3-accesspoint.<region>.amazonaws.com`: an access point, with a policy of its own in front of
  its bucket (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-naming.html);
- `<account>.s3-control.<region>.amazonaws.com`: the S3 Control API (account settings, access points, jobs),
  another service (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_AWS_S3_Control.html);
- `s3-outposts.<region>.amazonaws.com`: S3 on Outposts;
- `<alias>.accesspoint.s3-global.amazonaws.com`: a Multi-Region Access Point, a global endpoint routing to buckets of
  several Regions, named `arn:aws:s3::<account>:accesspoint/<alias>` and signed with SigV4A
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRequests.html); read as a
  virtual-hosted bucket `<alias>.accesspoint` of the signed region, a CreateBucket there created that bucket
  (region/account review round 18);
- `<bucket>.s3-website-<region>.amazonaws.com`, `<bucket>.s3-website.<region>.amazonaws.com`: a bucket's static
  website, which is not the REST API: it serves only publicly readable content to anonymous GET and HEAD, supports
  no authenticated request and answers other methods 405
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/WebsiteEndpoints.html); a signed GET of a private object
  and a signed PUT there were executed as REST calls on the bucket (implicit accesses review round 8);
- `<bucket>.s3-accelerate.amazonaws.com` (and `.s3-accelerate.dualstack.`): S3 Transfer Acceleration's global
  endpoint, which serves only a bucket whose acceleration is enabled and never ListBuckets, CreateBucket or
  DeleteBucket (https://docs.aws.amazon.com/AmazonS3/latest/userguide/transfer-acceleration.html); read as a bucket
  endpoint of the signed region, it created, listed and deleted buckets and wrote objects of buckets without
  acceleration (region/account review round 19);
- `<bucket>--<az-id>--x-s3.s3express-<az-id>.<region>.amazonaws.com` and `s3express-control.<region>…`: directory
  buckets (S3 Express One Zone), authorized by `s3express:CreateSession` on the directory bucket
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-express-security-iam.html). `virtual_host_label` does
  not read the zonal host as virtual-hosted (`.s3express-` is not `.s3-`), so such a request was read as a
  path-style call on a general purpose bucket named by its path (implicit accesses review round 8).

`hosts.virtual_host_label` reads any `<label>.s3-<anything>` host as a virtual-hosted bucket, so a request signed
for `s3` to such a host was executed as a plain S3 call on a bucket named by the host's first label (a GetObject
on an Object Lambda access point host read the bucket `<name>-<account>`): one call asked, another answered
(implicit accesses review round 7). lambdaperm serves none of these endpoints, so such a request is refused with
501 NotImplemented naming the endpoint, before it is read as anything.
"""

from __future__ import annotations

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.hosts import hostname, virtual_host_label

# the endpoint label (alone, or followed by `-fips`, `-<region>`…) → what it serves
_UNSERVED: dict[str, str] = {
    "s3-object-lambda": "S3 Object Lambda access points",
    "s3-accesspoint": "S3 access points",
    "s3-control": "the S3 Control API",
    "s3-outposts": "S3 on Outposts",
    "s3-global": "S3 Multi-Region Access Points",
    "s3-accelerate": "S3 Transfer Acceleration endpoints",
    "s3-website": "S3 website endpoints (static website hosting)",
    "s3express": "directory buckets (S3 Express One Zone)",
}


def unserved_endpoint(host: str) -> str | None:
    """What the S3 endpoint of this host serves, when lambdaperm does not serve it; None for a bucket endpoint."""
    name = hostname(host)
    bucket = virtual_host_label(host)
    endpoint = name[len(bucket) + 1 :] if bucket is not None and name.startswith(bucket + ".") else name
    labels = endpoint.split(".")
    # the endpoint label is the first one; a directory bucket's zonal host, which is not read as virtual-hosted
    # (bucket is None), has it after the bucket's own label
    for label in labels[:2] if bucket is None else labels[:1]:
        for prefix, what in _UNSERVED.items():
            if label == prefix or label.startswith(prefix + "-"):
                return what
    return None


def refuse_unserved_endpoint(host: str) -> None:
    """501 NotImplemented for a request to an S3 endpoint lambdaperm does not serve (see the module docstring)."""
    what = unserved_endpoint(host)
    if what is not None:
        raise ServiceError(
            "NotImplemented",
            f"lambdaperm does not serve {what}: the host {hostname(host)} is not a bucket endpoint",
            501,
            sender_fault=False,
        )
