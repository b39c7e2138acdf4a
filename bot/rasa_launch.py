"""``python -m bot.rasa_launch run ...``: ``rasa`` with its HTTP API token taken from ``RASA_TOKEN``.

``rasa run --auth-token=<token>`` would put the token on the process list, where every local
user can read it. Rasa 3.6 reads that token only from its command line, so this wrapper
appends ``--auth-token`` to ``sys.argv`` inside the process (``/proc/<pid>/cmdline`` keeps the
arguments the process was started with) and hands over to Rasa's own entry point.

Runs in the Rasa environment (Python 3.10): standard library and ``rasa`` only.
"""

from __future__ import annotations

import os
import sys


def argv_with_token(argv: list[str], token: str) -> list[str]:
    """Rasa's argv: ``argv`` plus the token, refusing a token given on the command line."""
    if any(arg == "--auth-token" or arg.startswith("--auth-token=") for arg in argv):
        raise SystemExit("rasa_launch: pass the token in RASA_TOKEN, not on the command line")
    # One argument with "=": a token may begin with "-" (token_urlsafe), which argparse would
    # otherwise read as an option and refuse ("expected one argument").
    return ["rasa", *argv, f"--auth-token={token}"]


def main() -> None:
    token = os.environ.get("RASA_TOKEN", "")
    if not token:
        raise SystemExit("rasa_launch: RASA_TOKEN is not set")
    sys.argv = argv_with_token(sys.argv[1:], token)
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
