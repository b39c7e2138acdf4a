"""Browser tests: the whole stack (action server, Rasa, gateway) on a fresh, seeded SQLite CRM and
a private copy of the KB index (the trainer test rebuilds and publishes it), driven by Debian's
headless Chromium through playwright. Screenshots go to ``artifacts/screenshots/``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Stack, running_stack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = ROOT / "artifacts" / "screenshots"
PYTHON = str(ROOT / ".venv" / "bin" / "python")


@dataclass
class WebStack:
    stack: Stack
    var_dir: Path
    index_root: Path
    logins: dict[str, dict[str, str]]

    @property
    def url(self) -> str:
        return self.stack.base_url

    @property
    def database_url(self) -> str:
        return self.stack.database_url

    def sql(self, query: str, **params: Any) -> list[Any]:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url)
        try:
            with engine.begin() as conn:
                result = conn.execute(text(query), params)
                return list(result.all()) if result.returns_rows else []
        finally:
            engine.dispose()


def _copy_index(target: Path) -> None:
    """The published build of the repo's index (``make index``), as a private index root."""
    source = Path(os.environ.get("KB_INDEX_DIR", ROOT / "var" / "kb"))
    current = (source / "CURRENT").read_text().strip()
    shutil.copytree(source / current, target / current)
    (target / "CURRENT").write_text(current + "\n")


def _run(args: list[str], env: dict[str, str]) -> str:
    return subprocess.run(
        [PYTHON, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="session")
def web_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebStack]:
    var_dir = tmp_path_factory.mktemp("web-var")
    index_root = var_dir / "kb"
    _copy_index(index_root)
    database_url = f"sqlite:///{var_dir / 'crm.sqlite3'}"
    with ExitStack() as cleanup:
        saved = os.environ.get("KB_INDEX_DIR")
        os.environ["KB_INDEX_DIR"] = str(index_root)  # read once by running_stack, for every service
        try:
            stack = cleanup.enter_context(running_stack(var_dir, database_url))
        finally:
            if saved is None:
                os.environ.pop("KB_INDEX_DIR", None)
            else:
                os.environ["KB_INDEX_DIR"] = saved
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "CSA_VAR_DIR": str(var_dir),
            "DATABASE_URL": database_url,
        }
        _run(["-m", "crm", "--url", database_url, "seed", "--no-users"], env)
        _run(["-m", "gateway.console.devusers"], env)
        _run(["-m", "worker", "import-if-empty"], env)
        logins = json.loads((var_dir / "secrets" / "dev_users.json").read_text())
        yield WebStack(stack, var_dir, index_root, logins)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Pages:
    """Browser contexts for one test; collects page errors and saves numbered screenshots."""

    def __init__(self, browser: Any, test_name: str) -> None:
        self.browser, self.test_name, self.count = browser, test_name, 0
        self.errors: list[str] = []
        self.contexts: list[Any] = []
        SHOTS.mkdir(parents=True, exist_ok=True)
        for old in SHOTS.glob(f"{test_name}-*.png"):
            old.unlink()

    def new(self, width: int = 1440, height: int = 900, locale: str = "zh-TW") -> Any:
        context = self.browser.new_context(viewport={"width": width, "height": height}, locale=locale)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("dialog", lambda dialog: (self.errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
        return page

    def shot(self, page: Any, name: str, full_page: bool = False) -> Path:
        self.count += 1
        path = SHOTS / f"{self.test_name}-{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Any, request: pytest.FixtureRequest) -> Iterator[Pages]:
    name = re.sub(r"[^a-z0-9_]+", "-", request.node.name.lower()).strip("-")
    value = Pages(browser, name)
    yield value
    value.close()


def login(page: Any, web: WebStack, role: str, path: str) -> None:
    cred = web.logins[role]
    page.goto(f"{web.url}/login?next={path}")
    page.fill("input[name=username]", cred["username"])
    page.fill("input[name=password]", cred["password"])
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")


def open_widget(page: Any, web: WebStack, query: str = "") -> None:
    page.goto(f"{web.url}/{query}")
    page.click(".lw-launcher")
    page.wait_for_selector(".lw-panel:not([hidden])")


def ask(page: Any, text: str) -> None:
    page.fill(".lw-form textarea", text)
    page.keyboard.press("Enter")


def wait_for(predicate: Callable[[], Any], timeout: float = 60, step: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")
