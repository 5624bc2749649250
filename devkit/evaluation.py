"""Labelled version pairs and the scoring of the links the pipeline made.

Used by `bench/eval_links.py` (the BBC-based set in ../shared) and by the test
suite (a generated set). The labels come from how each document was made, not
from the linker:

  * ``duplicate``  - the same body delivered again (other file, other header);
                     inside the BBC set, files whose bodies are identical.
  * ``revision``   - an edited update: a sentence added, one removed, words changed;
                     inside the BBC set, pairs whose 5-word-shingle Jaccard is >= 0.5.
                     (Inside the BBC set, pairs whose shorter text has half or more of its
                     5-word shingles in the longer one are labelled ``condensed``.)
  * ``condensed``  - the BBC summary of an article (an extractive summary, sentences
                     reordered), and reworded copies cut to about half.
  * ``paraphrase`` - every sentence reworded (synonyms, clause order, number style).
  * negatives      - every other pair; in particular "look-alikes": an article with
                     its names and numbers replaced (templated reports), which must
                     never link to the article it was made from.

A predicted link is correct when both ends belong to one labelled group (the
union of all positive pairs). Other pairs of BBC articles with 0.1 <= Jaccard < 0.5
(follow-ups on one event, a judgement call) are reported as "unjudged".
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from news_archive.linking import NUMBER_WORDS, STOPWORDS, split_sentences

RELATIONS = ("duplicate", "revision", "condensed", "paraphrase")

# A small news thesaurus: each word may be swapped for one of its alternatives.
THESAURUS = {
    "said": ["stated", "noted", "remarked"], "says": ["states", "notes"], "told": ["informed"],
    "announced": ["unveiled", "revealed"], "increase": ["rise", "growth"], "increased": ["grew", "climbed"],
    "rose": ["climbed", "increased"], "fell": ["dropped", "declined"], "big": ["large", "major"],
    "large": ["big", "sizeable"], "small": ["little", "modest"], "company": ["firm", "business"],
    "firm": ["company", "business"], "government": ["administration", "cabinet"], "people": ["individuals", "persons"],
    "plans": ["proposals", "intends"], "plan": ["proposal", "scheme"], "show": ["reveal", "indicate"],
    "shows": ["reveals", "indicates"], "showed": ["revealed", "indicated"], "expected": ["anticipated", "forecast"],
    "help": ["assist", "aid"], "buy": ["purchase", "acquire"], "bought": ["purchased", "acquired"],
    "start": ["begin", "launch"], "started": ["began", "launched"], "end": ["finish", "close"],
    "ended": ["finished", "concluded"], "before": ["prior to", "ahead of"], "after": ["following", "once"],
    "about": ["around", "roughly"], "around": ["about", "some"], "however": ["but", "yet"],
    "also": ["additionally", "too"], "because": ["since", "as"], "important": ["key", "significant"],
    "problem": ["issue", "difficulty"], "problems": ["issues", "difficulties"], "make": ["produce", "create"],
    "made": ["produced", "created"], "want": ["wish", "seek"], "wants": ["wishes", "seeks"],
    "believe": ["think", "reckon"], "believes": ["thinks", "reckons"], "think": ["believe", "feel"],
    "many": ["numerous", "lots of"], "more": ["additional", "further"], "need": ["require"],
    "needs": ["requires"], "use": ["employ", "utilise"], "used": ["employed", "utilised"],
    "chief": ["head", "boss"], "executive": ["manager", "director"], "market": ["sector"],
    "number": ["figure", "total"], "recent": ["latest"], "decision": ["ruling", "choice"],
    "claimed": ["alleged", "asserted"], "added": ["continued", "went on"], "support": ["backing"],
    "called": ["urged", "demanded"], "hope": ["aim"], "trying": ["attempting", "seeking"], "try": ["attempt", "seek"],
    "get": ["obtain", "receive"], "got": ["obtained", "received"],
    "give": ["provide", "offer"], "gave": ["provided", "offered"], "likely": ["probable"], "major": ["big", "leading"],
    "world": ["global"], "country": ["nation"], "countries": ["nations"], "move": ["step"], "deal": ["agreement", "pact"],
    "talks": ["negotiations", "discussions"], "game": ["match", "fixture"], "win": ["victory", "triumph"],
    "won": ["secured", "clinched"], "team": ["side", "squad"], "film": ["movie", "picture"], "star": ["celebrity"],
    "new": ["fresh", "latest"], "sales": ["turnover", "takings"], "profits": ["earnings"], "price": ["cost"],
    "prices": ["costs"], "users": ["customers", "consumers"], "allow": ["let", "permit"], "allowed": ["permitted"],
    "face": ["confront"], "warned": ["cautioned"], "according": ["as per"], "during": ["throughout", "in"],
    "however,": ["but"], "officials": ["authorities"], "spokesman": ["representative"], "include": ["comprise"],
    "including": ["such as"], "very": ["extremely", "highly"], "good": ["strong", "positive"], "bad": ["poor", "weak"],
}
_TOKEN = re.compile(r"\w+(?:['’]\w+)*|\s+|[^\w\s]")
_CLAUSE = re.compile(r"^(.{20,}?), (.{20,})([.!?])$")
_NAME = re.compile(r"(?<=[a-z,;] )[A-Z][a-z]{2,}")
_NUM = re.compile(r"\d+(?:\.\d+)?")


def _swap_words(sentence: str, rng: random.Random, rate: float) -> str:
    out = []
    for tok in _TOKEN.findall(sentence):
        low = tok.lower()
        if low in THESAURUS and rng.random() < rate:
            alt = rng.choice(THESAURUS[low])
            tok = alt.capitalize() if tok[0].isupper() else alt
        out.append(tok)
    return "".join(out)


def _drop_words(sentence: str, rng: random.Random, rate: float) -> str:
    """Leave out some plain lower-case words (never the first word, names or figures)."""
    words = sentence.split(" ")
    kept = [w for i, w in enumerate(words)
            if i == 0 or not w.isalpha() or not w.islower() or len(w) < 4 or rng.random() >= rate]
    return " ".join(kept)


def reword_sentence(sentence: str, rng: random.Random, rate: float = 0.8, drop: float = 0.15) -> str:
    """Reword one sentence: synonyms, words left out, clause order, number style.

    Names and figures stay: they are what a rewrite of the same report keeps.
    """
    s = _drop_words(_swap_words(sentence, rng, rate), rng, drop)
    s = re.sub(r"(\d)%", r"\1 per cent", s)
    s = re.sub(r"\$(\d+(?:\.\d+)?)bn", r"\1 billion dollars", s)
    s = re.sub(r"£(\d+(?:\.\d+)?)m\b", r"\1 million pounds", s)
    m = _CLAUSE.match(s)
    if m and s.count(",") == 1 and rng.random() < 0.5:
        first, second, end = m.groups()
        if not second.startswith(('"', "'")):
            s = second[0].upper() + second[1:] + ", " + first[0].lower() + first[1:] + end
    if s.endswith(".") and rng.random() < 0.3 and " said " in s:
        s = s.replace(" said ", " told reporters ", 1)
    return s


def reword(body: str, rng: random.Random, *, keep: float = 1.0) -> str:
    """A paraphrase of `body`; with keep < 1 a condensed one (first sentence always kept)."""
    paragraphs = [p for p in body.split("\n\n") if p.strip()]
    out = []
    first = True
    for para in paragraphs:
        kept = []
        for s in split_sentences(para):
            if first or rng.random() < keep:
                kept.append(reword_sentence(s, rng))
            first = False
        if kept:
            out.append(" ".join(kept))
    return "\n\n".join(out)


def revise(body: str, rng: random.Random) -> str:
    """An edited update: one sentence dropped, one reworded, an update paragraph added."""
    paragraphs = [p for p in body.split("\n\n") if p.strip()]
    if len(paragraphs) > 3:
        del paragraphs[rng.randrange(1, len(paragraphs))]
    i = rng.randrange(len(paragraphs))
    sentences = split_sentences(paragraphs[i])
    if sentences:
        j = rng.randrange(len(sentences))
        sentences[j] = _swap_words(sentences[j], rng, 1.0)
        paragraphs[i] = " ".join(sentences)
    paragraphs.append("This story was updated with further reaction from officials and a correction to an "
                      "earlier version, which gave the wrong date for the announcement.")
    return "\n\n".join(paragraphs)


def look_alike(body: str, rng: random.Random, names: list[str]) -> str:
    """A templated report on other people: every name and figure replaced, wording kept."""
    mapping: dict[str, str] = {}

    def name(m: re.Match) -> str:
        word = m.group(0)
        if word.lower() in STOPWORDS or word.lower() in NUMBER_WORDS:
            return word
        return mapping.setdefault(word, rng.choice(names))

    def number(m: re.Match) -> str:
        return mapping.setdefault(m.group(0), str(int(float(m.group(0)) * 3 + 7)))

    def number_word(m: re.Match) -> str:
        return mapping.setdefault(m.group(0), str(int(NUMBER_WORDS[m.group(0).lower()]) * 3 + 7))

    body = _NUM.sub(number, body)
    body = re.sub(r"\b(?:" + "|".join(NUMBER_WORDS) + r")\b", number_word, body, flags=re.IGNORECASE)
    return re.sub(r"\b[A-Z][A-Za-z]{1,}\b", name, body)


def shingles(text: str, k: int = 5) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + k]) for i in range(max(len(words) - k + 1, 0))}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


# --------------------------------------------------------------------------- generated articles
_SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]
_COMMON = ("the a of in to and on for with by from that was is has had will would its their this at as "
           "but it be have were are not an after before about more many new said says told").split()


def _pseudo_word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(syllables))


def generated_articles(n: int, seed: int = 7, per_event: int = 3) -> list[tuple[str, str, str]]:
    """n synthetic news articles: (id, title, body). No ../shared needed.

    Articles come in events of `per_event`: independent write-ups that share the event's
    topic words and names but not sentences (different reports of one event: must not link).
    """
    rng = random.Random(seed)
    vocab = sorted({_pseudo_word(rng, rng.randint(2, 3)) for _ in range(6000)})
    synonyms = sorted(THESAURUS)
    articles = []
    event_topic: list[str] = []
    event_names: list[str] = []
    for i in range(n):
        if i % per_event == 0:
            event_topic = rng.sample(vocab, 25)
            event_names = [_pseudo_word(rng, 2).capitalize() for _ in range(5)]
        local = rng.sample(vocab, 60)
        names = event_names[:3] + [_pseudo_word(rng, 2).capitalize() for _ in range(3)]

        def sentence(event_topic=event_topic, local=local, names=names) -> str:
            words = []
            for _ in range(rng.randint(12, 24)):
                r = rng.random()
                if r < 0.25:
                    words.append(rng.choice(event_topic))
                elif r < 0.5:
                    words.append(rng.choice(local))
                elif r < 0.62:
                    words.append(rng.choice(synonyms))
                elif r < 0.67:
                    words.append(rng.choice(names))
                elif r < 0.70:
                    words.append(str(rng.choice([rng.randint(2, 99), rng.randint(100, 5000)])))
                else:
                    words.append(rng.choice(_COMMON))
            text = " ".join(words)
            if rng.random() < 0.3:
                cut = len(words) // 2
                text = " ".join(words[:cut]) + ", " + " ".join(words[cut:])
            return text[0].upper() + text[1:] + "."

        title = " ".join([rng.choice(names)] + rng.sample(event_topic, 3) + rng.sample(local, 2)).capitalize()
        paragraphs = [" ".join(sentence() for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(5, 9))]
        articles.append((f"gen-{i:05d}", title, "\n\n".join(paragraphs)))
    return articles


# --------------------------------------------------------------------------- the labelled set
@dataclass
class Doc:
    name: str  # file name in the inbox
    content: bytes
    group: str  # labelled group (source article id)
    kind: str  # original | duplicate | revision | condensed | paraphrase | reworded_condensed | look_alike


@dataclass
class LabelledSet:
    docs: list[Doc] = field(default_factory=list)
    pairs: dict[tuple[str, str], str] = field(default_factory=dict)  # (doc, doc) -> relation; sorted names
    negatives: set[tuple[str, str]] = field(default_factory=set)  # pairs that must not link
    unjudged: set[tuple[str, str]] = field(default_factory=set)  # related stories, no label
    merged: dict[str, str] = field(default_factory=dict)  # group -> representative group

    def add_pair(self, a: str, b: str, relation: str) -> None:
        self.pairs[tuple(sorted((a, b)))] = relation

    def group_of(self, doc: Doc) -> str:
        return self._root(doc.group)

    def union(self, g1: str, g2: str) -> None:
        r1, r2 = self._root(g1), self._root(g2)
        if r1 != r2:
            self.merged[max(r1, r2)] = min(r1, r2)

    def _root(self, g: str) -> str:
        while g in self.merged and self.merged[g] != g:
            g = self.merged[g]
        return g


def build_set(articles: list[tuple[str, str, str]], summaries: dict[str, str] | None = None, *,
              seed: int = 7, reworded: int = 300, reworded_condensed: int = 300, revisions: int = 200,
              redelivered: int = 100, look_alikes: int = 100) -> LabelledSet:
    """articles: (id, title, body); summaries: id -> condensed body. Deterministic for a seed."""
    rng = random.Random(seed)
    out = LabelledSet()
    names = sorted({m.group(0) for _, _, body in articles[:400] for m in _NAME.finditer(body)}) or ["Smith"]
    bodies = {}
    for aid, title, body in articles:
        name = f"a-{aid}.txt"
        out.docs.append(Doc(name, f"{title}\n\n{body}\n".encode(), aid, "original"))
        bodies[aid] = (name, title, body)

    # Inside the corpus: identical bodies are duplicates, shingle Jaccard >= 0.5 revisions,
    # 0.1..0.5 related stories (unjudged), the rest negatives.
    sh = {aid: shingles(body) for aid, _, body in articles}
    postings: dict[str, list[str]] = defaultdict(list)
    for aid, s in sh.items():
        for x in s:
            postings[x].append(aid)
    shared: Counter = Counter()
    for ids in postings.values():
        if 1 < len(ids) < 30:
            shared.update(combinations(sorted(ids), 2))
    for (x, y), n in shared.items():
        j = n / len(sh[x] | sh[y])
        overlap = n / min(len(sh[x]), len(sh[y]))  # the shorter text's share found in the longer
        nx, ny = bodies[x][0], bodies[y][0]
        if bodies[x][2].split() == bodies[y][2].split():
            out.add_pair(nx, ny, "duplicate")
            out.union(x, y)
        elif j >= 0.5:
            out.add_pair(nx, ny, "revision")
            out.union(x, y)
        elif overlap >= 0.5:
            # Most of the shorter text, word for word, inside the longer one: a condensed
            # copy or an expanded update (BBC 141 and 173: the same report at 369 and 723
            # words). Jaccard cannot see containment between texts of different lengths.
            out.add_pair(nx, ny, "condensed")
            out.union(x, y)
        elif j >= 0.1:
            out.unjudged.add(tuple(sorted((nx, ny))))

    ids = [aid for aid, _, _ in articles]
    picks = rng.sample(ids, min(len(ids), reworded + reworded_condensed + revisions + redelivered + look_alikes))
    cursor = 0

    def take(n: int) -> list[str]:
        nonlocal cursor
        chosen = picks[cursor : cursor + n]
        cursor += n
        return chosen

    def derived(aid: str, kind: str, title: str, body: str, relation: str | None, prefix: str = "") -> None:
        name = f"{kind[:1]}{kind[-1]}-{aid}.txt"
        out.docs.append(Doc(name, f"{prefix}{title}\n\n{body}\n".encode(), aid if relation else f"{aid}~{kind}",
                            kind))
        if relation:
            out.add_pair(bodies[aid][0], name, relation)
        else:
            out.negatives.add(tuple(sorted((bodies[aid][0], name))))

    for aid in take(reworded):
        _, title, body = bodies[aid]
        derived(aid, "paraphrase", reword_sentence(title, rng), reword(body, rng), "paraphrase")
    for aid in take(reworded_condensed):
        _, title, body = bodies[aid]
        derived(aid, "reworded_condensed", reword_sentence(title, rng), reword(body, rng, keep=0.5), "condensed")
    for aid in take(revisions):
        _, title, body = bodies[aid]
        derived(aid, "revision", title, revise(body, rng), "revision")
    for aid in take(redelivered):
        _, title, body = bodies[aid]
        derived(aid, "duplicate", title + " (corrected headline)", body, "duplicate", prefix=" date 2005-03-01 ")
    for aid in take(look_alikes):
        _, title, body = bodies[aid]
        derived(aid, "look_alike", look_alike(title, rng, names), look_alike(body, rng, names), None)
    for aid, summary in (summaries or {}).items():
        if aid in bodies:
            derived(aid, "summary", bodies[aid][1], summary, "condensed")
    return out


# --------------------------------------------------------------------------- scoring
def _look_alike(x: Doc, y: Doc) -> bool:
    """The corpora's own rule, on the two linked texts themselves: 5-shingle Jaccard >= 0.1 or
    overlap coefficient >= 0.2 is no clear negative (a copy made from one article can share
    most of its text with another: an extractive summary that picked the sentences two BBC
    reports share). Such a link is unjudged (strict precision still counts it wrong)."""
    a, b = (shingles(d.content.decode("utf-8", "replace").split("\n", 1)[-1]) for d in (x, y))
    if not a or not b:
        return False
    shared = len(a & b)
    return shared / len(a | b) >= 0.1 or shared / min(len(a), len(b)) >= 0.2


def score(labels: LabelledSet, article_of: dict[str, int], links: list[tuple[int, int, str]]) -> dict:
    """Precision, recall and F1 per relation, from what the archive holds.

    article_of: doc name -> the article it became or joined (exact content duplicates
    share one article); docs missing from it were quarantined and their pairs are
    reported, not counted. links: (parent article, child article, relation).
    """
    by_name = {d.name: d for d in labels.docs}
    originals = {d.group: d.name for d in labels.docs if d.kind == "original"}
    source = {d.name: originals.get(d.group.split("~")[0], d.name) for d in labels.docs}
    docs_of: dict[int, list[str]] = defaultdict(list)
    for name, article in article_of.items():
        docs_of[article].append(name)
    linked: dict[tuple[int, int], str] = {}
    parent_of: dict[tuple[int, int], int] = {}
    for parent, child, relation in links:
        key = (min(parent, child), max(parent, child))
        linked[key] = relation
        parent_of[key] = parent

    def judge(a_id: int, b_id: int) -> str:
        verdicts = set()
        for x in docs_of[a_id]:
            for y in docs_of[b_id]:
                if labels.group_of(by_name[x]) == labels.group_of(by_name[y]):
                    return "right"
                # copies made from two related corpus articles are as related as their sources
                sources = tuple(sorted((source.get(x, x), source.get(y, y))))
                if sources in labels.unjudged or _look_alike(by_name[x], by_name[y]):
                    verdicts.add("unjudged")
                else:
                    verdicts.add("wrong")
        return "unjudged" if "unjudged" in verdicts else "wrong"

    result: dict = {"relations": {}, "false_links": [], "unjudged_links": [], "skipped_pairs": 0}
    right: Counter = Counter()
    wrong: Counter = Counter()
    for (a_id, b_id), relation in linked.items():
        verdict = judge(a_id, b_id)
        if verdict == "right":
            right[relation] += 1
        elif verdict == "unjudged":
            result["unjudged_links"].append((docs_of[a_id][0], docs_of[b_id][0], relation))
        else:
            wrong[relation] += 1
            result["false_links"].append((docs_of[a_id][0], docs_of[b_id][0], relation))

    total: Counter = Counter()
    found: Counter = Counter()
    kind_total: Counter = Counter()
    kind_found: Counter = Counter()
    confusion: Counter = Counter()
    direction = Counter()
    missed: dict[str, list] = defaultdict(list)
    for (x, y), relation in labels.pairs.items():
        if x not in article_of or y not in article_of:
            result["skipped_pairs"] += 1
            continue
        kind = next((by_name[d].kind for d in (x, y) if by_name[d].kind != "original"), "corpus-" + relation)
        total[relation] += 1
        kind_total[kind] += 1
        a_id, b_id = article_of[x], article_of[y]
        key = (min(a_id, b_id), max(a_id, b_id))
        if a_id == b_id:
            got = "duplicate"  # stored once: the archive knew it was the same content
        elif key in linked:
            got = linked[key]
            original = next((d for d in (x, y) if by_name[d].kind == "original"), None)
            if kind != "original" and original is not None and not kind.startswith("corpus"):
                direction[parent_of[key] == article_of[original]] += 1
        else:
            missed[kind].append((x, y))
            continue
        found[relation] += 1
        kind_found[kind] += 1
        confusion[(relation, got)] += 1

    for relation in RELATIONS:
        r, w = right[relation], wrong[relation]
        precision = r / (r + w) if r + w else 1.0
        recall = found[relation] / total[relation] if total[relation] else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result["relations"][relation] = {
            "labelled": total[relation], "found": found[relation], "links": r + w,
            "precision": precision, "recall": recall, "f1": f1,
        }
    all_right, all_wrong = sum(right.values()), sum(wrong.values())
    unjudged = len(result["unjudged_links"])
    result["precision"] = all_right / (all_right + all_wrong) if all_right + all_wrong else 1.0
    result["precision_strict"] = (all_right / (all_right + all_wrong + unjudged)
                                  if all_right + all_wrong + unjudged else 1.0)
    result["recall"] = sum(found.values()) / sum(total.values()) if total else 1.0
    result["by_kind"] = {k: (kind_found[k], kind_total[k]) for k in sorted(kind_total)}
    result["negatives"] = len(labels.negatives)
    result["negatives_linked"] = sum(
        1 for x, y in labels.negatives
        if x in article_of and y in article_of
        and (min(article_of[x], article_of[y]), max(article_of[x], article_of[y])) in linked
    )
    result["direction_right"] = direction[True]
    result["direction_wrong"] = direction[False]
    result["confusion"] = {f"{a}->{b}": n for (a, b), n in sorted(confusion.items())}
    result["missed"] = {k: v[:10] for k, v in missed.items()}
    return result


def collect(conn) -> tuple[dict[str, int], list[tuple[int, int, str]]]:
    """(doc name -> article id, links) from an archive the pipeline filled."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT d.file_name, coalesce(a.id, cd.article_id)
               FROM archive.deliveries d
               LEFT JOIN archive.articles a ON a.raw_document_id = d.raw_document_id
               LEFT JOIN archive.content_duplicates cd ON cd.raw_document_id = d.raw_document_id
               WHERE coalesce(a.id, cd.article_id) IS NOT NULL"""
        )
        article_of = dict(cur.fetchall())
        cur.execute("SELECT parent_article_id, child_article_id, relation FROM archive.version_links")
        links = cur.fetchall()
    return article_of, links


def shingle_baseline(labels: LabelledSet, threshold: float = 0.7) -> dict[str, tuple[int, int]]:
    """What 5-word-shingle near-duplicate detection at `threshold` would find, per kind."""
    texts = {d.name: d.content.decode("utf-8", "replace").split("\n", 1)[-1] for d in labels.docs}
    kinds = {d.name: d.kind for d in labels.docs}
    found: Counter = Counter()
    total: Counter = Counter()
    for (x, y), relation in labels.pairs.items():
        kind = next((kinds[d] for d in (x, y) if kinds[d] != "original"), "corpus-" + relation)
        total[kind] += 1
        found[kind] += jaccard(shingles(texts[x]), shingles(texts[y])) >= threshold
    return {k: (found[k], total[k]) for k in sorted(total)}


def print_report(result: dict, out=None) -> None:
    import sys

    out = out or sys.stdout
    print(f"{'relation':<12}{'labelled':>9}{'found':>7}{'links':>7}{'precision':>11}{'recall':>8}{'F1':>7}", file=out)
    for relation, r in result["relations"].items():
        print(f"{relation:<12}{r['labelled']:>9}{r['found']:>7}{r['links']:>7}"
              f"{r['precision']:>11.4f}{r['recall']:>8.4f}{r['f1']:>7.4f}", file=out)
    print(f"all links: precision {result['precision']:.4f} (judged), {result['precision_strict']:.4f} "
          f"(strict: unjudged counted wrong); recall {result['recall']:.4f}", file=out)
    print("recall by how the copy was made: " + ", ".join(
        f"{k} {f}/{t} ({f / t:.3f})" for k, (f, t) in result["by_kind"].items() if t), file=out)
    print(f"look-alikes (names and numbers swapped) linked: {result['negatives_linked']} of {result['negatives']}",
          file=out)
    print(f"links between different labelled stories: {len(result['false_links'])}; unjudged links "
          f"(corpus pairs with 0.1 <= shingle Jaccard < 0.5): {len(result['unjudged_links'])}", file=out)
    print(f"direction (original as parent): {result['direction_right']} right, {result['direction_wrong']} wrong",
          file=out)
    print(f"pairs skipped (a side quarantined): {result['skipped_pairs']}", file=out)
    print("labelled -> predicted relation: " + ", ".join(f"{k} {n}" for k, n in result["confusion"].items()),
          file=out)
