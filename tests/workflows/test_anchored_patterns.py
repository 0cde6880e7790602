"""Validators mean what they say: Python's `$` also matches before a final newline, so a
pattern that ends in `$` lets `value\\n` through `.match`. Every regular expression in the
code ends in `\\Z` (or is used with `fullmatch`); the e-mail rule refuses what mail cannot
carry."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from workflows.fields import EMAIL_RE

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("cli", "config", "engine", "notifications", "results", "storage", "web", "workflows")
RE_FUNCTIONS = {"compile", "match", "search", "fullmatch", "sub", "split", "findall"}


def _last_text(node: ast.expr) -> str | bytes | None:
    """The literal text a pattern argument ends with (the right end of a concatenation)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _last_text(node.right)
    if isinstance(node, ast.JoinedStr) and node.values:
        return _last_text(node.values[-1])
    return None


def _patterns_ending_in_dollar() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "re"
                    and node.func.attr in RE_FUNCTIONS
                    and node.args
                ):
                    continue
                text = _last_text(node.args[0])
                tail = text.decode("latin-1") if isinstance(text, bytes) else text
                if tail and tail.endswith("$") and not tail.endswith("\\$"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_pattern_in_the_code_ends_in_a_dollar() -> None:
    assert _patterns_ending_in_dollar() == []


@pytest.mark.parametrize(
    "address",
    [
        "a@b.org\n",
        "a@b.org\r\n",
        " a@b.org",
        "a@b.org ",
        "a@b.org,c@d.org",
        "a@b.org\nBcc: c@d.org",
        "josé@b.org",  # the mail headers take an ASCII local part only
        "a..b@b.org",
        "a@-b.org",
        "a@b",
        "o'brien@b.org",
        "x" * 65 + "@b.org",
    ],
)
def test_the_e_mail_rule_refuses_what_mail_cannot_carry(address: str) -> None:
    assert EMAIL_RE.match(address) is None


@pytest.mark.parametrize("address", ["a@b.org", "first.last+cicie@mail.ine.mx", "x_1@a-b.example"])
def test_the_e_mail_rule_takes_plain_addresses(address: str) -> None:
    assert EMAIL_RE.fullmatch(address)
