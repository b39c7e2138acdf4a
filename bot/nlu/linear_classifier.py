"""Linear SVM intent classifier over sparse n-gram counts and dense sentence embeddings.

Upstream featurizers supply the features: CountVectors (word and char n-gram counts) and the
Universal Sentence Encoder (dense). Counts get sublinear TF-IDF weighting and row
normalisation; the embedding is appended, scaled by ``dense_scale``. A LinearSVC is trained
one-vs-rest and its decision scores become confidences through a softmax with ``temperature``
(so the FallbackClassifier threshold means something). Tuned on a validation split carved from
BANKING77's train set (bench/nlu_banking77.py --split validation), never on its test split.

The model is persisted as plain arrays (``.npz``) and JSON, with no pickle.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Type

import numpy as np
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)


def _row_normalise(matrix: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.diags(1.0 / norms) @ matrix


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearSVMIntentClassifier(IntentClassifier, GraphComponent):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"C": 1.0, "dense_scale": 2.0, "temperature": 0.25, "ranking_length": 10}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        arrays: Optional[Dict[str, np.ndarray]] = None,
        classes: Optional[List[str]] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage, self._resource = model_storage, resource
        self._arrays = arrays
        self._classes = classes or []

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearSVMIntentClassifier:
        return cls(config, model_storage, resource)

    def _raw_features(self, messages: List[Message]) -> tuple[sp.csr_matrix, Optional[np.ndarray]]:
        sparse_rows, dense_rows = [], []
        for message in messages:
            sparse = message.get_sparse_features(TEXT)[1]
            dense = message.get_dense_features(TEXT)[1]
            sparse_rows.append(sp.csr_matrix(sparse.features) if sparse is not None else None)
            dense_rows.append(np.asarray(dense.features).ravel() if dense is not None else None)
        width = max((r.shape[1] for r in sparse_rows if r is not None), default=0)
        counts = sp.vstack([r if r is not None else sp.csr_matrix((1, width)) for r in sparse_rows]).tocsr()
        dense_width = max((len(d) for d in dense_rows if d is not None), default=0)
        dense = (
            np.vstack([d if d is not None else np.zeros(dense_width) for d in dense_rows])
            if dense_width
            else None
        )
        return counts, dense

    def _design(self, messages: List[Message], idf: np.ndarray) -> sp.csr_matrix:
        counts, dense = self._raw_features(messages)
        weighted = counts.astype(np.float64)
        weighted.data = 1.0 + np.log(np.maximum(weighted.data, 1e-12))
        blocks = [_row_normalise(weighted @ sp.diags(idf))]
        if dense is not None:
            blocks.append(sp.csr_matrix(dense * float(self.config["dense_scale"])))
        return sp.hstack(blocks).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.svm import LinearSVC

        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            return self._resource
        counts, _ = self._raw_features(examples)
        document_frequency = np.asarray((counts > 0).sum(axis=0)).ravel()
        idf = np.log((1 + len(examples)) / (1 + document_frequency)) + 1.0
        labels = [e.get(INTENT) for e in examples]
        svm = LinearSVC(C=float(self.config["C"]), class_weight="balanced", random_state=42)
        svm.fit(self._design(examples, idf), labels)
        coef, intercept = svm.coef_, svm.intercept_
        if len(svm.classes_) == 2:  # sklearn keeps one row for two classes
            coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
        self._arrays = {"coef": coef.astype(np.float32), "intercept": intercept, "idf": idf}
        self._classes = [str(c) for c in svm.classes_]
        with self._storage.write_to(self._resource) as directory:
            np.savez_compressed(directory / "linear.npz", **self._arrays)
            (directory / "classes.json").write_text(json.dumps(self._classes))
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearSVMIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                with np.load(directory / "linear.npz") as data:
                    arrays = {key: data[key] for key in data.files}
                classes = json.loads((directory / "classes.json").read_text())
        except (ValueError, FileNotFoundError):
            logger.debug("LinearSVMIntentClassifier: nothing trained, returning an empty one")
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, arrays, classes)

    def process(self, messages: List[Message]) -> List[Message]:
        if not self._arrays or not messages:
            return messages
        design = self._design(messages, self._arrays["idf"])
        if design.shape[1] != self._arrays["coef"].shape[1]:
            raise ValueError("LinearSVMIntentClassifier: feature width differs from training")
        scores = np.asarray(design @ self._arrays["coef"].T) + self._arrays["intercept"]
        logits = scores / float(self.config["temperature"])
        probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        for message, row in zip(messages, probabilities):
            order = np.argsort(-row)[: int(self.config["ranking_length"])]
            ranking = [{"name": self._classes[i], "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
