"""Validation of a function's configuration as Lambda does it: role, runtime, handler, timeout, memory,
environment variables (4 KB, reserved keys), code archive, VPC access (spec §3.1)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

from ..context import RequestContext
from .errors import access_denied, invalid, too_large, validation

ROLE = re.compile(r"^arn:(aws[a-zA-Z-]*)?:iam::(\d{12}):role/?[a-zA-Z_0-9+=,.@\-_/]+$", re.ASCII)
RUNTIMES = {"python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14",
            "nodejs18.x", "nodejs20.x", "nodejs22.x", "java11", "java17", "java21", "dotnet8", "ruby3.2",
            "ruby3.3", "provided.al2", "provided.al2023"}
RESERVED_ENV = {"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
                "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
                "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
                "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"}
ENV_LIMIT = 4096
ZIP_LIMIT = 50 * 1024 * 1024  # direct upload quota (zipped)
ENI_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
               "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses")
_HANDLER = re.compile(r"^[^\s]+$", re.ASCII)


def check_role(ctx: RequestContext, role: object) -> str:
    if not isinstance(role, str) or not ROLE.match(role):
        raise validation(role, "role", "Member must satisfy regular expression pattern: "
                         "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+")
    if role.split(":")[4] != ctx.account:
        raise access_denied("Cross-account pass role is not allowed.")
    return role


def check_basics(p: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The scalar settings, merged over `current` (an update changes only what it names)."""
    out = dict(current or {})
    runtime = p.get("Runtime", out.get("Runtime"))
    if runtime is not None and runtime not in RUNTIMES:
        raise invalid(f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS "
                      "Lambda functions. We recommend you use a supported runtime while creating or updating "
                      "functions.")
    out["Runtime"] = runtime
    handler = p.get("Handler", out.get("Handler"))
    if handler is None or not isinstance(handler, str) or not _HANDLER.match(handler) or len(handler) > 128:
        raise validation(handler, "handler", "Member must satisfy regular expression pattern: [^\\s]+")
    out["Handler"] = handler
    timeout = p.get("Timeout", out.get("Timeout", 3))
    if not isinstance(timeout, int) or not 1 <= timeout <= 900:
        raise validation(timeout, "timeout", "Member must have value less than or equal to 900")
    out["Timeout"] = timeout
    memory = p.get("MemorySize", out.get("MemorySize", 128))
    if not isinstance(memory, int) or not 128 <= memory <= 10240:
        raise validation(memory, "memorySize", "Member must have value less than or equal to 10240")
    out["MemorySize"] = memory
    if "Description" in p:
        out["Description"] = p["Description"]
    out.setdefault("Description", "")
    if "Environment" in p:
        out["Environment"] = {"Variables": check_environment(p["Environment"].get("Variables") or {})}
    return out


def check_environment(variables: dict[str, str]) -> dict[str, str]:
    reserved = sorted(k for k in variables if k in RESERVED_ENV)
    if reserved:
        raise invalid("Lambda was unable to configure your environment variables because the environment "
                      "variables you have provided contains reserved keys that are currently not supported for "
                      f"modification. Reserved keys used in this request: {', '.join(reserved)}")
    measured = json.dumps(variables, separators=(",", ":"))
    if len(measured.encode()) > ENV_LIMIT:
        raise invalid("Lambda was unable to configure your environment variables because the environment "
                      "variables you have provided exceeded the 4KB limit. String measured: " + measured)
    return dict(variables)


def check_zip(data: object) -> bytes:
    if not isinstance(data, bytes | bytearray) or not data:
        raise invalid("Could not unzip uploaded file. Please check your file, then try to upload again.")
    try:
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
            if archive.testzip() is not None:
                raise zipfile.BadZipFile("corrupt member")
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        raise invalid("Could not unzip uploaded file. Please check your file, then try to upload again.") from None
    if len(data) > ZIP_LIMIT:
        raise too_large("Request must be smaller than 70167211 bytes for the CreateFunction operation")
    return bytes(data)
