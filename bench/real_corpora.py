"""The real, labelled corpora in ../shared/corpora: gunviolence, ecbplus, onestop, sts-headlines.

Each corpus folder has docs/<doc_id>.txt (title line, blank line, paragraphs), docs.tsv
(doc_id, group, date) and pairs.tsv (doc_a, doc_b, label); see its README. They are other
people's copyright: read here, never copied into the repository.

Labels: duplicate, revision, rewrite must link; same-event, similar-event must not;
ignore is not scored; a pair not listed is two different articles.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora"
DOC_CORPORA = ("gunviolence", "ecbplus", "onestop")
POSITIVE = ("duplicate", "revision", "rewrite")
HARD_NEGATIVE = ("same-event", "similar-event")


@dataclass
class CorpusDoc:
    doc_id: str
    group: str
    date: str  # ISO date or ""
    text: str

    def delivered(self) -> bytes:
        """The file as a feed would deliver it: a date header when the source gives one."""
        head = f"date: {self.date}\n" if self.date else ""
        return (head + self.text).encode()


@dataclass
class Corpus:
    name: str
    docs: list[CorpusDoc] = field(default_factory=list)
    pairs: dict[tuple[str, str], str] = field(default_factory=dict)  # sorted (a, b) -> label

    def label(self, a: str, b: str) -> str:
        """The pair's label; 'different' for pairs not listed."""
        return self.pairs.get((a, b) if a <= b else (b, a), "different")


def available() -> bool:
    return all((SHARED / name / "pairs.tsv").is_file() for name in (*DOC_CORPORA, "sts-headlines"))


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def load(name: str, root: Path = SHARED) -> Corpus:
    folder = root / name
    corpus = Corpus(name)
    with open(folder / "docs.tsv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    for row in rows:
        corpus.docs.append(CorpusDoc(row["doc_id"], row["group"], row.get("date") or "",
                                     _read_text(folder / "docs" / f"{row['doc_id']}.txt")))
    with open(folder / "pairs.tsv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            a, b = sorted((row["doc_a"], row["doc_b"]))
            corpus.pairs[(a, b)] = row["label"]
    return corpus


def sts_pairs(root: Path = SHARED) -> list[tuple[float, str, str]]:
    out = []
    with open(root / "sts-headlines" / "pairs.tsv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            out.append((float(row["score"]), row["sentence_a"], row["sentence_b"]))
    return out
