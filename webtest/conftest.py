"""Fixtures for the web UI end-to-end tests: `p2pchat up` nodes and headless Chromium."""
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import urllib.parse

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

BIN = os.environ.get("P2PCHAT_BIN", "")
ARTIFACTS = os.environ.get("WEBTEST_ARTIFACTS", os.path.join(os.path.dirname(__file__), "..", "artifacts", "screenshots"))


class Node:
    """One home with `p2pchat up` running in it; `url` is the printed web UI URL."""

    def __init__(self, name, root):
        self.name = name
        self.home = os.path.join(root, name.lower())
        self.process = None
        self.url = None
        self.log = open(os.path.join(root, name.lower() + ".log"), "a")
        subprocess.run([BIN, "--home", self.home, "init", "--name", name], check=True, stdout=self.log, stderr=self.log)

    def start(self, timeout=60):
        lines = queue.Queue()
        self.process = subprocess.Popen([BIN, "--home", self.home, "up"], stdout=subprocess.PIPE, stderr=self.log, text=True)

        def pump(stream):
            for line in stream:
                self.log.write(line)
                self.log.flush()
                lines.put(line.strip())
            lines.put(None)

        threading.Thread(target=pump, args=(self.process.stdout,), daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"{self.name}: `p2pchat up` printed no 'web UI:' line in {timeout}s")
            if line is None:
                raise AssertionError(f"{self.name}: `p2pchat up` exited ({self.process.wait()}) without serving the web UI; see {self.log.name}")
            if line.startswith("web UI: "):
                self.url = line[len("web UI: "):]
                return self

    @property
    def base(self):
        parts = urllib.parse.urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def token(self):
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.url).query)["token"][0]

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@pytest.fixture(scope="session")
def workdir():
    assert BIN and os.access(BIN, os.X_OK), "set P2PCHAT_BIN to the built p2pchat (scripts/webui-test does)"
    root = tempfile.mkdtemp(prefix="webtest-")
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def alice(workdir):
    node = Node("Alice", workdir).start()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def bob(workdir):
    node = Node("Bob", workdir).start()
    yield node
    node.stop()


def make_browser():
    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,820",
                     "--force-device-scale-factor=1", "--lang=en-US"):
        options.add_argument(argument)
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(service=service, options=options)


@pytest.fixture(scope="session")
def browsers():
    made = []

    def make():
        browser = make_browser()
        made.append(browser)
        return browser

    yield make
    for browser in made:
        browser.quit()


@pytest.fixture(scope="session")
def screenshot():
    os.makedirs(ARTIFACTS, exist_ok=True)

    def take(browser, name):
        path = os.path.join(ARTIFACTS, name + ".png")
        browser.save_screenshot(path)
        return path

    return take
