"""The plugin author's reference has one source: the hookspec docstrings, which
``docs/plugins.md`` shows verbatim."""

from __future__ import annotations

from pathlib import Path

from mox_core import hookspecs
from mox_core.plugins import HOOK_NAMES

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"
BEGIN = "<!-- BEGIN mox_core.hookspecs.reference() -->\n"
END = "<!-- END mox_core.hookspecs.reference() -->"


def test_the_docs_show_the_hookspec_docstrings_as_they_are():
    text = DOCS.read_text()
    shown = text[text.index(BEGIN) + len(BEGIN):text.index(END)]
    assert shown == hookspecs.reference(), (
        "docs/plugins.md's reference part differs from the hookspec docstrings: replace it "
        "with what `python -m mox_core.hookspecs` prints")


def test_every_hook_states_when_it_runs_and_every_registration_hook_its_record_fields():
    reference = hookspecs.reference()
    for name in HOOK_NAMES:
        section = reference.split(f"### `{name}(")[1].split("\n### ")[0]
        assert "**When**" in section, name
    assert reference.count("checked when mox collects the records") == 7
    assert "reader = Reader(num_readers=num_readers, capacity=capacity, **reader_kwargs)" \
        in reference
