"""Cross-validated intent quality of the project's own NLU data, per language.

Runs in the Rasa environment (it trains the real pipeline of config.yml, custom components
included):
    PYTHONPATH=. .venv-rasa/bin/python bench/nlu_report.py [--folds 5] [--no-write]

Every example of data/nlu/*.yml carries `metadata: {language: ...}`. Examples are split into
`--folds` folds stratified by (intent, language); each fold is predicted by a model trained on
the others. Reported per language: accuracy and intent macro-F1 of the intent the bot acts on
(an `nlu_fallback` below the FallbackClassifier threshold counts as a miss), the macro-F1 of the
classifier's top intent ignoring the fallback, and the most frequent confusion pairs. The
result replaces the `<!-- nlu:start -->` ... `<!-- nlu:end -->` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.docs_section import write_section  # noqa: E402

LANGS = ("zh-Hant", "zh-Hans", "en")
ANNOTATION = re.compile(r"\[([^\]]+)\](\{[^}]*\}|\([^)]*\))")


def plain(example: str) -> str:
    """``訂單 [LM20240512]{"entity": ...} 還沒到`` -> ``訂單 LM20240512 還沒到``."""
    return ANNOTATION.sub(r"\1", example)


def load_examples(data_dir: Path) -> tuple[list[dict], list[dict]]:
    """(examples with intent/language/raw text, other NLU items such as regexes)."""
    examples, other = [], []
    for path in sorted(data_dir.glob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" not in item:
                other.append(item)
                continue
            language = (item.get("metadata") or {}).get("language")
            for line in item["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    examples.append({"intent": item["intent"], "language": language, "raw": line[2:]})
    return examples, other


def assign_folds(examples: list[dict], folds: int, seed: int = 13) -> None:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for ex in examples:
        groups[(ex["intent"], ex["language"])].append(ex)
    rng = random.Random(seed)
    for key in sorted(groups):
        members = groups[key]
        rng.shuffle(members)
        for i, ex in enumerate(members):
            ex["fold"] = i % folds


def to_yaml(examples: list[dict], other: list[dict]) -> str:
    by_key: dict[tuple, list[str]] = defaultdict(list)
    for ex in examples:
        by_key[(ex["intent"], ex["language"])].append(ex["raw"])
    items = [
        {"intent": i, "metadata": {"language": lang}, "examples": "".join(f"- {t}\n" for t in v)}
        for (i, lang), v in by_key.items()
    ]
    return yaml.safe_dump({"version": "3.1", "nlu": items + other}, allow_unicode=True, sort_keys=False)


def quiet_rasa() -> None:
    """Rasa logs every parsed message at debug level through structlog; keep the output short."""
    import logging

    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


def run_folds(
    examples: list[dict], other: list[dict], folds: int, config_path: Path = ROOT / "config.yml"
) -> float:
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    quiet_rasa()

    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config.pop("policies", None)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
        for fold in range(folds):
            train = [ex for ex in examples if ex["fold"] != fold]
            (tmp_path / f"train{fold}.yml").write_text(to_yaml(train, other), encoding="utf-8")
            model = train_nlu(
                str(tmp_path / "config.yml"),
                str(tmp_path / f"train{fold}.yml"),
                str(tmp_path / "models"),
                fixed_model_name=f"fold{fold}",
            )
            agent = Agent.load(model)
            for ex in (e for e in examples if e["fold"] == fold):
                parsed = asyncio.run(agent.parse_message(plain(ex["raw"])))
                ex["predicted"] = parsed["intent"]["name"]
                ranking = [r["name"] for r in parsed.get("intent_ranking", []) if r["name"] != "nlu_fallback"]
                ex["top"] = ranking[0] if ranking else ex["predicted"]
            print(f"fold {fold + 1}/{folds} done", file=sys.stderr)
    return time.perf_counter() - started


def scores(rows: list[dict]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    gold = [r["intent"] for r in rows]
    labels = sorted(set(gold))
    return {
        "n": len(rows),
        "intents": len(labels),
        "accuracy": accuracy_score(gold, [r["predicted"] for r in rows]),
        "macro_f1": f1_score(
            gold, [r["predicted"] for r in rows], labels=labels, average="macro", zero_division=0
        ),
        "top_macro_f1": f1_score(
            gold, [r["top"] for r in rows], labels=labels, average="macro", zero_division=0
        ),
        "fallbacks": sum(r["predicted"] == "nlu_fallback" for r in rows),
        "confusions": Counter((r["intent"], r["predicted"]) for r in rows if r["predicted"] != r["intent"]),
    }


def report(examples: list[dict], folds: int, seconds: float) -> str:
    per_lang = {lang: scores([e for e in examples if e["language"] == lang]) for lang in LANGS}
    overall = scores(examples)
    lines = [
        "## Intent quality on the project's NLU data (`bench/nlu_report.py`)",
        "",
        f"{folds}-fold cross-validation stratified by intent and language over {overall['n']} examples "
        f"({overall['intents']} intents) of `data/nlu/`, pipeline of `config.yml` "
        f"(FallbackClassifier threshold included: a fallback counts as a miss). "
        f"{folds} trainings + predictions took {seconds:.0f} s on this 2-core machine. "
        f"Run: `PYTHONPATH=. .venv-rasa/bin/python bench/nlu_report.py`.",
        "",
        "| language | examples | accuracy | intent macro-F1 | macro-F1 of top intent (no fallback) | fallbacks | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for lang, s in [*per_lang.items(), ("all", overall)]:
        target = "" if lang == "all" else ("met" if s["macro_f1"] >= 0.92 else "**below 0.92**")
        lines.append(
            f"| {lang} | {s['n']} | {s['accuracy']:.3f} | {s['macro_f1']:.3f} | "
            f"{s['top_macro_f1']:.3f} | {s['fallbacks']} | {target} |"
        )
    lines += ["", "Most frequent confusions (gold → predicted, count), to fix in the training data:", ""]
    for lang, s in per_lang.items():
        pairs = ", ".join(f"{g} → {p} ({n})" for (g, p), n in s["confusions"].most_common(6)) or "none"
        lines.append(f"- **{lang}**: {pairs}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/benchmarks.md")
    parser.add_argument(
        "--config",
        type=Path,
        default=ROOT / "config.yml",
        help="pipeline to measure (a candidate; implies --no-write unless it is config.yml)",
    )
    parser.add_argument("--errors", help="also write every misclassified example to this JSON-lines file")
    args = parser.parse_args()
    examples, other = load_examples(ROOT / "data" / "nlu")
    missing = {ex["raw"] for ex in examples if ex["language"] not in LANGS}
    if missing:
        raise SystemExit(f"examples without metadata.language: {sorted(missing)[:5]}")
    assign_folds(examples, args.folds)
    seconds = run_folds(examples, other, args.folds, args.config)
    body = report(examples, args.folds, seconds)
    if args.errors:
        with open(args.errors, "w", encoding="utf-8") as handle:
            for ex in examples:
                if ex["predicted"] != ex["intent"]:
                    handle.write(
                        json.dumps(
                            {k: ex[k] for k in ("language", "intent", "predicted", "top", "raw")},
                            ensure_ascii=False,
                        )
                        + "\n"
                    )
    print(body)
    if not args.no_write and args.config.resolve() == (ROOT / "config.yml").resolve():
        write_section("nlu", body)


if __name__ == "__main__":
    main()
