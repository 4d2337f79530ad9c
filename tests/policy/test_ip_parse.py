"""The fast IPv4 reader of the IpAddress operators agrees with the standard library on any input."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from lambdaperm.policy.conditions import parse_ip


def reference(value: str) -> tuple[int, int] | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    return address.version, int(address)


octet = st.one_of(st.integers(0, 300).map(str), st.text("0123456789a ", max_size=4))


@settings(max_examples=3000, deadline=None)
@given(st.lists(octet, min_size=1, max_size=5).map(".".join))
def test_dotted_strings_match_ipaddress(value: str) -> None:
    assert parse_ip(value) == reference(value)


@settings(max_examples=500, deadline=None)
@given(st.ip_addresses().map(str))
def test_real_addresses(value: str) -> None:
    assert parse_ip(value) == reference(value) is not None
