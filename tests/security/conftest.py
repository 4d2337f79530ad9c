"""The security suite runs against a real `lambdaperm serve` with real boto3: the end-to-end fixtures."""

from tests.e2e.conftest import make_server, server  # noqa: F401  (pytest fixtures)
