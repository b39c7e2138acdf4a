"""Fixtures starting the real stack (see :mod:`tests.e2e.stack`) for e2e tests.

Uses the model trained by ``scripts/train.sh`` (cached by fingerprint), the knowledge-base
index built by ``make index``, and a fresh SQLite CRM file per test session.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.stack import ROOT, Stack, StackError
from tests.e2e.stack import running_stack as _running_stack

__all__ = ["ROOT", "Stack", "running_stack"]


@contextmanager
def running_stack(var_dir: Path, database_url: str, extra_env=None) -> Iterator[Stack]:
    """:func:`tests.e2e.stack.running_stack`, failing the test when the stack does not start."""
    try:
        with _running_stack(var_dir, database_url, extra_env) as stack:
            yield stack
    except StackError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole assistant on a fresh SQLite CRM file."""
    var_dir = tmp_path_factory.mktemp("stack-var")
    with running_stack(var_dir, f"sqlite:///{var_dir / 'crm.sqlite3'}") as running:
        yield running
