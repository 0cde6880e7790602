"""`cicie outbox …` and `cicie mail preview` as an operator uses them."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from tests.conftest import example_steps
from tests.notifications.conftest import SmtpServer


@pytest.fixture
def cicie(database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> Any:
    env = {
        "CICIE_DATABASE_URL": database_url,
        "CICIE_HOME": str(tmp_path / "home"),
        "CICIE_SMTP_HOST": smtp_server.host,
        "CICIE_SMTP_PORT": str(smtp_server.port),
        "CICIE_SMTP_TIMEOUT": "5",
    }
    runner = CliRunner()

    def run(*args: Any) -> Result:
        return runner.invoke(app, [str(a) for a in args], env=env)

    return run


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def _accepted_internship(cicie: Any) -> int:
    _json(
        cicie(
            "emb",
            "add",
            "--code",
            "KE-IEBC",
            "--name",
            "IEBC",
            "--country",
            "KE",
            "--language",
            "en",
            "--email",
            "iebc@example.org",
            "--json",
        )
    )
    request = _json(
        cicie("request", "new", "internship", "--emb", "KE-IEBC", "--title", "T", "--json")
    )
    step = example_steps("internship")[0]
    _json(
        cicie(
            "request",
            "advance",
            request["id"],
            step["trigger"],
            "--data",
            json.dumps(step["data"]),
            "--as",
            step["as"],
            "--json",
        )
    )
    return int(request["id"])


def test_outbox_list_send_once_and_the_history_agree(cicie: Any, smtp_server: SmtpServer) -> None:
    request_id = _accepted_internship(cicie)
    queued = _json(cicie("outbox", "list", "--status", "pending", "--json"))
    assert {q["to"] for q in queued} == {"wanjiru.kamau@example.org", "iebc@example.org"}
    assert all(
        {"id", "status", "to", "subject", "language", "attempts", "key"} <= q.keys() for q in queued
    )
    assert {q["language"] for q in queued} == {"en"}
    assert _json(cicie("outbox", "send", "--once", "--json")) == {
        "sent": 2,
        "retrying": 0,
        "dead": 0,
    }
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == sorted(q["to"] for q in queued)
    assert _json(cicie("outbox", "send", "--once", "--json"))["sent"] == 0
    history = _json(cicie("request", "history", request_id, "--json"))
    accept = next(h for h in history if h["trigger"] == "accept")
    assert {m["status"] for m in accept["mails"]} == {"sent"}


def test_a_dead_letter_is_retried_from_the_cli(cicie: Any, smtp_server: SmtpServer) -> None:
    _accepted_internship(cicie)
    smtp_server.reply_rcpt("550 5.1.1 unknown user")
    smtp_server.reply_rcpt("550 5.1.1 unknown user")
    report = _json(cicie("outbox", "send", "--once", "--json"))
    assert report["dead"] == 2
    dead = _json(cicie("outbox", "list", "--status", "dead", "--json"))
    assert len(dead) == 2
    assert cicie("outbox", "retry", dead[0]["id"]).exit_code == 0
    assert _json(cicie("outbox", "send", "--once", "--json"))["sent"] == 1
    missing = cicie("outbox", "retry", 99999, "--json")
    assert missing.exit_code == 1
    assert json.loads(missing.stdout)["error"]["code"] == "not_found"


@pytest.mark.parametrize(("lang", "words"), [("es", "Logística"), ("fr", "Logistique")])
def test_mail_preview_renders_without_sending(
    cicie: Any, smtp_server: SmtpServer, lang: str, words: str
) -> None:
    shown = _json(cicie("mail", "preview", "logistics_confirmed", "--lang", lang, "--json"))
    assert shown["language"] == lang
    assert words in shown["subject"]
    assert "<html" in shown["html"].lower()
    assert smtp_server.received == []
    unknown = cicie("mail", "preview", "no_such_template", "--json")
    assert unknown.exit_code == 1
    assert json.loads(unknown.stdout)["error"]["code"] == "template_error"


def test_mail_preview_writes_arabic_right_to_left_and_portuguese(cicie: Any) -> None:
    arabic = cicie("mail", "preview", "final_report_requested", "--lang", "ar", "--html")
    assert arabic.exit_code == 0, arabic.output
    assert "Content-Language: ar" in arabic.stdout
    assert '<html lang="ar" dir="rtl">' in arabic.stdout
    assert "طلب التقرير النهائي" in arabic.stdout  # "final report requested"
    portuguese = _json(
        cicie(
            "mail",
            "preview",
            "final_report_requested",
            "--lang",
            "pt",
            "--role",
            "intern",
            "--json",
        )
    )
    assert portuguese["language"] == "pt"
    assert "Solicitamos o seu relatório final" in portuguese["subject"]
    assert "?lang=pt" in portuguese["text"]
    assert "Abrir o formulário do relatório final" in portuguese["html"]


def test_mail_preview_refuses_a_language_mail_is_not_written_in(cicie: Any) -> None:
    unknown = cicie("mail", "preview", "request_received", "--lang", "xx")
    assert unknown.exit_code == 2
    assert "es, en, fr, pt, ar" in unknown.output
    shown = cicie("mail", "preview", "--help")
    assert "es, en, fr, pt, ar" in " ".join(shown.output.split())


def test_worker_once_at_a_given_moment_fires_the_deadline_and_delivers(
    cicie: Any, smtp_server: SmtpServer
) -> None:
    """An internship held in the coming months (not the example's 2016 one: timers already
    past when armed are skipped since issue 14, so a 2016 deadline never fires)."""
    request_id = _accepted_internship(cicie)
    steps = example_steps("internship")
    start = date.today() + timedelta(days=60)
    for step in steps[1:]:
        if step["trigger"] == "submit_report":
            break
        data = dict(step["data"])
        if step["trigger"] == "confirm_logistics":
            data.pop("past_event", None)
            data.update(
                event_start=start.isoformat(),
                event_end=(start + timedelta(days=11)).isoformat(),
            )
        _json(
            cicie(
                "request",
                "advance",
                request_id,
                step["trigger"],
                "--data",
                json.dumps(data),
                "--as",
                step["as"],
                "--json",
            )
        )
    shown = _json(cicie("request", "show", request_id, "--json"))
    assert shown["state"] == "final_report"
    timeline = _json(cicie("request", "timeline", request_id, "--json"))
    deadline = next(t for t in timeline if t["what"] == "mark_overdue")
    late = deadline["due_at"].replace("T09:00:00", "T09:30:00")
    done = _json(cicie("worker", "--once", "--now", late, "--json"))
    assert done["timers"]["transitions"] == 1
    assert done["timers"]["skipped"] == 1  # the 7-days-before reminder, a week late
    assert done["mail"]["dead"] == 0
    assert _json(cicie("request", "show", request_id, "--json"))["state"] == "report_overdue"
    again = _json(cicie("worker", "--once", "--now", late, "--json"))
    assert again["timers"]["escalations"] == 1
    assert _json(cicie("worker", "--once", "--now", late, "--json"))["timers"]["fired"] == []
    bad = cicie("worker", "--once", "--now", "tomorrow", "--json")
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["error"]["code"] == "invalid_data"
