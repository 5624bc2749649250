"""Version linking, the pure part: fingerprints, candidate keys, verification.

Why not MinHash over 5-word shingles: a condensed, reworded copy (seed 001 of
seed 000) shares almost no 5-word shingles (Jaccard 0.07). What survives
rewording is sentence by sentence: each rewritten sentence keeps most of its
content words, its names and its numbers, and the sentences stay in order.

Candidates come from keys stored in Postgres (see `linkstore.py`):
  * per sentence, a few "min-pair" keys: the two content stems with the lowest
    hash under a seed. Two sentences sharing most content words share a key
    with high probability, whatever the other words; unrelated sentences rarely do.
  * per article, MinHash LSH bands over its content stems (light edits).
Candidates are then verified by aligning sentences in order and checking that
names and numbers agree, which rejects different reports of one event and
templated stories (same wording, other names and numbers).
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

METHOD_VERSION = "sentence-align-2"

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|\d+(?:[.,]\d+)*", re.UNICODE)
_SENTENCE_END = re.compile(
    r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])"  # ". Next"
    r"|(?<=[a-z0-9%)][.!?])(?=[A-Z])"  # "bn.For", "passengers.BA" (sentences glued together)
    r"|(?<=[a-z0-9%)][.!?][\"”’])(?=[A-Z])"  # 'said."The'
    r"|\n+"
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SCALED = re.compile(r"(\d+(?:[.,]\d+)*)(?:bn|m|k|st|nd|rd|th|s)")  # 600m, 1.13bn, 21st, 1990s
SCALE_WORDS = frozenset({"hundred", "thousand", "million", "billion", "trillion"})

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves said says say according told added stated would could may
    might must shall one ones upon per via mr mrs ms yet still even well back next last new like much
    many made make makes making get gets got take takes took year years""".split()
)
NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "twenty": "20",
    "thirty": "30", "hundred": "100", "thousand": "1000", "million": "1000000", "billion": "1000000000",
}
SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "ers", "er", "ed", "es", "ly", "s")

