"""External test oracles (installed at test time, never vendored or shipped)."""

from .iam_simulate import (
    IamSimulateOracle,
    OracleProtocolError,
    OracleResult,
    OracleUnavailable,
)

__all__ = ["IamSimulateOracle", "OracleProtocolError", "OracleResult", "OracleUnavailable"]
