"""Rasa graph components for trilingual (zh-Hant / zh-Hans / en) and mixed-script input."""

from __future__ import annotations

import unicodedata
from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from common.lang import detect_language, fold
from common.yes_no import leading_yes_or_no, yes_or_no

LANGUAGE_ENTITY = "language"
#: Intents a message opening with a yes or a no is more likely an answer than (complaints,
#: questions, goodbyes and requests for a person keep theirs: "No! It never arrived" is a
#: complaint, "好的，拜拜" a goodbye).
SOFT_INTENTS = (
    "affirm",
    "deny",
    "thanks",
    "stop",
    "greet",
    "out_of_scope",
    "choose_option",
    "customer_apology",
    "bot_challenge",
    "give_feedback",
)


def _is_noise(token: str) -> bool:
    return all(ch.isspace() or unicodedata.category(ch)[0] in ("P", "S", "Z") for ch in token)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class MixedScriptTokenizer(Tokenizer, GraphComponent):
    """Jieba word segmentation on script-folded text.

    Traditional and Simplified input produce the same tokens, and English words inside Chinese
    sentences stay whole, so "我的 order 還沒 ship" and "我的order还没ship" featurise alike.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def required_packages() -> List[str]:
        return ["jieba"]

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MixedScriptTokenizer:
        import jieba

        jieba.setLogLevel(60)
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        import jieba

        folded = fold(message.get(attribute) or "")
        pieces = [p for p in jieba.tokenize(folded) if not p[0].isspace()]
        words = [p for p in pieces if not _is_noise(p[0])] or pieces
        return self._apply_token_pattern([Token(w, start, end) for w, start, end in words])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class LanguageEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds a ``language`` entity (zh-Hant, zh-Hans or en) to every message.

    The domain maps it onto the ``language`` slot, so responses pick the variation in the
    customer's language and script. Text that fits both Chinese scripts keeps the language the
    gateway passes as ``metadata.language_hint`` (the conversation's language so far).
    """

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageEntityExtractor:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            metadata: Optional[Dict[str, Any]] = message.get("metadata") or {}
            language = detect_language(text, default=metadata.get("language_hint"))
            entities = [e for e in message.get(ENTITIES, []) if e.get("entity") != LANGUAGE_ENTITY]
            entities.append(
                {
                    "entity": LANGUAGE_ENTITY,
                    "value": language,
                    "start": 0,
                    "end": len(text),
                    "confidence": 1.0,
                    "extractor": self.__class__.__name__,
                }
            )
            message.set(ENTITIES, entities, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class YesNoIntentOverride(GraphComponent):
    """A message that is only a yes or a no in words ("係呀", "冇問題", "sure", "不用了") is
    ``affirm`` / ``deny`` whatever the classifier thought (common/yes_no.py holds the words).

    Runs after the intent classifier and before the FallbackClassifier, so a short yes is never
    read as thanks or sent to the knowledge base.
    """

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> YesNoIntentOverride:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            answer = yes_or_no(text)
            if answer is None and (message.get(INTENT) or {}).get("name") in SOFT_INTENTS:
                answer = leading_yes_or_no(text)  # "唔使喇，退返錢就得": a no with a reason
            if answer is None:
                continue
            name = "affirm" if answer else "deny"
            intent = {"name": name, "confidence": 1.0}
            # The others drop to 0 so the FallbackClassifier does not call 1.0 vs 0.95 "ambiguous".
            ranking = [
                {**r, "confidence": 0.0}
                for r in message.get(INTENT_RANKING_KEY) or []
                if r.get("name") != name
            ]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent] + ranking, add_to_output=True)
        return messages
