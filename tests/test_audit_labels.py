"""Every action the code records in the audit log has words on the audit page."""

from __future__ import annotations

import re
from pathlib import Path

import shequn
from shequn.audit.selectors import ACTION_GROUPS, ACTION_LABELS

SOURCE = Path(shequn.__file__).resolve().parent
RECORDED = re.compile(r'record\(\s*"([a-z_]+\.[a-z_.]+)"')
CHOSEN = re.compile(r'"([a-z_]+\.[a-z_.]+)" if .+ else "([a-z_]+\.[a-z_.]+)"')


def recorded_actions() -> set[str]:
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found.update(RECORDED.findall(text))
        for pair in CHOSEN.findall(text):
            found.update(pair)
    return found


def test_every_recorded_action_has_a_label_and_a_group():
    actions = recorded_actions()
    assert len(actions) > 50  # the scan finds the code's actions
    assert sorted(actions - set(ACTION_LABELS)) == []
    assert sorted({action.split(".")[0] for action in actions} - set(ACTION_GROUPS)) == []
