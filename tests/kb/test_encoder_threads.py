"""kb/encoder.py: a chat query is encoded on one BLAS thread, an index build on the configured ones."""

from __future__ import annotations

from kb.encoder import SMALL_BATCH, encode, load_encoder

from .conftest import ENCODER


def test_small_batches_use_one_blas_thread():
    model = load_encoder(ENCODER)
    module = model[0]
    backend = module._backend._model
    single = encode(model, ["how do i cancel my order"])
    assert backend.threads == 1
    batch = encode(model, ["how do i cancel my order"] * (SMALL_BATCH + 1))
    assert backend.threads == module.threads
    assert abs(float(single[0] @ batch[0]) - 1.0) < 1e-5  # same vector either way
