"""Load benchmark, run in one go: the vanilla ``rasa init`` bot against the project, each alone.

    PYTHONPATH=$PWD .venv/bin/python -m bench.load [--seconds 20] [--only project] [--profile 20]

For each system in turn (started alone, measured, stopped; see bench/load_systems.py):
start-up time until it answers, idle resident memory of all its processes, closed-loop customers
(bench/load_drive.py) at 1, 10 and 50 users, and the throughput of one conversation growing to
200 turns. The vanilla bot is driven over its REST channel, the project through the gateway
WebSocket (with ``RATE_LIMITS=off``: every customer comes from 127.0.0.1). Loopback only; each
level is bounded in time and in messages. Writes the figures and the project/vanilla ratios to
docs/benchmarks.md (section ``load``) and the raw figures to var/bench/load.json.
``--profile N`` records N seconds of ``py-spy record -f raw`` of the project's Rasa server and
action server during the 10-customer level (var/bench/profile-*.txt).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import load_drive as drive
from bench import load_systems as systems
from bench.docs_section import write_section

OUT = systems.ROOT / "var" / "bench"
LEVELS = (1, 10, 50)


def log(msg: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def machine_load() -> str:
    return "load average " + " / ".join(f"{x:.1f}" for x in os.getloadavg())


def start_profiles(running: systems.Running, seconds: int) -> list[subprocess.Popen]:
    spy = Path(sys.executable).parent / "py-spy"
    procs = []
    OUT.mkdir(parents=True, exist_ok=True)
    for role in ("rasa", "actions", "gateway"):
        pid = running.pids.get(role)
        if pid:
            procs.append(
                subprocess.Popen(
                    [
                        str(spy),
                        "record",
                        "-p",
                        str(pid),
                        "-f",
                        "raw",
                        "-d",
                        str(seconds),
                        "-r",
                        "50",
                        "--subprocesses",
                        "-o",
                        str(OUT / f"profile-{role}.txt"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
    return procs


def measure(running: systems.Running, make_client, scripts, long_script, args) -> dict:
    time.sleep(3)
    figures: dict = {
        "ready_s": round(running.ready_s, 1),
        "idle_rss_mb": round(systems.rss_mb(running.session_id)),
        "startup": running.startup,
    }
    log(
        f"{running.name}: ready in {figures['ready_s']} s, idle {figures['idle_rss_mb']} MB; {machine_load()}"
    )
    figures["load_before"] = machine_load()
    for users in LEVELS:
        profiles = (
            start_profiles(running, args.profile)
            if (args.profile and users == 10 and running.name == "project")
            else []
        )
        level = drive.closed_loop(
            make_client,
            scripts,
            users,
            args.seconds if users > 1 else args.seconds * 2,
            max_messages=args.max_messages,
        )
        for p in profiles:
            p.wait(timeout=args.profile + 60)
        if not systems.alive(running):
            raise SystemExit(
                f"{running.name} stopped during the {users}-customer level (killed from outside?); "
                "no figures recorded"
            )
        kinds = sorted({s.kind for s in level.samples})
        figures[f"u{users}"] = {
            "messages": len(level.samples),
            "errors": level.errors,
            "throughput": round(level.throughput, 1),
            "median_ms": round(level.median_ms(), 1),
            "p95_ms": round(level.p95_ms(), 1),
            "by_kind_median_ms": {k: round(level.median_ms(k), 1) for k in kinds},
        }
        log(f"{running.name} {users} users: {figures[f'u{users}']}; {machine_load()}")
    rates = drive.long_conversation(make_client(), long_script, args.turns, args.turns // 4)
    figures["long"] = [round(r, 1) for r in rates]
    log(f"{running.name} one conversation to {args.turns} turns, msg/s per quarter: {figures['long']}")
    figures["load_after"] = machine_load()
    return figures


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "–"


def report(results: dict) -> str:
    v, p = results.get("vanilla"), results.get("project")
    rows = [
        ("ready after start (s)", "ready_s", None),
        ("idle resident memory, all processes (MB)", "idle_rss_mb", None),
        ("1 customer, median reply (ms)", "u1", "median_ms"),
        ("1 customer, KB answer median (ms)", "u1", "kb"),
        ("10 customers, throughput (msg/s)", "u10", "throughput"),
        ("10 customers, median / p95 (ms)", "u10", "median_p95"),
        ("50 customers, throughput (msg/s)", "u50", "throughput"),
        ("50 customers, p95 (ms)", "u50", "p95_ms"),
        ("one conversation to 200 turns, msg/s per 50 turns", "long", None),
    ]

    def cell(fig: dict | None, key: str, sub: str | None) -> tuple[str, float | None]:
        if fig is None:
            return "not run", None
        value = fig[key]
        if sub is None:
            return (" → ".join(map(str, value)), None) if isinstance(value, list) else (str(value), value)
        if sub == "kb":
            kb = value["by_kind_median_ms"].get("kb")
            return (str(kb), kb) if kb is not None else ("–", None)
        if sub == "median_p95":
            return f"{value['median_ms']} / {value['p95_ms']}", None
        return str(value[sub]), value[sub]

    lines = [
        "## Load: the project against the vanilla `rasa init` bot (bench/load.py)",
        "",
        f"Run {results['when']} on this shared 2-core machine ({results['cpus']} CPUs), each system alone in "
        "turn; closed-loop customers (the next message only after the reply), the vanilla bot over its REST "
        "channel, the project through the gateway WebSocket with KB, forms and CRM logging. "
        f"{results['seconds']} s per level after a 2 s warm-up (1 customer: twice that). "
        "Machine load seen: "
        + "; ".join(
            f"{k}: {f['load_before']} before, {f['load_after']} after"
            for k, f in (("vanilla", v), ("project", p))
            if f
        )
        + ".",
        "",
        "| | vanilla `rasa init` | project | project / vanilla |",
        "|---|---|---|---|",
    ]
    for label, key, sub in rows:
        vt, vv = cell(v, key, sub)
        pt, pv = cell(p, key, sub)
        lines.append(f"| {label} | {vt} | {pt} | {ratio(pv, vv) if pv is not None and vv else ''} |")
    if p:
        lines += [
            "",
            "Project, median reply by kind (ms): "
            + "; ".join(
                f"{users} customers: "
                + ", ".join(f"{k} {ms}" for k, ms in p[f"u{users}"]["by_kind_median_ms"].items())
                for users in LEVELS
            )
            + ".",
        ]
        lines += [
            "",
            "Project start-up (services.sh, the services start together): " + "; ".join(p["startup"]) + ".",
        ]
        lines += [
            "",
            "Errors (error frames, timeouts): "
            + ", ".join(
                f"{name} {users}: {f[f'u{users}']['errors']}"
                for name, f in (("vanilla", v), ("project", p))
                if f
                for users in LEVELS
            )
            + ".",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per level")
    parser.add_argument("--max-messages", type=int, default=3000, help="cap per level")
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--only", choices=("vanilla", "project"))
    parser.add_argument("--profile", type=int, default=0, help="py-spy seconds during the 10-customer level")
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    results: dict = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "seconds": args.seconds,
    }
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        work = Path(tmp)
        if args.only != "project":
            model = systems.vanilla_model(log)
            with systems.vanilla(model, work) as running:
                results["vanilla"] = measure(
                    running,
                    lambda: drive.VanillaClient(running.url),
                    drive.VANILLA_SCRIPTS,
                    drive.VANILLA_LONG,
                    args,
                )
        if args.only != "vanilla":
            with systems.project(work) as running:
                results["project"] = measure(
                    running,
                    lambda: drive.ProjectClient(running.url),
                    drive.PROJECT_SCRIPTS,
                    drive.PROJECT_LONG,
                    args,
                )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "load.json").write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    body = report(results)
    print(body)
    if not args.no_docs:
        write_section("load", body)


if __name__ == "__main__":
    main()
