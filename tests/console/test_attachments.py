"""Issue 22, image attachments from the widget (gateway/routes_attachments.py): what is accepted
(PNG, JPEG, WebP by their bytes, re-encoded, stored under a random name outside the web root),
what is refused with a clear error (wrong type whatever the name says, malformed, oversized,
decompression bombs, empty), and who may fetch an image (the chat's customer and staff only)."""

from __future__ import annotations

import dataclasses
import io

import pytest
from PIL import Image

from crm.db import session_scope
from crm.models import Attachment
from gateway.attachments import MAX_BYTES
from tests.console.conftest import build_client
from tests.console.test_presence import Agent, held_chat, rasa, script  # noqa: F401 - fixtures


@pytest.fixture
def client(settings, users, rasa):  # noqa: F811 - the presence tests' stub Rasa
    with build_client(dataclasses.replace(settings, rasa_url=rasa.url)) as test_client:
        yield test_client


def image_bytes(fmt: str, size: tuple[int, int] = (40, 30), mode: str = "RGB", **save: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 40, 40) if mode == "RGB" else 0).save(out, format=fmt, **save)
    return out.getvalue()


def upload(client, token: str, data: bytes, **params: str):
    return client.post(
        f"/api/conversations/{token}/attachments",
        content=data,
        params=params,
        headers={"Content-Type": "image/png"},  # what the caller claims is never trusted
    )


def fetch(client, attachment_id: int, token: str | None):
    headers = {"X-Conversation-Token": token} if token is not None else {}
    return client.get(f"/api/attachments/{attachment_id}", headers=headers)


def new_chat(client) -> str:
    return client.post("/api/conversations").json()["token"]


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_an_image_is_stored_under_a_random_name_and_served_safely(
    client, settings, factory, fmt, content_type
):
    token = new_chat(client)
    response = upload(client, token, image_bytes(fmt), id="photo-1")
    assert response.status_code == 201, response.text
    message = response.json()["message"]
    assert message["client_id"] == "photo-1" and message["direction"] == "customer"
    assert message["upload"] == {
        "id": message["upload"]["id"],
        "content_type": content_type,
        "width": 40,
        "height": 30,
    }
    with session_scope(factory) as session:
        row = session.get(Attachment, message["upload"]["id"])
        name, message_id = row.storage_name, row.message_id
    assert message_id == message["id"]
    stored = settings.var_dir / "attachments" / name
    assert stored.is_file() and oct(stored.stat().st_mode)[-3:] == "600"
    assert len(name.split(".")[0]) == 32 and "photo" not in name
    served = fetch(client, message["upload"]["id"], token)
    assert served.status_code == 200
    assert served.headers["content-type"] == content_type
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-disposition"].startswith('inline; filename="image-')
    assert "default-src 'none'" in served.headers["content-security-policy"]
    assert Image.open(io.BytesIO(served.content)).format == fmt
    history = client.get(f"/api/conversations/{token}/messages").json()["messages"]
    assert [m["upload"]["id"] for m in history if "upload" in m] == [message["upload"]["id"]]


def test_metadata_is_dropped_and_large_images_are_scaled_down(client):
    token = new_chat(client)
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (25.0, 2.0, 0.0)}  # GPS position
    exif[0x010F] = "PhoneMaker"
    data = image_bytes("JPEG", size=(3000, 1000), exif=exif.tobytes()) + b"<script>alert(1)</script>"
    message = upload(client, token, data).json()["message"]
    assert (message["upload"]["width"], message["upload"]["height"]) == (2048, 683)
    served = fetch(client, message["upload"]["id"], token).content
    assert b"PhoneMaker" not in served and b"<script>" not in served
    assert not Image.open(io.BytesIO(served)).getexif()


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"", 400, "empty_file"),
        (b"<html><script>alert(1)</script></html>", 415, "unsupported_type"),
        (b"GIF89a" + b"\x00" * 100, 415, "unsupported_type"),
        (b"%PDF-1.7\n" + b"x" * 100, 415, "unsupported_type"),
        (b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10, 422, "malformed_image"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, 422, "malformed_image"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 garbage", 422, "malformed_image"),
    ],
)
def test_what_is_not_a_png_jpeg_or_webp_image_is_refused_clearly(client, settings, data, status, code):
    response = upload(client, new_chat(client), data)
    assert response.status_code == status and response.json()["error"] == code, response.text
    folder = settings.var_dir / "attachments"
    assert not folder.exists() or not any(folder.iterdir())


def test_a_truncated_image_is_refused(client):
    data = image_bytes("PNG", size=(200, 200))
    response = upload(client, new_chat(client), data[: len(data) // 2])
    assert (response.status_code, response.json()["error"]) == (422, "malformed_image")


def test_oversized_files_and_decompression_bombs_are_refused(client):
    token = new_chat(client)
    just_over = b"\x89PNG\r\n\x1a\n" + b"\x00" * MAX_BYTES
    response = upload(client, token, just_over)
    assert (response.status_code, response.json()["error"]) == (413, "too_large")
    far_over = upload(client, token, b"\x89PNG\r\n\x1a\n" + b"\x00" * (8 * 1024 * 1024))
    assert far_over.status_code == 413  # stopped by the body guard before it is read
    bomb = image_bytes("PNG", size=(8000, 6000), mode="L")  # 48 megapixels in a few kB
    assert len(bomb) < 200_000
    response = upload(client, token, bomb)
    assert (response.status_code, response.json()["error"]) == (413, "too_many_pixels")


def test_only_the_chats_customer_and_staff_can_fetch_an_image(client, factory):
    agent = Agent(client, "agent1")
    token, cid = held_chat(client, factory, agent)
    image_id = upload(client, token, image_bytes("PNG")).json()["message"]["upload"]["id"]
    other = new_chat(client)
    assert fetch(client, image_id, other).status_code == 404  # another customer's token
    assert fetch(client, image_id, "").status_code == 404
    assert fetch(client, image_id, token + "x").status_code == 404
    assert fetch(client, 999_999, token).status_code == 404
    assert fetch(client, image_id, None).status_code == 200  # the agent's session
    transcript = agent.get(f"/api/agent/conversations/{cid}").json()["messages"]
    assert [m["upload"]["id"] for m in transcript if "upload" in m] == [image_id]
    Agent(client, "trainer1")
    assert fetch(client, image_id, None).status_code == 404  # a trainer is not in the chat
    client.cookies.clear()
    assert fetch(client, image_id, None).status_code == 404
    assert fetch(client, image_id, token).status_code == 200


def test_uploads_need_a_known_chat_a_clean_id_and_stay_within_the_limits(client):
    assert upload(client, "no-such-token", image_bytes("PNG")).status_code == 404
    token = new_chat(client)
    assert upload(client, token, image_bytes("PNG"), id="x" * 65).status_code == 422
    statuses = [upload(client, token, image_bytes("PNG")).status_code for _ in range(6)]
    assert statuses == [201] * 5 + [429]
