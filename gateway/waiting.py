"""The gateway's worker that answers customer messages left waiting while the assistant was down.

Every ``interval_s`` seconds, while any message waits (:attr:`ChatService.waiting`) and Rasa
reports itself and the action server healthy (``RasaClient.ready(deep=True)``), it has the chat
service answer them in order and push the replies to the customers' widgets. On start it picks up
the messages an earlier run left waiting (marked in the store, :mod:`crm.repo.waiting`), so a
gateway restart loses none. Answering twice is harmless: Rasa's channel recognises a message id
it has already processed, and the stored replies are keyed by the message's client id.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from crm.orm.base import utcnow

if TYPE_CHECKING:
    from gateway.chat import ChatService
    from gateway.rasa_client import Assistant

logger = logging.getLogger(__name__)
RETRY_INTERVAL_S = 2.0
MAX_WAIT = timedelta(hours=6)


async def answer_waiting_forever(
    chat: ChatService, rasa: Assistant, interval_s: float = RETRY_INTERVAL_S
) -> None:
    loaded = False
    while True:
        if not loaded:
            try:
                await chat.load_waiting(utcnow() - MAX_WAIT)
                loaded = True
            except Exception as exc:
                logger.warning("waiting messages not loaded yet: %s", exc.__class__.__name__)
        if chat.waiting and await rasa.ready(deep=True):
            try:
                left = await chat.retry_waiting()
                logger.info("answered waiting messages; %d still wait", left)
            except Exception:
                logger.exception("answering waiting messages failed; will retry")
        await asyncio.sleep(interval_s)
