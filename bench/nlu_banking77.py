"""Train the project's Rasa NLU pipeline on BANKING77's train split, report the test split.

Runs in the Rasa environment:
    PYTHONPATH=. .venv-rasa/bin/python bench/nlu_banking77.py [--config config.yml]
The dataset stays in ../shared/datasets (never copied into the repository). The baseline, Rasa's
default `rasa init` pipeline (DIET + ResponseSelector, 50 epochs), was measured once on this
machine: 89.93 % accuracy, macro-F1 0.900, 1 h 41 min training (shared/notes/rasa-on-this-machine.md).
Only the NLU part of config.yml is used; entity extractors are dropped (BANKING77 has no entities).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.docs_section import write_section  # noqa: E402

DATA = ROOT.parent / "shared" / "datasets" / "banking77"
BASELINE = {"accuracy": 0.8993, "macro_f1": 0.900, "train_s": 101 * 60}
ENTITY_COMPONENTS = {
    "CRFEntityExtractor",
    "RegexEntityExtractor",
    "EntitySynonymMapper",
    "bot.nlu.components.LanguageEntityExtractor",
    "RegexFeaturizer",
}


def to_rasa_yaml(rows: list[dict[str, str]]) -> str:
    by_intent: dict[str, list[str]] = {}
    for row in rows:
        by_intent.setdefault(row["category"], []).append(row["text"].replace("\n", " ").strip())
    items = [{"intent": k, "examples": "".join(f"- {t}\n" for t in v)} for k, v in by_intent.items()]
    return yaml.safe_dump({"version": "3.1", "nlu": items}, allow_unicode=True, sort_keys=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "config.yml"))
    parser.add_argument(
        "--split",
        choices=["test", "validation"],
        default="test",
        help="validation: train on 90%% of train, score the other 10%% (for tuning)",
    )
    args = parser.parse_args()
    config = yaml.safe_load(Path(args.config).read_text())
    config["pipeline"] = [c for c in config["pipeline"] if c["name"] not in ENTITY_COMPONENTS]
    config.pop("policies", None)

    import asyncio

    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        with open(DATA / "train.csv", newline="") as handle:
            train_rows = list(csv.DictReader(handle))
        if args.split == "validation":
            test_rows = train_rows[9::10]
            train_rows = [r for i, r in enumerate(train_rows) if i % 10 != 9]
        else:
            with open(DATA / "test.csv", newline="") as handle:
                test_rows = list(csv.DictReader(handle))
        (tmp_path / "train.yml").write_text(to_rasa_yaml(train_rows))
        (tmp_path / "config.yml").write_text(yaml.safe_dump(config))
        started = time.perf_counter()
        model = train_nlu(
            str(tmp_path / "config.yml"),
            str(tmp_path / "train.yml"),
            str(tmp_path / "models"),
            fixed_model_name="b77",
        )
        train_s = time.perf_counter() - started
        agent = Agent.load(model)
        predicted = [asyncio.run(agent.parse_message(r["text"]))["intent"]["name"] for r in test_rows]
    gold = [r["category"] for r in test_rows]
    from sklearn.metrics import accuracy_score, f1_score

    accuracy = accuracy_score(gold, predicted)
    macro_f1 = f1_score(gold, predicted, average="macro")
    body = "\n".join(
        [
            "## NLU on BANKING77 (bench/nlu_banking77.py)",
            "",
            "Train split (10,003 examples, 77 intents) → test split (3,080), on this 2-core machine.",
            "",
            "| pipeline | accuracy | macro-F1 | training time |",
            "|---|---|---|---|",
            f"| Rasa default (`rasa init`: DIET + ResponseSelector, 50 epochs; measured once, from the shared notes) | {BASELINE['accuracy']:.2%} | {BASELINE['macro_f1']:.3f} | {BASELINE['train_s'] / 60:.0f} min |",
            f"| this project's config.yml pipeline | {accuracy:.2%} | {macro_f1:.3f} | {train_s:.0f} s |",
            "",
            f"Training-time ratio: {BASELINE['train_s'] / train_s:.0f}x faster; accuracy difference "
            f"{(accuracy - BASELINE['accuracy']) * 100:+.2f} points.",
        ]
    )
    print(
        json.dumps(
            {
                "split": args.split,
                "accuracy": accuracy,
                "macro_f1": macro_f1,
                "train_s": train_s,
                "config": args.config,
            }
        )
    )
    if args.split == "test":
        print(body)
        write_section("nlu-banking77", body)


if __name__ == "__main__":
    main()
