"""How many of the server's request threads one account's invocations may hold (isolation review round 6).

Every API call of every account runs on one pool of ``REQUEST_THREADS`` threads (`asgi.App`). A synchronous
invocation (Invoke ``RequestResponse``, a function URL) holds its thread while its handler runs — up to the function's
timeout, 900 s — and while it waits for a warm worker of the function or for a sandbox. Unbounded, one account's
waiting invocations held every thread, and no other account's call of any service got an answer: a denial of service
of every account's control plane by one.

Lambda's concurrency is a quota of each account in each Region; an invocation over it is throttled at once with
``TooManyRequestsException`` (429, "Rate Exceeded.", Reason ``ConcurrentInvocationLimitExceeded``), and one account's
invocations never use another's capacity (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html,
https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors). Here an account's synchronous
invocations may hold at most ``PER_ACCOUNT`` request threads at once, and all accounts together at most
``ALL_ACCOUNTS``: ``REQUEST_THREADS - ALL_ACCOUNTS`` threads always remain for calls that are not invocations, and
``ALL_ACCOUNTS - PER_ACCOUNT`` for the invocations of the other accounts. An invocation over either bound is
throttled before it waits for anything. Only request threads are counted (`asgi.App` marks them,
`mark_request_thread`): asynchronous invocations, push deliveries (`lambda_env.LambdaEnv.submit`) and the SQS poller
run on threads of their own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from lambdaperm.protocol.errors import ServiceError

REQUEST_THREADS = 32  # the server's request threads (asgi.App's pool)
PER_ACCOUNT = REQUEST_THREADS // 4  # one account's synchronous invocations at once
ALL_ACCOUNTS = REQUEST_THREADS - REQUEST_THREADS // 4  # every account's together: a quarter stays for other calls

_thread = threading.local()


def mark_request_thread() -> None:
    """The initializer of the server's request threads."""
    _thread.request = True


def on_request_thread() -> bool:
    """Whether the calling thread is one of the server's request threads."""
    return bool(getattr(_thread, "request", False))


def throttled() -> ServiceError:
    """Invoke's throttle (API_Invoke errors: TooManyRequestsException, 429)."""
    return ServiceError(
        "TooManyRequestsException",
        "Rate Exceeded.",
        429,
        fields={"Type": "User", "Reason": "ConcurrentInvocationLimitExceeded"},
    )


class InvokeThreads:
    """Thread-safe counts of the request threads held by each account's synchronous invocations."""

    def __init__(self, per_account: int = PER_ACCOUNT, all_accounts: int = ALL_ACCOUNTS) -> None:
        self._per_account = per_account
        self._all = all_accounts
        self._held: dict[str, int] = {}
        self._total = 0
        self._lock = threading.Lock()

    @contextmanager
    def hold(self, account: str) -> Iterator[None]:
        """Count one of `account`'s invocations for as long as it runs; raise Lambda's throttle when the account, or
        every account together, is at its bound (never wait: a waiting invocation would hold a thread too)."""
        with self._lock:
            if self._total >= self._all or self._held.get(account, 0) >= self._per_account:
                raise throttled()
            self._total += 1
            self._held[account] = self._held.get(account, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._total -= 1
                self._held[account] -= 1
                if not self._held[account]:
                    del self._held[account]
