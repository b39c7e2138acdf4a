"""Hostile-input suite: property-based fuzzing of the HTTP API from its own OpenAPI schema
(schemathesis strategies, positive and negative) and of the chat WebSocket protocol
(hypothesis). Nothing may answer 5xx, the socket must stay usable after any frame, and a
message re-sent with the same id is stored once.

Deterministic for CI: ``derandomize=True``, no example database, a fixed number of examples
per operation (``FUZZ_EXAMPLES``); the whole file runs in well under a minute.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from crm.db import session_scope
from tests.security.conftest import chat_socket, open_chat

FUZZ_EXAMPLES = 8
SKIP = {("POST", "/api/trainer/rebuild")}  # starts a real index build; it takes no input
PROFILE = dict(derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))


def relax_rate_limits(app: Any) -> None:
    """The fuzzing is about inputs, not about rate limits (tests/security/test_rate_limits.py)."""
    try:
        from gateway.ratelimit import Policy, RateLimiter
    except ImportError:  # (a gateway without rate limits)
        return
    many = "100000/minute"
    app.state.rate_limiter = RateLimiter(Policy(**{f: many for f in Policy.__dataclass_fields__}))


@pytest.fixture
def admin(as_user, app_client):
    relax_rate_limits(app_client.app)
    return as_user("admin1")


def _operations(client: Any) -> list[Any]:
    spec = client.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(spec)
    ops = [result.ok() for result in schema.get_all_operations()]
    return [op for op in ops if (op.method.upper(), op.path) not in SKIP]


def _send(client: Any, csrf: str, case: Any) -> Any:
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    headers = {
        str(k): str(v)
        for k, v in (kwargs.get("headers") or {}).items()
        if str(k).lower() not in ("cookie", "host", "content-length")
    }
    headers["X-CSRF-Token"] = csrf
    extra: dict[str, Any] = {}
    if "json" in kwargs:
        extra["content"] = json.dumps(kwargs["json"]).encode("utf-8", "surrogatepass")
        headers.setdefault("Content-Type", "application/json")
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        extra["content"] = data if isinstance(data, bytes) else str(data).encode("utf-8", "surrogatepass")
    return client.request(
        kwargs["method"], kwargs["url"], params=kwargs.get("params"), headers=headers, **extra
    )


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_no_http_operation_answers_5xx(admin, mode):
    failures: list[str] = []
    fuzzed = 0
    operations = _operations(admin.client)
    assert len(operations) >= 25  # the schema is the app's own: every JSON route is fuzzed
    for operation in operations:

        @settings(max_examples=FUZZ_EXAMPLES, **PROFILE)
        @given(case=operation.as_strategy(generation_mode=mode))
        def probe(case: Any) -> None:
            reply = _send(admin.client, admin.csrf, case)
            if reply.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {reply.status_code}: {reply.text[:200]}"
                )
            assert reply.status_code < 500

        try:
            probe()
            fuzzed += 1
        except AssertionError:
            pass  # collected below with the operation's example
        except Unsatisfiable:
            pass  # nothing to make invalid (no parameters, no body)
    assert failures == []
    assert fuzzed >= (25 if mode == GenerationMode.POSITIVE else 10)


ids = st.one_of(
    st.sampled_from(["a", "b", "c"]), st.sampled_from(["\ud800", "", "x" * 65, 7, None, ["a"], 2**64])
)
texts = st.one_of(
    st.text(min_size=1, max_size=300),
    st.just("hello"),
    st.integers(),
    st.none(),
    st.just("\udfff lone"),
    st.just("\x00\x07 controls"),
)
json_frames = st.fixed_dictionaries(
    {"type": st.sampled_from(["message", "ping", "unknown", 5, None])},
    optional={
        "id": ids,
        "text": texts,
        "extra": st.recursive(
            st.none() | st.integers() | st.text(max_size=5),
            lambda inner: st.lists(inner, max_size=3),
            max_leaves=10,
        ),
    },
).map(lambda frame: json.dumps(frame))
messages = st.builds(
    lambda client_id, text: json.dumps({"type": "message", "id": client_id, "text": text}), ids, texts
)
frames = st.one_of(
    messages.map(lambda text: ("text", text)),
    json_frames.map(lambda text: ("text", text)),
    st.text(max_size=200).map(lambda text: ("text", text)),
    st.binary(max_size=200).map(lambda data: ("bytes", data)),
    st.integers(1, 20_000).map(lambda depth: ("text", "[" * depth + "]" * depth)),
    st.just(("text", "x" * (70 * 1024))),
)


def test_the_chat_socket_survives_any_frame_and_stores_each_message_once(app_client, factory):
    from crm.models import Message

    relax_rate_limits(app_client.app)
    with chat_socket(app_client) as ws:
        session = open_chat(ws)
        seen: list[str] = []

        @settings(max_examples=150, **PROFILE)
        @given(batch=st.lists(frames, min_size=1, max_size=4))
        def probe(batch: list[tuple[str, Any]]) -> None:
            for kind, payload in batch:
                if kind == "bytes":
                    ws.send_bytes(payload)
                else:
                    ws.send_text(payload)
            ws.send_text('{"type":"ping"}')
            while True:  # frames are handled in order: the pong comes after every answer
                frame = ws.receive_json()
                assert frame.get("code") != "internal_error", frame
                if frame["type"] == "reply":
                    seen.append(frame["in_reply_to"])
                if frame == {"type": "pong"} and not any('"ping"' in p for k, p in batch if k == "text"):
                    break
                if frame == {"type": "pong"}:
                    batch = [(k, p) for k, p in batch if not (k == "text" and '"ping"' in p)]

        probe()
    with session_scope(factory) as db:
        from crm.models import Conversation

        cid = db.query(Conversation).filter_by(token=session["token"]).one().id
        stored = [m.client_id for m in db.query(Message).filter_by(conversation_id=cid, direction="customer")]
    assert sorted(stored) == sorted(set(stored))  # nothing stored twice
    assert set(stored) == set(seen) and set(stored) <= {"a", "b", "c"}
    assert len(seen) >= 20  # the fuzzing did send well-formed messages
