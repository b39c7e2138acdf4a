"""The English encoder fine-tuned on the KB's own English question variants, at index build.

The classifier's English-only block (``english_encoder``, all-MiniLM-L6-v2 by default) is a
sentence-transformers model, so it can be trained on CPU. Each step takes ``batch`` distinct entries
with at least two English questions, two different questions of each, and minimises the in-batch
contrastive loss (``MultipleNegativesRankingLoss``, symmetric, scale 20): a question must be closer to
its paraphrase than to the other entries' questions. Word embeddings stay frozen, so words the KB never
uses keep their pretrained vectors; only the transformer layers move.

Settings, from validation: on CLINC150 one pass (117 steps of 64 pairs, before the token cap) raised the
nearest-English-question top-1 from 0.886 to 0.954 on its validation split (test: 0.880 to 0.951) and the
in-scope/out-of-scope AUC of that best cosine from 0.966 to 0.987 (test 0.963 to 0.984). On the reference
FAQ (237 English questions, 80 entries) the same top-1 on the English validation queries went 0.800
(pretrained), 0.813 (2 steps, one pass), 0.827 (9 and 19 steps); hence at least 10 steps. The token cap
(``max_tokens``) keeps the tuning of a 10k-question KB to about 3 minutes on 2 cores.

Persisted without pickle in the classifier's directory as ``english_tuned.npz``: the tuned parameters
(float16) by name. The model that encodes the KB's rows at build is rounded the same way first, so
build and query vectors come from the same weights. The classifier's manifest record holds the base model,
the settings and the file's sha256; loading refuses any mismatch. An incremental update (kb/incremental.py)
keeps the base index's tuned encoder and encodes new questions with it; the next full build tunes afresh.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.encoder import Encoder, new_encoder
from kb.layout import file_sha256

if TYPE_CHECKING:
    import torch

TUNED_FILE = "english_tuned.npz"

DEFAULT_TUNING: dict[str, Any] = {
    "enabled": True,
    "epochs": 1.0,  # passes over the English question rows (two rows per entry and step)
    "min_steps": 10,  # small KBs: ~5 passes over the reference FAQ's 237 English questions
    "max_steps": 200,
    # Build-time cap: the steps stop once this many (padded) tokens have gone through the encoder.
    # Cost is ~0.75 ms per token on 2 cores, so ~3 min: BANKING77 (10k questions, long ones) took
    # 390 s of tuning for one pass before the cap, which made its build 695 s.
    "max_tokens": 240_000,
    "max_length": 32,  # tokens per question while tuning (BANKING77: p95 33; CLINC150: max 30)
    "batch": 64,  # entries per step (fewer when the KB has fewer eligible entries)
    "lr": 3e-5,
    "scale": 20.0,
    "seed": 0,
}


class TunedEncoderMismatchError(RuntimeError):
    """``english_tuned.npz`` does not belong to this classifier."""


def tuning_config(config: dict[str, Any] | None) -> dict[str, Any]:
    return {**DEFAULT_TUNING, **(config or {})}


def planned_steps(n_rows: int, n_entries: int, config: dict[str, Any]) -> int:
    """Steps for ``n_rows`` English question rows spread over ``n_entries`` eligible entries (0: no tuning)."""
    config = tuning_config(config)
    if not config["enabled"] or n_entries < 2:
        return 0
    batch = min(int(config["batch"]), n_entries)
    steps = int(round(float(config["epochs"]) * n_rows / (2 * batch)))
    return max(int(config["min_steps"]), min(steps, int(config["max_steps"])))


def _trainable(model: Encoder) -> list[tuple[str, torch.nn.Parameter]]:
    """(name, parameter) pairs that tuning moves: everything but the word/position embeddings."""
    return [(n, p) for n, p in model.named_parameters() if ".embeddings." not in f".{n}"]


def tune(
    base_name: str,
    norms: Sequence[str],
    labels: Sequence[str],
    config: dict[str, Any] | None = None,
    progress: bool = False,
) -> Encoder | None:
    """A fresh copy of encoder ``base_name`` tuned on English questions ``norms`` of entries ``labels``,
    weights rounded to float16; None when there is nothing to tune on (see :func:`planned_steps`)."""
    config = tuning_config(config)
    by_entry: dict[str, list[str]] = {}
    for text, label in zip(norms, labels):
        by_entry.setdefault(label, [])
        if text not in by_entry[label]:
            by_entry[label].append(text)
    eligible = sorted(e for e, texts in by_entry.items() if len(texts) >= 2)
    steps = planned_steps(sum(len(by_entry[e]) for e in eligible), len(eligible), config)
    if steps <= 0:
        return None
    import torch

    model = new_encoder(base_name)
    torch.manual_seed(int(config["seed"]))
    rng = random.Random(int(config["seed"]))
    params = _trainable(model)
    moving = {name for name, _ in params}
    for name, p in model.named_parameters():
        p.requires_grad_(name in moving)
    optimiser = torch.optim.AdamW([p for _, p in params], lr=float(config["lr"]))
    batch, scale = min(int(config["batch"]), len(eligible)), float(config["scale"])
    bar = range(steps)
    if progress:
        from tqdm import tqdm

        bar = tqdm(bar, desc="tuning English encoder", unit="step")
    model.train()
    saved_length, model.max_seq_length = model.max_seq_length, int(config["max_length"])
    tokens, done = 0, 0
    for _ in bar:
        if tokens >= int(config["max_tokens"]):
            break
        pairs = [rng.sample(by_entry[e], 2) for e in rng.sample(eligible, batch)]
        left, n_left = _embed(model, [a for a, _ in pairs])
        right, n_right = _embed(model, [b for _, b in pairs])
        tokens, done = tokens + n_left + n_right, done + 1
        logits = scale * left @ right.T
        target = torch.arange(batch)
        loss = (
            torch.nn.functional.cross_entropy(logits, target)
            + torch.nn.functional.cross_entropy(logits.T, target)
        ) / 2
        optimiser.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]  # untyped in torch
        optimiser.step()
    model.max_seq_length = saved_length
    model.eval()
    with torch.no_grad():
        for _, p in params:
            p.copy_(p.half().float())
    for p in model.parameters():
        p.requires_grad_(False)
    model.tuned_steps = done  # type: ignore[assignment]  # torch types module attributes as Tensor | Module
    return model


def _embed(model: Encoder, texts: list[str]) -> tuple[torch.Tensor, int]:
    """(unit embeddings with gradients, padded tokens in the batch)."""
    import torch

    features = model.tokenize(texts) if not hasattr(model, "preprocess") else model.preprocess(texts)
    return (
        torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1),
        int(features["input_ids"].numel()),
    )


def save(model: Encoder, out_dir: str | Path, base_name: str, config: dict[str, Any]) -> dict[str, Any]:
    """Write :data:`TUNED_FILE`; return the manifest record."""
    path = Path(out_dir) / TUNED_FILE
    arrays: dict[str, Any] = {
        name: p.detach().cpu().numpy().astype(np.float16) for name, p in _trainable(model)
    }
    np.savez(path, **arrays)
    return {
        "base": base_name,
        "steps": int(getattr(model, "tuned_steps", 0)),
        "config": tuning_config(config),
        "parameters": len(arrays),
        "sha256": file_sha256(path),
    }


def load(index_dir: str | Path, record: dict[str, Any]) -> Encoder:
    """The tuned encoder of an index directory, verified against its manifest ``record``."""
    import torch

    path = Path(index_dir) / TUNED_FILE
    if not path.is_file() or file_sha256(path) != record.get("sha256"):
        raise TunedEncoderMismatchError(f"{path}: missing or checksum differs from the manifest")
    try:
        model = new_encoder(record["base"])
    except Exception as exc:  # a missing package or an unreachable hub model
        raise TunedEncoderMismatchError(
            f"{path}: base encoder {record.get('base')!r} cannot be loaded ({exc})"
        ) from None
    params = dict(_trainable(model))
    try:
        with np.load(path, allow_pickle=False) as data:
            if sorted(data.files) != sorted(params) or len(params) != record.get("parameters"):
                raise TunedEncoderMismatchError(f"{path}: parameters do not match encoder {record['base']!r}")
            with torch.no_grad():
                for name, p in params.items():
                    value = torch.from_numpy(data[name].astype(np.float32))
                    if value.shape != p.shape:
                        raise TunedEncoderMismatchError(
                            f"{path}: {name} has shape {tuple(value.shape)}, "
                            f"encoder {record['base']!r} {tuple(p.shape)}"
                        )
                    p.copy_(value)
    except (ValueError, OSError) as exc:
        raise TunedEncoderMismatchError(f"{path}: unreadable ({exc})") from None
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    model.tuned_steps = int(record.get("steps", 0))  # type: ignore[assignment]  # as in tune()
    return model