SENTENCE_KEY_SEEDS = (11, 23, 37)
LSH_BANDS, LSH_ROWS = 16, 4


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A deliberately light stemmer: diplomats/diplomat, departing/depart."""
    if word in NUMBER_WORDS:
        return NUMBER_WORDS[word]
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word


_SALTS: dict[int, bytes] = {}


def _h(text: str, seed: int = 0) -> int:
    """A signed 64-bit blake2b of `text`, salted with `seed`."""
    salt = _SALTS.get(seed)
    if salt is None:
        salt = _SALTS[seed] = struct.pack("<Q", seed)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8, salt=salt).digest(), "little", signed=True)


@dataclass
class Sentence:
    text: str
    stems: frozenset[str]
    names: frozenset[str]
    numbers: frozenset[str]


@dataclass
class Fingerprint:
    title_stems: frozenset[str]
    sentences: list[Sentence]
    stems: frozenset[str]
    names: frozenset[str]
    numbers: frozenset[str]
    words: int
    body_hash: str = ""
    keys: list[int] = field(default_factory=list)


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and len(s.strip()) > 1]


@lru_cache(maxsize=500_000)
def _token(token: str) -> tuple[str | None, str | None, bool]:
    """(number, stem, may be a name) for one token; cached, tokens repeat a lot."""
    low = token.lower()
    scaled = _SCALED.fullmatch(low)
    if _NUMBER.fullmatch(token) or scaled:
        number = (scaled.group(1) if scaled else token).replace(",", "")
        return number, number, False
    number = NUMBER_WORDS[low] if low in NUMBER_WORDS and low not in SCALE_WORDS else None
    name = token[0].isupper() and low not in STOPWORDS
    word_stem = None if low in STOPWORDS or len(low) < 3 else stem(low)
    return number, word_stem, name


def _sentence(text: str) -> Sentence:
    stems, names, numbers = set(), set(), set()
    for i, token in enumerate(_WORD.findall(text)):
        number, word_stem, name = _token(token)
        if number is not None:
            numbers.add(number)
        if word_stem is not None:
            stems.add(word_stem)
        if name and i > 0:
            names.add(token.lower())
    return Sentence(text, frozenset(stems), frozenset(names), frozenset(numbers))


def fingerprint(title: str, body: str, body_hash: str = "", *, keys: bool = True) -> Fingerprint:
    """What linking compares; `keys=False` skips the candidate keys (verification needs none)."""
    sentences = [s for s in (_sentence(t) for t in split_sentences(body)) if len(s.stems) >= 3]
    title_s = _sentence(title)
    fp = Fingerprint(
        title_stems=title_s.stems,
        sentences=sentences,
        stems=frozenset().union(*(s.stems for s in sentences)) if sentences else frozenset(),
        names=frozenset().union(*(s.names for s in sentences)) if sentences else frozenset(),
        numbers=frozenset().union(*(s.numbers for s in sentences)) if sentences else frozenset(),
        words=len(body.split()),
        body_hash=body_hash,
    )
    if keys:
        fp.keys = candidate_keys(fp)
    return fp


_MASK = (1 << 64) - 1
_SEEDS = (*SENTENCE_KEY_SEEDS, *range(1000, 1000 + LSH_BANDS * LSH_ROWS))
N_SENTENCE_SEEDS = len(SENTENCE_KEY_SEEDS)


class _StemTable:
    """One row of 64-bit hashes per stem (the sentence-key seeds, then the LSH permutations).

    Each stem is hashed once (blake2b); splitmix64 over (hash xor seed) gives the other
    seeds, vectorised with numpy for all new stems of an article at once. Rows live in
    one growing array, so an article's hash matrix is one fancy-indexing read.
    """

    MAX_STEMS = 250_000  # then start afresh: at most ~134 MB of rows (67 x 8 bytes a stem)

    def __init__(self) -> None:
        import numpy as np

        self.np = np
        self.seed_mix = np.array([(seed * 0x9E3779B97F4A7C15) & _MASK for seed in _SEEDS], dtype=np.uint64)
        self.index: dict[str, int] = {}
        self.rows = np.empty((4096, len(_SEEDS)), dtype=np.uint64)

    def lookup(self, stems: list[str]):
        """Row numbers of `stems`, hashing the ones not seen before."""
        index = self.index
        new = [s for s in dict.fromkeys(stems) if s not in index]
        if new:
            if len(index) + len(new) > self.MAX_STEMS:
                index.clear()
                new = list(dict.fromkeys(stems))
            np = self.np
            start = len(index)
            if start + len(new) > len(self.rows):
                grown = np.empty((max(2 * len(self.rows), start + len(new)), len(_SEEDS)), dtype=np.uint64)
                grown[:start] = self.rows[:start]
                self.rows = grown
            base = np.array([_h(s) & _MASK for s in new], dtype=np.uint64)[:, None]
            x = base ^ self.seed_mix
            x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            self.rows[start : start + len(new)] = x ^ (x >> np.uint64(31))
            for i, s in enumerate(new):
                index[s] = start + i
        return [index[s] for s in stems]


_STEMS: _StemTable | None = None


def candidate_keys(fp: Fingerprint) -> list[int]:
    """Index keys: sentence min-pairs plus MinHash LSH bands over all stems.

    Sentence min-pair: for each seed, the two stems of the sentence with the lowest hash.
    """
    global _STEMS
    if _STEMS is None:
        _STEMS = _StemTable()
    if not fp.stems:  # (the sentences' stems are part of fp.stems)
        return []
    np = _STEMS.np
    stems = list(fp.stems)
    row_of = dict(zip(stems, _STEMS.lookup(stems), strict=True))  # one lookup: it may grow the table
    table = _STEMS.rows
    keys: set[int] = set()
    sentences = [sorted(s.stems) for s in fp.sentences if len(s.stems) >= 4]
    if sentences:
        flat = [w for stems in sentences for w in stems]
        rows = table[[row_of[w] for w in flat], :N_SENTENCE_SEEDS]
        sizes = np.array([len(stems) for stems in sentences])
        sentence_of = np.repeat(np.arange(len(sentences)), sizes)
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        for k, seed in enumerate(SENTENCE_KEY_SEEDS):
            order = np.lexsort((rows[:, k], sentence_of))  # by sentence, then by hash
            first, second = order[starts].tolist(), order[starts + 1].tolist()
            for a, b in zip(first, second, strict=True):
                pair = sorted((flat[a], flat[b]))
                keys.add(_h(f"s|{pair[0]}|{pair[1]}", seed))
    lsh = table[list(row_of.values()), N_SENTENCE_SEEDS:].min(axis=0).tolist()
    for band in range(LSH_BANDS):
        band_rows = lsh[band * LSH_ROWS : (band + 1) * LSH_ROWS]
        keys.add(_h(f"b|{band}|{','.join(map(str, band_rows))}"))
    return sorted(keys)


# --------------------------------------------------------------------------- verification
def _dice(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def _containment(small: frozenset, big: frozenset) -> float:
    return len(small & big) / len(small) if small else 1.0


def _longest_increasing(seq: list[int]) -> int:
    import bisect

    tails: list[int] = []
    for x in seq:
        i = bisect.bisect_left(tails, x)
        if i == len(tails):
            tails.append(x)
        else:
            tails[i] = x
    return len(tails)


@dataclass
class Alignment:
    pairs: list[tuple[int, int, float]]  # (index in short, index in long, similarity)
    identical: int


def align(short: Fingerprint, long: Fingerprint, threshold: float = 0.5) -> Alignment:
    """Best match in the long text for each sentence of the short one."""
    pairs = []
    identical = 0
    long_texts = {s.text: j for j, s in enumerate(long.sentences)}
    for i, s in enumerate(short.sentences):
        if s.text in long_texts:
            pairs.append((i, long_texts[s.text], 1.0))
            identical += 1
            continue
        best, best_j = 0.0, -1
        for j, t in enumerate(long.sentences):
            if not (s.stems & t.stems):
                continue
            sim = _dice(s.stems, t.stems)
            # names and numbers that disagree pull a pair apart (templated reports)
            if s.numbers and t.numbers and not (s.numbers & t.numbers):
                sim *= 0.6
            if sim > best:
                best, best_j = sim, j
        if best >= threshold:
            pairs.append((i, best_j, best))
    return Alignment(pairs, identical)


def _aligned_agreement(short: Fingerprint, long: Fingerprint, al: Alignment, attr: str) -> float:
    """Share of the names (or numbers) of the short text's aligned sentences found in the long text.

    Only aligned sentences count (a revision may drop a paragraph and its figures); the
    whole long text is searched (sentence splits differ between versions).
    """
    have = found = 0
    theirs = getattr(long, attr)
    for i, _, _ in al.pairs:
        mine = getattr(short.sentences[i], attr)
        if mine:
            have += len(mine)
            found += len(mine & theirs)
    return found / have if have else 1.0


@dataclass
class Verdict:
    relation: str | None  # duplicate | revision | condensed | paraphrase | None
    scores: dict
    short_is_a: bool = False  # which of (a, b) is the shorter text

    @property
    def linked(self) -> bool:
        return self.relation is not None


def verify(a: Fingerprint, b: Fingerprint) -> Verdict:
    """Are a and b versions of one article, and how are they related?"""
    if a.body_hash and a.body_hash == b.body_hash:
        return Verdict("duplicate", {"body_hash_equal": 1.0})
    short_is_a = a.words <= b.words
    short, long = (a, b) if short_is_a else (b, a)
    if not short.sentences or not long.sentences:
        return Verdict(None, {"reason": "no sentences"}, short_is_a)
    al = align(short, long)
    n_short, n_long = len(short.sentences), len(long.sentences)
    coverage = len(al.pairs) / n_short  # share of the short text found in the long one
    order = _longest_increasing([j for _, j, _ in sorted(al.pairs)]) / len(al.pairs) if al.pairs else 0.0
    mean_sim = sum(s for *_, s in al.pairs) / len(al.pairs) if al.pairs else 0.0
    strong = sum(1 for *_, s in al.pairs if s >= 0.7) / n_short
    identical_share = al.identical / n_short
    length_ratio = short.words / max(long.words, 1)
    # Names and figures of aligned sentences must agree (a templated report on other people
    # or other results aligns sentence by sentence, but its names and figures differ).
    # Measured on aligned pairs, a revision that drops a paragraph with figures still agrees.
    names = _aligned_agreement(short, long, al, "names")
    numbers = _aligned_agreement(short, long, al, "numbers")
    title = _dice(a.title_stems, b.title_stems)
    stem_dice = _dice(short.stems, long.stems)
    scores = {
        "coverage": round(coverage, 3),
        "strong_coverage": round(strong, 3),
        "order": round(order, 3),
        "mean_sentence_similarity": round(mean_sim, 3),
        "identical_sentences": round(identical_share, 3),
        "length_ratio": round(length_ratio, 3),
        "name_agreement": round(names, 3),
        "number_agreement": round(numbers, 3),
        "name_containment": round(_containment(short.names, long.names), 3),
        "number_containment": round(_containment(short.numbers, long.numbers), 3),
        "title_similarity": round(title, 3),
        "content_word_dice": round(stem_dice, 3),
        "aligned_sentences": len(al.pairs),
        "short_sentences": n_short,
        "long_sentences": n_long,
    }
    enough = len(al.pairs) >= min(3, n_short)
    # Sentences in order, or (extractive summaries reorder them) nearly the same sentences.
    in_order = order >= 0.8 or (coverage >= 0.8 and mean_sim >= 0.85)
    # Mostly reworded (few strong sentence matches): different reports of one event share
    # background sentences too, so ask for nearly every sentence in order, or the same headline.
    if strong < 0.5:
        in_order = in_order and ((coverage >= 0.8 and order >= 0.9) or title >= 0.5)
    same_article = enough and coverage >= 0.6 and in_order and numbers >= 0.7 and names >= 0.6
    if not same_article:
        return Verdict(None, scores, short_is_a)
    long_covered = len({j for _, j, _ in al.pairs}) / n_long
    if identical_share >= 0.9 and long_covered >= 0.9:
        relation = "duplicate" if identical_share == 1.0 and long_covered == 1.0 else "revision"
    elif length_ratio < 0.8 or long_covered < 0.7:
        relation = "condensed"
    elif identical_share >= 0.5:
        relation = "revision"
    else:
        relation = "paraphrase"
    return Verdict(relation, scores, short_is_a)


# --------------------------------------------------------------------------- diffs
def sentence_diff(parent: Fingerprint, child: Fingerprint, aligned: list[dict] | None = None) -> dict:
    """Sentence-level summary: how many sentences were kept, changed, added, removed."""
    aligned = aligned_diff(parent, child) if aligned is None else aligned
    ops = Counter(step["op"] for step in aligned)
    return {
        "kept": ops["kept"],
        "changed": ops["changed"],
        "added": ops["added"],
        "removed": ops["removed"],
        "parent_sentences": len(parent.sentences),
        "child_sentences": len(child.sentences),
    }


def aligned_diff(parent: Fingerprint, child: Fingerprint) -> list[dict]:
    """The two versions side by side, sentence by sentence, in the child's order.

    Each step is {"op": kept|changed|added|removed, "parent": text|None, "child": text|None,
    "similarity": float|None}. A parent sentence the child dropped is shown just before
    the child sentence that follows it in the parent.
    """
    al = align(child, parent, threshold=0.5)
    match = {i: (j, sim) for i, j, sim in al.pairs}
    used: set[int] = set()
    for i, (j, sim) in sorted(match.items()):
        if j in used:  # two child sentences matched one parent sentence: keep the better one
            other = next(k for k, (jj, _) in match.items() if jj == j and k != i)
            if match[other][1] >= sim:
                del match[i]
                continue
            del match[other]
        used.add(j)
    steps: list[dict] = []
    matched_parent = {j for j, _ in match.values()}
    emitted: set[int] = set()

    def removed_before(limit: int) -> None:
        for j in range(limit):
            if j not in matched_parent and j not in emitted:
                emitted.add(j)
                steps.append({"op": "removed", "parent": parent.sentences[j].text, "child": None, "similarity": None})

    for i, sentence in enumerate(child.sentences):
        if i in match:
            j, sim = match[i]
            removed_before(j)
            steps.append({"op": "kept" if sim >= 1.0 else "changed", "parent": parent.sentences[j].text,
                          "child": sentence.text, "similarity": round(sim, 3)})
        else:
            steps.append({"op": "added", "parent": None, "child": sentence.text, "similarity": None})
    removed_before(len(parent.sentences))
    return steps
