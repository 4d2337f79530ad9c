"""The structural oracle: what the backend actually read or changed, per request, against what was authorized.

lambdaperm authorizes a call on a set of resource ARNs (`Call.resources`) and then has the call executed
by a backend (the embedded moto, or an `--upstream` endpoint). The oracle instruments the backend in tests
only — moto's backend model methods for DynamoDB, S3, SQS, SNS, CloudWatch Logs and EC2's VPC objects —
so that every request records the resources it touched, and checks *acted-on ⊆ authorized* with the
containment rules of `containment.py`.

- `touches.py`: a touch (resource ARN, mode, the backend's account and region) and the per-request frame.
- `moto_map.py`: which resource a moto backend call touches (argument names and model objects → ARNs).
- `instrument.py`: wraps moto's backend classes so that calls inside a frame are recorded.
- `containment.py`: the containment rules, and the violations of one recorded request.
- `hooks.py`: loads the oracle into a `lambdaperm serve` or a moto server process (through
  `site/sitecustomize.py` and `LAMBDAPERM_STRUCTURAL_ORACLE`), writing one JSON line per request.
- `check.py`: the end-of-server check the end-to-end fixtures run (`OracleViolation`).

The parser-differential fuzz (tests/security/test_parser_differential.py) builds on it:
- `wire.py`: requests as bytes (what boto3 sends, captured), re-signed after a mutation, sent exactly;
- `world.py`: the resources (caller's region, another region, another account) and the seed requests;
- `mutations.py`: the mutation classes; `differential.py`: how one mutated request is judged.
"""
