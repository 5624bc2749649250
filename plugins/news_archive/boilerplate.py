"""Move non-content lines out of article bodies, by a rule list kept as data.

The rules live in `rules/boilerplate.json`; each removal is returned so that the
article records what was taken out and by which rule (nothing vanishes silently).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

RULES_PATH = Path(__file__).with_name("rules") / "boilerplate.json"
SCOPES = ("paragraph", "line", "trailing_sentence")


@dataclass(frozen=True)
class Rule:
    id: str
    scope: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class RuleSet:
    version: int
    rules: tuple[Rule, ...]


def load_rules(path: Path = RULES_PATH) -> RuleSet:
    spec = json.loads(path.read_text(encoding="utf-8"))
    rules = []
    for item in spec["rules"]:
        if item["scope"] not in SCOPES:
            raise ValueError(f"rule {item['id']}: unknown scope {item['scope']!r}")
        flags = re.IGNORECASE | re.MULTILINE
        if item["scope"] == "trailing_sentence":
            # a sentence that starts a line or follows another, and ends the paragraph (\Z:
            # with $, which MULTILINE lets match at the end of any line, a notice ending a
            # paragraph's first line took the lines after it too, unrecorded)
            pattern = re.compile(r"(?:(?<=[.!?\"”’])\s+|^)(?:" + item["pattern"] + r")\s*\Z", flags)
        else:
            pattern = re.compile(item["pattern"], flags)
        rules.append(Rule(item["id"], item["scope"], pattern))
    return RuleSet(int(spec.get("version", 1)), tuple(rules))


def default_rules() -> RuleSet:
    """The rule list in use: `NEWS_ARCHIVE_BOILERPLATE_RULES` (a JSON file) or the packaged one."""
    return _cached_rules(os.environ.get("NEWS_ARCHIVE_BOILERPLATE_RULES") or str(RULES_PATH))


@lru_cache(maxsize=4)
def _cached_rules(path: str) -> RuleSet:
    return load_rules(Path(path))


def strip_boilerplate(paragraphs: list[str], rules: RuleSet | None = None) -> tuple[list[str], list[dict]]:
    """Return the paragraphs without boilerplate, and what was removed.

    Each removal is `{"rule": id, "text": removed text}`.
    """
    rules = rules or default_rules()
    removed: list[dict] = []
    kept: list[str] = []
    for para in paragraphs:
        para = _strip_paragraph(para, rules, removed)
        if para:
            kept.append(para)
    return kept, removed


def _strip_paragraph(para: str, rules: RuleSet, removed: list[dict]) -> str:
    for rule in rules.rules:
        if rule.scope == "paragraph" and rule.pattern.search(para):
            removed.append({"rule": rule.id, "text": para})
            return ""
    lines = []
    for line in para.split("\n"):
        hit = next((r for r in rules.rules if r.scope == "line" and r.pattern.fullmatch(line.strip())), None)
        if hit:
            removed.append({"rule": hit.id, "text": line.strip()})
        else:
            lines.append(line)
    para = "\n".join(lines).strip()
    for rule in rules.rules:
        if rule.scope == "trailing_sentence" and (m := rule.pattern.search(para)):
            removed.append({"rule": rule.id, "text": m.group(0).strip()})
            para = para[: m.start()].rstrip()
    return para
