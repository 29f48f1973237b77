"""Apprise URLs carry passwords and tokens: never shown by ``subscribe`` (list, --json, a
refused add, a failed test) nor written to a log or a stored error."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from nianbao.notify.alerts import notify
from nianbao.notify.secrets import masked_url, scrub
from tests.conftest import ROOT
from tests.mockserver.attacks import Answer, AttackPortal

NIANBAO = [sys.executable, "-m", "nianbao.commands.cli"]
PASSWORD = "Pa55w0rd-s3cret"
TOKEN = "tok3n9f8e7d6c5b4a"


def subscribe(db: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*NIANBAO, "subscribe", *args, "--db", db], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def assert_secret_free(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text and TOKEN not in text, text


def test_subscribe_never_shows_the_urls_secrets(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'nianbao.sqlite'}"
    urls = {"desk": f"json://editor:{PASSWORD}@127.0.0.1:9/hook?token={TOKEN}",
            "bot": f"dingtalk://{TOKEN}/",
            "mail": f"mailtos://editor:{PASSWORD}@mail.example.org?to=desk@example.org"}
    for name, url in urls.items():
        done = subscribe(db, "add", name, url)
        assert done.returncode == 0, done.stderr
        assert_secret_free(done.stdout, done.stderr)
    listed = subscribe(db, "list")
    as_json = subscribe(db, "list", "--json")
    assert listed.returncode == as_json.returncode == 0
    assert listed.stdout.count("\n") == 3 and "127.0.0.1" in listed.stdout
    assert_secret_free(listed.stdout, as_json.stdout)
    refused = [subscribe(db, "add", "desk", urls["desk"]),  # the name is taken
               subscribe(db, "add", "new", f"nosuchscheme://editor:{PASSWORD}@h/{TOKEN}"),
               subscribe(db, "add", "12345", urls["bot"])]  # a name that looks like an id
    for done in refused:
        assert done.returncode == 2 and done.stderr.startswith("nianbao: "), done.stderr
        assert_secret_free(done.stdout, done.stderr)
    failed = subscribe(db, "test", "desk")  # nothing listens on port 9
    assert failed.returncode == 1
    assert_secret_free(failed.stdout, failed.stderr)


def test_a_failed_send_keeps_the_secrets_out_of_its_error_and_the_log(caplog) -> None:
    with AttackPortal() as receiver:
        receiver.routes["/hook"] = Answer(500, b"down", "text/plain")
        url = f"json://editor:{PASSWORD}@127.0.0.1:{receiver.port}/hook/{TOKEN}"
        with caplog.at_level(logging.DEBUG, logger="apprise"):
            error = notify(url, "标题", "正文")
        assert receiver.paths(), "the receiver was contacted"
    assert error is not None
    assert_secret_free(error, caplog.text)


def test_masking_rules() -> None:
    assert PASSWORD not in masked_url(f"json://u:{PASSWORD}@example.org/")
    assert masked_url(f"nosuchscheme://u:{PASSWORD}@h/") == "nosuchscheme://****"
    assert scrub(f"POST to https://oapi.example/{TOKEN} failed", f"x://{TOKEN}") == (
        "POST to https://oapi.example/**** failed")
