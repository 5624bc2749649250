"""Benchmark corpora: the BBC set in ../shared when present, else generated text."""

from __future__ import annotations

import html
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


# --------------------------------------------------------------------------- real news and its versions
REAL_SHARE = 0.16  # original real documents; the rest are versions of them (6,400 originals at N = 40,000)
VERSIONS = (  # (kind, share of the corpus): how each version of a real document is made
    ("redelivered", 0.06),  # the same bytes under another name
    ("restyled", 0.14),  # the same article in another wrapper (HTML page, header block)
    ("revision", 0.20),  # an edited update (devkit.evaluation.revise)
    ("condensed", 0.16),  # the first half of its paragraphs
    ("reworded", 0.16),  # a paraphrase, sentence by sentence (devkit.evaluation.reword)
    ("reworded_condensed", 0.12),  # a shorter paraphrase
)


def real_documents() -> list[tuple[str, str, str, str, str]]:
    """(name, title, body, date, family) of every real document in ../shared/corpora: BBC
    articles and their summaries, gunviolence, ecbplus and onestop. Empty when ../shared is
    absent. A family is the documents that are about one thing: a BBC article and its
    summary, one shooting's reports, one ecbplus topic (both its events), one onestop text
    at its reading levels."""
    from bench import real_corpora

    docs: list[tuple[str, str, str, str, str]] = []
    for path in bbc_files():
        title, _, body = path.read_bytes().decode("utf-8", errors="replace").partition("\n")
        family = f"bbc:{path.parent.name}:{path.stem}"
        docs.append((f"bbc-{path.parent.name}-{path.stem}", title.strip(), body.strip(), "", family))
        summary = BBC_SUMMARIES / path.parent.name / path.name
        if summary.is_file():
            docs.append((f"sum-{path.parent.name}-{path.stem}", title.strip(),
                         summary.read_text(errors="replace").strip(), "", family))
    for name in real_corpora.DOC_CORPORA:
        if not (real_corpora.SHARED / name / "docs.tsv").is_file():
            continue
        for doc in real_corpora.load(name).docs:
            family = ":".join(doc.group.split(":")[:2])  # ecbplus:1:ecb and ecbplus:1:ecbplus: topic 1
            first, _, rest = doc.text.strip().partition("\n")
            if len(first) <= 200 and rest.strip():  # a title line, as the sources give it
                docs.append((doc.doc_id, first.strip(), rest.strip(), doc.date, family))
            else:  # a headless report: the pipeline derives its title
                docs.append((doc.doc_id, "", doc.text.strip(), doc.date, family))
    return docs


def _whole_families(pool: list[tuple[str, str, str, str, str]], count: int, rng: random.Random
                    ) -> list[tuple[str, str, str, str]]:
    """`count` documents of the pool, drawn family by family in a random order.

    Drawing single documents would make the corpus's link structure depend on its size: at
    3,200 of the 6,439 documents a BBC article comes with its summary one time in four, at
    6,400 nearly always, so stories grow and the pairs to verify with them (36,793 links at
    20,000 dumps, 93,118 at 40,000: 2.5x for 2x). Whole families keep the mix of story sizes
    the same at every size; only the last family drawn may be cut short.
    """
    families: dict[str, list] = {}
    for name, title, body, date, family in pool:
        families.setdefault(family, []).append((name, title, body, date))
    order = sorted(families)
    rng.shuffle(order)
    drawn: list[tuple[str, str, str, str]] = []
    for family in order:
        if len(drawn) >= count:
            break
        drawn.extend(families[family][: count - len(drawn)])
    return drawn


def _wrapped(rng: random.Random, title: str, body: str, date: str) -> bytes:
    """A document as a feed delivers it: plain, with a header block, or as an HTML page."""
    style = rng.random()
    head = f"date: {date}\n" if date else ""
    if style < 0.55 or not title:
        text = f"{head}{title}\n\n{body}\n" if title else f"{head}{body}\n"
    elif style < 0.8:
        text = f"Title: {title}\n{'Date: ' + date + chr(10) if date else ''}Source: wire\n\n{body}\n"
    else:
        paras = "".join(f"<p>{html.escape(p)}</p>\n" for p in body.split("\n\n") if p.strip())
        text = (f"<html><head><title>{html.escape(title)}</title></head><body><nav>Home | News | Sport</nav>"
                f"<article><h1>{html.escape(title)}</h1>\n{paras}</article><footer>Copyright</footer></body></html>")
    return text.encode("utf-8")


def real_news_corpus(n: int, seed: int = 7) -> tuple[str, list[tuple[str, bytes]], float]:
    """(source, [(file name, bytes)], share of real news text) for a corpus of `n` dumps.

    REAL_SHARE of the corpus are real documents from ../shared/corpora, drawn in whole
    families (_whole_families); the rest are versions of them (VERSIONS), the same mix at
    every n so that time(2N)/time(N) compares like with like. Without ../shared, generated articles stand in (and the share is 0).
    """
    from devkit import evaluation

    rng = random.Random(seed)
    pool = real_documents()
    originals = _whole_families(pool, max(1, round(n * REAL_SHARE)), rng) if pool else []
    rng.shuffle(originals)  # (versions are drawn by index: the families' order does not matter)
    if len(originals) < round(n * REAL_SHARE) or not originals:
        source = ("generated (../shared/corpora absent)" if not pool else
                  f"generated (../shared/corpora has {len(originals):,} real originals, fewer than the "
                  f"{round(n * REAL_SHARE):,} that {n:,} dumps need)")
        originals = [(aid, title, body, "") for aid, title, body in
                     generated_articles(max(1, round(n * REAL_SHARE)), seed=seed)]
        real = 0.0
    else:
        source = (f"{len(originals):,} real documents from ../shared/corpora (BBC and its summaries, "
                  "gunviolence, ecbplus, onestop) and versions of them")
        real = 1.0
    docs: list[tuple[str, bytes]] = []
    for name, title, body, date in originals:
        docs.append((f"{name}.txt", _wrapped(rng, title, body, date)))
    kinds = [kind for kind, share in VERSIONS for _ in range(round(share * 1000))]
    i = 0
    while len(docs) < n:
        kind = kinds[rng.randrange(len(kinds))]
        j = rng.randrange(len(originals))
        name, title, body, date = originals[j]
        i += 1
        if kind == "redelivered":
            docs.append((f"again-{i}-{name}.txt", docs[j][1]))
            continue
        if kind == "revision":
            body = evaluation.revise(body, rng)
        elif kind == "condensed":
            paragraphs = [p for p in body.split("\n\n") if p.strip()]
            body = "\n\n".join(paragraphs[: max(1, (len(paragraphs) + 1) // 2)])
        elif kind == "reworded":
            body = evaluation.reword(body, rng)
        elif kind == "reworded_condensed":
            body = evaluation.reword(body, rng, keep=0.5)
        docs.append((f"{kind}-{i}-{name}.txt", _wrapped(rng, title, body, date)))
    return source, docs, real
