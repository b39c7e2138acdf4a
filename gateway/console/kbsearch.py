"""The gateway's view of the published KB index (suggestions, the inbox's grouping, "try it").

One :class:`kbaccess.KBAccess` per app, for the app's settings: it follows
``KB_INDEX_DIR/CURRENT`` like the action server does, so after a rebuild both the bot and the
consoles use the new index without a restart. The encoder loads on first use (or on
:meth:`~kbaccess.KBAccess.warm`, started when a console page is opened).
"""

from __future__ import annotations

from fastapi import FastAPI

from kbaccess import KBAccess


def get_kb(app: FastAPI) -> KBAccess:
    kb: KBAccess | None = getattr(app.state, "console_kb", None)
    if kb is None:
        settings = app.state.settings
        kb = app.state.console_kb = KBAccess(settings.kb_index_root, settings.kb_encoder)
    return kb
