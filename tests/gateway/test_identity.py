from common.identity import sign_identity, verify_identity

SECRET = "s3cret"


def test_valid_token_round_trips():
    assert verify_identity(SECRET, sign_identity(SECRET, "C0001")) == "C0001"


def test_forged_expired_and_malformed_tokens_are_ignored(caplog):
    token = sign_identity(SECRET, "C0001")
    payload, mac = token.split(".")
    assert verify_identity("other-secret", token) is None
    assert verify_identity(SECRET, sign_identity(SECRET, "C0001", ttl_s=-5)) is None
    forged_payload = sign_identity("x", "C0002").split(".")[0]
    assert verify_identity(SECRET, f"{forged_payload}.{mac}") is None
    for junk in ("", "abc", "a.b.c", "....", "%%%.%%%"):
        assert verify_identity(SECRET, junk) is None
    assert any("forged" in r.message for r in caplog.records)
    assert any("expired" in r.message for r in caplog.records)
