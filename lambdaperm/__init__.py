"""lambdaperm: a local, offline AWS Lambda permission system."""

__version__ = "0.1.0"
