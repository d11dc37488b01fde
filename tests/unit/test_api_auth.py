"""API keys: parsing, roles, and what each role may do."""

from __future__ import annotations

import hashlib

import pytest

from cloud.api.auth import KeyRing, Role
from cloud.api.server import check_exposure
from cloud.api.settings import ApiSettings

READ = "read-key-0123456789"
ADMIN = "admin-key-0123456789"


@pytest.mark.parametrize(
    ("text", "presented", "role"),
    [
        (f"read:{READ}", READ, Role.READ),
        (f"read:{READ},admin:{ADMIN}", ADMIN, Role.ADMIN),
        (f"read:{READ}\n# staff laptop\nadmin:{ADMIN}  # ops", ADMIN, Role.ADMIN),
        (f"read:sha256:{hashlib.sha256(READ.encode()).hexdigest()}", READ, Role.READ),
        (f"read:{READ}", READ + "x", None),
        (f"read:{READ}", "", None),
        # The same key listed with both roles: the stronger one wins.
        (f"read:{READ},admin:{READ}", READ, Role.ADMIN),
    ],
)
def test_key_ring_resolves_roles(text: str, presented: str, role: Role | None) -> None:
    assert KeyRing.parse(text).role_of(presented) is role


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("reader:0123456789abcdefgh", "unknown role 'reader'"),
        ("0123456789abcdefgh", "must be ROLE:KEY"),
        ("read:", "must be ROLE:KEY"),
        ("read:short", "at least 16 characters"),
        ("admin:sha256:zz", "not hex"),
        ("admin:sha256:abcd", "64 hex digits"),
    ],
)
def test_bad_key_entries_are_named(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        KeyRing.parse(text)


def test_keys_from_file_and_environment_combine(tmp_path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"admin:{ADMIN}\n")
    ring = KeyRing.load(f"read:{READ}", path)
    assert (ring.role_of(READ), ring.role_of(ADMIN)) == (Role.READ, Role.ADMIN)


@pytest.mark.parametrize(
    ("have", "needed", "allowed"),
    [
        (Role.READ, Role.READ, True),
        (Role.READ, Role.ADMIN, False),
        (Role.ADMIN, Role.READ, True),
        (Role.ADMIN, Role.ADMIN, True),
    ],
)
def test_role_allows(have: Role, needed: Role, allowed: bool) -> None:
    assert have.allows(needed) is allowed


@pytest.mark.parametrize(
    ("host", "settings", "error"),
    [
        ("127.0.0.1", ApiSettings(), "no API keys configured"),
        ("0.0.0.0", ApiSettings(anonymous_read=True), "refused on non-loopback"),
        ("127.0.0.1", ApiSettings(anonymous_read=True), None),
        ("::1", ApiSettings(anonymous_read=True), None),
        ("0.0.0.0", ApiSettings(keys=KeyRing.parse(f"read:{READ}")), None),
    ],
)
def test_the_server_refuses_to_run_open_to_the_network(host: str, settings: ApiSettings, error: str | None) -> None:
    if error is None:
        check_exposure(host, settings)
    else:
        with pytest.raises(ValueError, match=error):
            check_exposure(host, settings)
