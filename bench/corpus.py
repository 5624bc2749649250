"""Benchmark corpora: the BBC set in ../shared when present, else generated text."""

from __future__ import annotations

import random
from pathlib import Path

from devkit.evaluation import generated_articles  # noqa: F401  (re-exported for the benchmarks)

REPO = Path(__file__).resolve().parents[1]
BBC = REPO.parent / "shared" / "corpora" / "bbc"
BBC_SUMMARIES = REPO.parent / "shared" / "corpora" / "bbc-summaries"

WORDS = ("council budget minister report market growth league match season film album court police "
         "election government company shares profit energy school hospital weather storm river city "
         "people said would year month week new plan vote deal talks record price rise fall").split()


def bbc_files() -> list[Path]:
    return sorted(BBC.glob("*/*.txt")) if BBC.is_dir() else []


def generated_document(rng: random.Random, i: int) -> bytes:
    title = " ".join(rng.choice(WORDS) for _ in range(7)).capitalize() + f" {i}"
    paragraphs = []
    for _ in range(rng.randint(4, 9)):
        sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))).capitalize() + "."
                     for _ in range(rng.randint(2, 4))]
        paragraphs.append(" ".join(sentences))
    return (title + "\n\n" + "\n\n".join(paragraphs) + "\n").encode()


def raw_documents(limit: int | None = None, seed: int = 7) -> tuple[str, list[bytes]]:
    """(source name, documents): the BBC articles, or generated ones when ../shared is absent."""
    files = bbc_files()
    if files:
        docs = [p.read_bytes() for p in files]
        return "bbc", docs[:limit] if limit else docs
    rng = random.Random(seed)
    return "generated", [generated_document(rng, i) for i in range(limit or 2225)]
