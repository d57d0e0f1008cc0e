"""The rule registry: findings only through registered rules, and docs/audit.md's table generated from it."""

import re
from pathlib import Path

import pytest

from stmodel.app import Format
from workbook.audit import rules
from workbook.audit.rules import RULES, Rule, markdown_table, render_doc, rule

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "workbook" / "audit"


def test_docs_audit_table_is_generated_from_the_registry():
    text = (ROOT / "docs" / "audit.md").read_text()
    regenerate = ".venv/bin/python -c 'from workbook.audit.rules import write_doc; write_doc()'"
    assert text == render_doc(text), f"docs/audit.md's rule table is stale; run: {regenerate}"
    assert markdown_table() in text


def test_every_rule_has_one_id_a_known_severity_and_a_doc():
    assert len({r.id for r in RULES}) == len(RULES)
    for r in RULES:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", r.id), r.id
        assert r.doc and "\n" not in r.doc and "|" not in r.doc, r.id
    assert rule("macros").severities == ("warning", "error")


def test_every_registered_rule_is_raised_by_a_check():
    """No rule sits in the registry unused: each constant is passed to `add` by some check module."""
    source = "\n".join(p.read_text() for p in PACKAGE.glob("*.py") if p.name != "rules.py")
    constants = {name for name, value in vars(rules).items() if isinstance(value, Rule)}
    assert {name for name in constants if not re.search(rf"\badd\(\s*{name}\b", source)} == set()


def test_a_finding_is_made_only_through_a_registered_rule():
    finding = rules.HARDCODE.finding("Income Statement", "E18", "typed")
    assert (finding.severity, finding.rule) == ("error", "hardcode")
    with pytest.raises(LookupError, match="unknown audit rule 'hard-code'"):
        rule("hard-code")
    with pytest.raises(LookupError, match="not registered"):
        Rule("made-up", ("error",), "not in RULES").finding("Cover", "A1", "x")
    with pytest.raises(ValueError, match="no severity 'warning'"):
        rules.HARDCODE.finding("Cover", "A1", "x", "warning")
    with pytest.raises(ValueError, match="needs a severity"):
        rules.MACROS.finding("Cover", "A1", "x")
    with pytest.raises(ValueError, match="not among"):
        Rule("bad", ("fatal",), "no such severity")


def test_the_doc_names_the_formats_the_cli_takes():
    usage = re.search(r"--format ([\w|]+)", (ROOT / "docs" / "audit.md").read_text())
    assert usage and usage.group(1).split("|") == [f.value for f in Format]
