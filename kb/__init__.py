"""Knowledge-base retrieval for the trilingual (zh-Hant / zh-Hans / en) support assistant.

Importing :mod:`kb` is cheap: torch, faiss and sentence-transformers are only imported inside the
functions that need them. Public names are resolved lazily from their submodules::

    from kb import load_kb, build_index, KBSearcher, KBService
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Entry": "kb.faq",
    "KnowledgeBase": "kb.faq",
    "KBValidationError": "kb.faq",
    "load_kb": "kb.faq",
    "kb_hash": "kb.faq",
    "normalize": "kb.normalize",
    "load_encoder": "kb.encoder",
    "build_index": "kb.index",
    "load_index": "kb.index",
    "IndexMismatchError": "kb.index",
    "publish": "kb.index",
    "current_index_dir": "kb.index",
    "build_and_publish": "kb.index",
    "KBSearcher": "kb.search",
    "KBService": "kb.search",
    "SearchResult": "kb.search",
    "Hit": "kb.search",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
