"""KB access for long-running processes: the one home of the lazily loaded, hot-reloading KB.

The action server, the gateway's consoles and the KB worker all reach the published index
through :class:`kbaccess.access.KBAccess` (``from kbaccess import KBAccess, shared_kb``): it
loads the encoder and the index on first use (thread-safe), follows ``KB_INDEX_DIR/CURRENT``
so a newly published index is served without a restart, and offers the lookup / search /
embed calls. It sits in the middle layer: it imports ``kb`` and ``common.settings`` (``kb``
itself reads no settings), never ``crm``, ``actions`` or the gateway.
"""

from kbaccess.access import Embedder, HitView, KBAccess, SearchReport, shared_kb

__all__ = ["Embedder", "HitView", "KBAccess", "SearchReport", "shared_kb"]
