"""Version linking, the pure part: fingerprints, candidate keys, verification.

Why not MinHash over 5-word shingles: a condensed, reworded copy (seed 001 of
seed 000) shares almost no 5-word shingles (Jaccard 0.07). What survives
rewording is sentence by sentence: each rewritten sentence keeps most of its
content words, its names and its numbers, and the sentences stay in order.

Candidates come from keys stored in Postgres (see `store/links.py`): per sentence, a
few "min-pair" keys, the two of its rare content stems (names, figures, words rare in
general English) with the lowest hash under a seed. Two sentences sharing most of
their rare words share a key with high probability, whatever the other words;
unrelated sentences rarely do. Common words are left out of the keys: on real news a
pair like (government, people) is shared by thousands of unrelated sentences, and
every one of them would be a candidate to fetch and verify (docs/scaling.md).
Candidates are then verified by aligning sentences in order and checking that
names and numbers agree, which rejects different reports of one event and
templated stories (same wording, other names and numbers).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from news_archive import compiled

METHOD_VERSION = "sentence-model-3"

# A figure first (1.23, 12,400, 600m, 21st: one token), else a word (with its apostrophe).
_WORD = re.compile(r"\d+(?:[.,]\d+)*(?:bn|m|k|st|nd|rd|th|s)?(?![^\W_])|[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
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
# A stem is a key word when its rarity weight (`word_weight`) is at least this: Zipf
# frequency 4.5 or less, about 30 uses per million words ("diplomat", "Lindqvist", any
# figure; not "government", "police" or "killed"). A sentence with fewer than two such
# stems is keyed by its two rarest.
KEY_MIN_WEIGHT = 3.5
# What the stored candidate keys were made with: archived keys of another version are
# made again (store.links.restore_keys), pending ones are not trusted.
KEYS_VERSION = "rare-pairs-1"


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
    stems: frozenset[str]  # every content stem: words, names and figures
    names: frozenset[str]
    numbers: frozenset[str]
    weights: dict[str, float] = field(default_factory=dict)  # stem -> rarity weight
    plain: frozenset[str] = frozenset()  # stems of plain words: no name, no figure
    bigrams: frozenset[tuple[str, str]] = frozenset()  # adjacent plain stems

    weight: float = field(init=False, default=0.0)  # all stems' rarity weights, summed
    plain_weight: float = field(init=False, default=0.0)  # the plain stems' only

    def __post_init__(self) -> None:
        self.weight = sum(self.weights.values())
        self.plain_weight = sum(self.weights[w] for w in self.plain)


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
    initials: frozenset[str] = frozenset()  # "uc" for "University of California" (acronyms)

    @property
    def n(self) -> int:
        """Its sentences (as `Packed.n`)."""
        return len(self.sentences)

    def order_key(self) -> tuple:
        """Which of two texts is "the short one", whatever the argument order."""
        return (self.words, len(self.sentences), self.body_hash, [s.text for s in self.sentences])

    def orders_before(self, other: Fingerprint) -> bool:
        """self.order_key() <= other.order_key(), the sentence texts compared only on a tie."""
        mine, theirs = (self.words, len(self.sentences), self.body_hash), (other.words, len(other.sentences),
                                                                           other.body_hash)
        return mine < theirs if mine != theirs else self.order_key() <= other.order_key()


# Where `_SENTENCE_END` can match: after a character of `.!?"”’`, or at a newline. Its
# lookbehinds keep the regex engine from skipping ahead, so `re.split` tries every position
# of the text (0.28 ms an article); `split_sentences` tries only these (0.07 ms).
_CUT_AFTER = re.compile(r"[.!?\"”’\n]")


def split_sentences(text: str) -> list[str]:
    """`_SENTENCE_END.split(text)`, stripped, without pieces of one character or none.

    The split is made as `re.split` makes it, leftmost match first and matches never
    overlapping, but `_SENTENCE_END` is tried only where it can match (`_CUT_AFTER`).
    """
    match = _SENTENCE_END.match
    pieces = []
    start = 0  # where the current piece begins: the end of the last separator
    for hit in _CUT_AFTER.finditer(text):
        at = hit.start() if text[hit.start()] == "\n" else hit.end()
        if at < start or (cut := match(text, at)) is None:
            continue
        pieces.append(text[start : cut.start()])
        start = cut.end()
    pieces.append(text[start:])
    return [s.strip() for s in pieces if s and len(s.strip()) > 1]


# Rarity of a word in general English (wordfreq's Zipf scale: "the" 7.7, "diplomat" 3.7,
# unknown 0), as a weight 1..8: rare words say more about a sentence than common ones.
# General English, not the archive's own counts, so that a link does not depend on what
# else happens to be archived, or in which order (linking stays deterministic).
NUMBER_WEIGHT = 8.0


@lru_cache(maxsize=1)
def _frequencies() -> dict[str, float]:
    """wordfreq's English word list (321,000 words, ~0.4 s and ~40 MB once per process)."""
    from wordfreq import get_frequency_dict

    return get_frequency_dict("en", wordlist="best")


def preload_word_list() -> None:
    """Read wordfreq's list now (news_archive.preload: once, in the parent tasks fork from)."""
    _frequencies()


def word_weight(word: str) -> float:
    """8 minus the word's Zipf frequency (log10 of its frequency per billion words), 1 to 8."""
    frequency = _frequencies().get(word.replace("’", "'"), 0.0)
    zipf = math.log10(frequency) + 9.0 if frequency > 0 else 0.0
    return max(1.0, 8.0 - round(zipf, 2))


# What one token is, for _sentence: a figure, a word (a plain word or a name), an acronym,
# or nothing to compare (a stop word, a short word); cached, tokens repeat a lot.
_NOTHING, _FIGURE, _PLAIN, _CAPITAL, _ACRONYM = range(5)


@lru_cache(maxsize=500_000)
def _token_info(token: str) -> tuple[str | None, str | None, bool, int, float, str]:
    """(number, stem, may be a name, kind, rarity weight, initial for acronyms or "")."""
    low = token.lower()
    scaled = _SCALED.fullmatch(low)
    if _NUMBER.fullmatch(token) or scaled:
        number = (scaled.group(1) if scaled else token).replace(",", "")
        return number, number, False, _FIGURE, NUMBER_WEIGHT, ""
    number = NUMBER_WORDS[low] if low in NUMBER_WORDS and low not in SCALE_WORDS else None
    if len(low) == 2 and token.isupper() and low not in STOPWORDS:
        return number, low, True, _ACRONYM, word_weight(low), ""  # US, UK, UN, UC
    name = token[0].isupper() and low not in STOPWORDS
    initial = low[0] if name and not token.isupper() else ""
    if low in STOPWORDS or len(low) < 3:
        return number, None, name, _NOTHING, 0.0, initial
    return number, stem(low), name, _CAPITAL if name else _PLAIN, word_weight(low), initial


_DOTTED_ACRONYM = re.compile(r"\b(?:[A-Za-z]\.){2,}")


_DOT_LETTER_DOT = re.compile(r"\.[A-Za-z]\.")  # in every dotted acronym; found 10x faster than one


def _undotted(text: str) -> str:
    """U.S. -> US, D.C. -> DC: one word either way it is written."""
    return _DOTTED_ACRONYM.sub(lambda m: m.group(0).replace(".", ""), text) if _DOT_LETTER_DOT.search(text) else text
_INITIALS_SKIP = frozenset({"of", "the", "and", "for", "de", "la"})


def _runs_initials(run: list[str], out: set[str]) -> None:
    """Initials of a run of capitalised words and of its parts, two to six words long."""
    for size in range(2, min(len(run), 6) + 1):
        out.update("".join(run[i : i + size]) for i in range(len(run) - size + 1))


def _walk(text: str, initials: set[str] | None = None):
    """One sentence's content: (weights: stem -> rarity weight, every stem in the order found;
    plain stems; names; figures; the plain stems in order).

    With `initials`, also collects there the initials of its runs of capitalised words
    ("Senator Ron Wyden of the University of California": ..., "rw", "uc", ...), which
    acronyms in another text may stand for.
    """
    names, numbers, plain = set(), set(), set()
    weights: dict[str, float] = {}
    sequence: list[str] = []
    run: list[str] = []
    for i, token in enumerate(_WORD.findall(_undotted(text))):
        number, word_stem, name, kind, weight, initial = _token_info(token)
        if initials is not None:
            if initial:
                run.append(initial)
            elif not (run and token.lower() in _INITIALS_SKIP):
                if len(run) >= 2:
                    _runs_initials(run, initials)
                run = []
        if number is not None:
            numbers.add(number)
        if word_stem is None:
            continue
        if weights.get(word_stem, 0.0) < weight:
            weights[word_stem] = weight
        if kind == _FIGURE:
            continue
        if name and i > 0:
            names.add(token.lower())
        else:
            plain.add(word_stem)
            sequence.append(word_stem)
    if initials is not None and len(run) >= 2:
        _runs_initials(run, initials)
    return weights, plain, names, numbers, sequence


def _sentence(text: str, initials: set[str] | None = None) -> Sentence:
    """One sentence's stems, names, figures, rarity weights and plain-word pairs (see `_walk`)."""
    weights, plain, names, numbers, sequence = _walk(text, initials)
    return Sentence(text, frozenset(weights), frozenset(names), frozenset(numbers), weights,
                    frozenset(plain), frozenset(zip(sequence, sequence[1:], strict=False)))


def _stem_weights(text: str) -> dict[str, float]:
    """The stems `_sentence` finds in `text` with their rarity weights (nothing else): enough for keys."""
    weights: dict[str, float] = {}
    for info in map(_token_info, _WORD.findall(_undotted(text))):
        if info[1] is not None and weights.get(info[1], 0.0) < info[4]:
            weights[info[1]] = info[4]
    return weights


def candidate_keys_of(body: str) -> list[int]:
    """`fingerprint(title, body).keys` for a fraction of the work: the loading tasks store
    candidate keys for every article; full fingerprints are made only for verification."""
    sentences = [Sentence(t, frozenset(weights), frozenset(), frozenset(), weights) for t in split_sentences(body)
                 if len(weights := _stem_weights(t)) >= 4]
    return candidate_keys(Fingerprint(frozenset(), sentences, frozenset(), frozenset(), frozenset(), 0))


def fingerprint(title: str, body: str, body_hash: str = "", *, keys: bool = True) -> Fingerprint:
    """What linking compares; `keys=False` skips the candidate keys (verification needs none)."""
    initials: set[str] = set()
    sentences = [s for s in (_sentence(t, initials) for t in split_sentences(body)) if len(s.stems) >= 3]
    title_s = _sentence(title)
    fp = Fingerprint(
        title_stems=title_s.stems,
        sentences=sentences,
        stems=frozenset().union(*(s.stems for s in sentences)) if sentences else frozenset(),
        names=frozenset().union(*(s.names for s in sentences)) if sentences else frozenset(),
        numbers=frozenset().union(*(s.numbers for s in sentences)) if sentences else frozenset(),
        words=len(body.split()),
        body_hash=body_hash,
        initials=frozenset(initials),
    )
    if keys:
        fp.keys = candidate_keys(fp)
    return fp


_MASK = (1 << 64) - 1


class _StemTable:
    """One row of 64-bit hashes per stem, one per sentence-key seed.

    Each stem is hashed once (blake2b); splitmix64 over (hash xor seed) gives the other
    seeds, vectorised with numpy for all new stems of an article at once. Rows live in
    one growing array, so an article's hash matrix is one fancy-indexing read.
    """

    MAX_STEMS = 250_000  # then start afresh: at most ~6 MB of rows (3 x 8 bytes a stem)

    def __init__(self) -> None:
        import numpy as np

        self.np = np
        self.seed_mix = np.array([(seed * 0x9E3779B97F4A7C15) & _MASK for seed in SENTENCE_KEY_SEEDS], dtype=np.uint64)
        self.index: dict[str, int] = {}
        self.rows = np.empty((4096, len(SENTENCE_KEY_SEEDS)), dtype=np.uint64)

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
                grown = np.empty((max(2 * len(self.rows), start + len(new)), len(SENTENCE_KEY_SEEDS)), dtype=np.uint64)
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


def key_stems(weights: dict[str, float]) -> list[str]:
    """A sentence's key words, sorted: its stems of weight >= KEY_MIN_WEIGHT, or, when
    fewer than two are, its two rarest (ties by the stem)."""
    rare = sorted(w for w, x in weights.items() if x >= KEY_MIN_WEIGHT)
    return rare if len(rare) >= 2 else sorted(sorted(weights, key=lambda w: (-weights[w], w))[:2])


def candidate_keys(fp: Fingerprint) -> list[int]:
    """Index keys: per sentence of four stems or more, for each seed, the pair of its key
    words (`key_stems`) with the lowest hashes."""
    global _STEMS
    if _STEMS is None:
        _STEMS = _StemTable()
    sentences = [key_stems(s.weights) for s in fp.sentences if len(s.stems) >= 4]
    if not sentences:
        return []
    np = _STEMS.np
    flat = [w for stems in sentences for w in stems]
    row_numbers = _STEMS.lookup(flat)  # (first: it may grow the table)
    rows = _STEMS.rows[row_numbers]
    sizes = np.array([len(stems) for stems in sentences])
    sentence_of = np.repeat(np.arange(len(sentences)), sizes)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    keys: set[int] = set()
    for k, seed in enumerate(SENTENCE_KEY_SEEDS):
        order = np.lexsort((rows[:, k], sentence_of))  # by sentence, then by hash
        first, second = order[starts].tolist(), order[starts + 1].tolist()
        for a, b in zip(first, second, strict=True):
            pair = sorted((flat[a], flat[b]))
            keys.add(_h(f"s|{pair[0]}|{pair[1]}", seed))
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


def sentence_similarity(a: Sentence, b: Sentence) -> float:
    """The linker's sentence similarity: rarity-weighted Dice overlap of content stems (0..1).

    Words, names and figures all count, each by its rarity; word order does not. On
    human-scored news headline pairs (STS) it ranks pairs as people do (`make eval-links`).
    """
    shared = a.stems & b.stems
    if not shared:
        return 0.0
    total = a.weight + b.weight
    return 2 * sum(a.weights[w] for w in shared) / total if total else 0.0


def text_similarity(a: str, b: str) -> float:
    """`sentence_similarity` of two pieces of text (for headlines and single sentences)."""
    return sentence_similarity(_sentence(a), _sentence(b))


def _contained(a: Sentence, b: Sentence) -> float:
    """Rarity-weighted share of a's plain words (no names, no figures) found in b."""
    total = a.plain_weight
    if not total:
        return 0.0
    return sum(a.weights[w] for w in a.plain & b.plain) / total


@dataclass
class Alignment:
    pairs: list[tuple[int, int, float]]  # (index in short, index in long, similarity)
    identical: int
    content_coverage: float = 0.0  # rarity-weighted share of the short text's plain words, sentence by sentence
    content_order: float = 0.0  # share of the sentences matched by content that keep their order


@lru_cache(maxsize=500_000)
def _stem_id(stem: str) -> int:
    """A stem as a signed 64-bit number, the same in every process (blake2b)."""
    return _h(stem, 7)


_BIGRAM_MIX = 0x9E3779B97F4A7C15


class Packed:
    """What verification reads of one text, packed into numpy arrays: ~16 KB for a BBC article
    (tracemalloc), against ~68 KB as `Fingerprint`'s sets and dicts, so that a linker's cache
    holds the working set of a large run; verification (`align`, `pair_features`, `verify`)
    works on it directly. Made by `pack`; a `Fingerprint` given to those functions is packed
    on the way in.

    Per stem entry (one per content stem of each sentence, in stem order): `sent` (the
    sentence), `stem` (its `_stem_id`), `weight` (its rarity weight in that sentence), `plain`
    (a plain word, not a name or a figure). Per sentence: `text_id` (the text, hashed),
    `total` and `plain_total` (the weights summed). Weights are in hundredths, whole numbers (in
    float64), so sums are exact in any order and verification reads only their ratios.
    Figures per sentence: `num_sent`, `num`. Per text: `bigrams` (adjacent plain stems, hashed, sorted), `plain_stems` and
    `plain_weights` (each plain stem with its weight in the last sentence that has it).
    """

    __slots__ = ("texts", "n", "words", "body_hash", "title_stems", "names", "numbers", "initials",
                 "text_id", "total", "plain_total", "sent", "stem", "weight", "plain", "num_sent", "num",
                 "bigrams", "plain_stems", "plain_weights")

    @property
    def sentence_texts(self) -> list[str]:
        return self.texts.split("\n") if self.n else []  # (a sentence holds no newline: split_sentences)

    def order_key(self) -> tuple:
        """Which of two texts is "the short one", whatever the argument order (as Fingerprint's)."""
        return (self.words, self.n, self.body_hash, self.sentence_texts)

    def orders_before(self, other: Packed) -> bool:
        mine, theirs = (self.words, self.n, self.body_hash), (other.words, other.n, other.body_hash)
        return mine < theirs if mine != theirs else self.order_key() <= other.order_key()

    __hash__ = None  # mutable arrays inside: compared by value, never hashed

    def __eq__(self, other: object) -> bool:
        import numpy as np

        if not isinstance(other, Packed):
            return NotImplemented
        return all(np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
                   for x, y in ((getattr(self, a), getattr(other, a)) for a in Packed.__slots__))

    def nbytes(self) -> int:
        """About the memory this holds: its arrays, its text, its small sets of names and figures."""
        fields = [getattr(self, a) for a in Packed.__slots__]
        arrays = sum(x.nbytes + 112 for x in fields if hasattr(x, "nbytes"))
        sets = sum(200 + 110 * len(x) for x in fields if isinstance(x, frozenset))
        return 400 + arrays + sets + len(self.texts)


class _Packer:
    """Builds a `Packed` sentence by sentence: `add` each kept sentence, then `build`."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.sent: list[int] = []
        self.stem: list[int] = []
        self.weight: list[int] = []
        self.plain: list[bool] = []
        self.num_sent: list[int] = []
        self.num: list[int] = []
        self.first: list[int] = []
        self.second: list[int] = []
        self.last_plain: dict[int, int] = {}  # plain stem -> its weight in the last sentence that has it

    def add(self, text: str, weights: dict[str, float], plains, numbers, bigrams) -> None:
        i = len(self.texts)
        self.texts.append(text)
        for w, v in weights.items():  # (every stem of the sentence, in the order found)
            v = round(v * 100)  # in hundredths (weights have two decimals): every sum is exact
            sid = _stem_id(w)
            self.sent.append(i)
            self.stem.append(sid)
            self.weight.append(v)
            self.plain.append(w in plains)
            if w in plains:
                self.last_plain[sid] = v
        for x in numbers:
            self.num_sent.append(i)
            self.num.append(_stem_id(x))
        for a, b in bigrams:
            self.first.append(_stem_id(a))
            self.second.append(_stem_id(b))

    def build(self, words: int, body_hash: str, title_stems, names, numbers, initials) -> Packed:
        import numpy as np

        p = Packed()
        p.texts, p.n, p.words, p.body_hash = "\n".join(self.texts), len(self.texts), words, body_hash
        p.title_stems, p.names, p.numbers, p.initials = title_stems, names, numbers, initials
        p.text_id = np.array([_h(t) for t in self.texts], dtype=np.int64)
        sent = np.array(self.sent, dtype=np.int32)
        stem = np.array(self.stem, dtype=np.int64)
        by_stem = np.lexsort((sent, stem))  # (for _join)
        p.sent, p.stem = sent[by_stem], stem[by_stem]
        p.weight = np.array(self.weight, dtype=np.float64)[by_stem]
        p.plain = np.array(self.plain, dtype=bool)[by_stem]
        # (float64 even for a text without stems, where bincount would give integers)
        p.total = np.bincount(p.sent, weights=p.weight, minlength=p.n).astype(np.float64, copy=False)
        p.plain_total = np.bincount(p.sent, weights=np.where(p.plain, p.weight, 0.0),
                                    minlength=p.n).astype(np.float64, copy=False)
        num_sent = np.array(self.num_sent, dtype=np.int32)
        num = np.array(self.num, dtype=np.int64)
        by_figure = np.lexsort((num_sent, num))
        p.num_sent, p.num = num_sent[by_figure], num[by_figure]
        with np.errstate(over="ignore"):
            mixed = np.array(self.first, dtype=np.int64).view(np.uint64) * np.uint64(_BIGRAM_MIX) \
                + np.array(self.second, dtype=np.int64).view(np.uint64)
        p.bigrams = np.unique(mixed)
        order = sorted(self.last_plain)
        p.plain_stems = np.array(order, dtype=np.int64)
        p.plain_weights = np.array([self.last_plain[k] for k in order], dtype=np.float64)
        return p


def pack(fp: Fingerprint) -> Packed:
    """`fp` in the packed form verification reads (see `Packed`)."""
    packer = _Packer()
    for s in fp.sentences:
        packer.add(s.text, s.weights, s.plain, s.numbers, s.bigrams)
    return packer.build(fp.words, fp.body_hash, fp.title_stems, fp.names, fp.numbers, fp.initials)


class Walked:
    """A body read token by token (`_walk`, sentence by sentence), not packed yet: what the
    guard reads (names, figures, initials, and which text is the short one) at a quarter of
    a fingerprint's cost (0.4-0.5 ms an article, against 1.2-1.5 ms packed). `pack_walked`
    makes the `Packed` fingerprint from it without reading the text again; `profile()`
    keeps only the guard's part (what a linker caches for a candidate the guard refused).
    """

    __slots__ = ("sentences", "names", "numbers", "initials", "words", "n", "body_hash")

    def orders_before(self, other: Walked | Packed) -> bool:
        """As `Packed.orders_before` where (words, sentences, body hash) differ, the only case
        `guard_refuses` asks about (a tie is left to `verify`)."""
        return (self.words, self.n, self.body_hash) < (other.words, other.n, other.body_hash)

    def profile(self) -> Walked:
        p = Walked()
        p.sentences, p.names, p.numbers, p.initials = None, self.names, self.numbers, self.initials
        p.words, p.n, p.body_hash = self.words, self.n, self.body_hash
        return p

    def nbytes(self) -> int:
        """About the memory a profile holds (its sets of names, figures and initials)."""
        return 200 + sum(200 + 110 * len(x) for x in (self.names, self.numbers, self.initials))


def walk_body(body: str, body_hash: str = "") -> Walked:
    """`body` walked sentence by sentence: the sentences verification keeps, with their names and figures."""
    initials: set[str] = set()
    names: set[str] = set()
    numbers: set[str] = set()
    sentences = []
    for text in split_sentences(body):
        weights, plain, sentence_names, sentence_numbers, sequence = _walk(text, initials)
        if len(weights) < 3:
            continue
        names |= sentence_names
        numbers |= sentence_numbers
        sentences.append((text, weights, plain, sentence_numbers, sequence))
    w = Walked()
    w.sentences, w.names, w.numbers, w.initials = sentences, frozenset(names), frozenset(numbers), frozenset(initials)
    w.words, w.n, w.body_hash = len(body.split()), len(sentences), body_hash
    return w


def pack_walked(walked: Walked, title: str) -> Packed:
    """The packed fingerprint of a walked body (with its sentences: not a `profile()`) and its title."""
    packer = _Packer()
    for text, weights, plain, numbers, sequence in walked.sentences:
        packer.add(text, weights, plain, numbers, set(zip(sequence, sequence[1:], strict=False)))
    return packer.build(walked.words, walked.body_hash, _sentence(title).stems, walked.names, walked.numbers,
                        walked.initials)


def packed_fingerprint(title: str, body: str, body_hash: str = "") -> Packed:
    """`pack(fingerprint(title, body, body_hash, keys=False))`, made straight from the tokens
    (no `Sentence` sets on the way): what the linker's workers make for every article they verify."""
    return pack_walked(walk_body(body, body_hash), title)


def guard_refuses(a: Walked | Packed, b: Walked | Packed, model: LinkModel | None = None) -> bool:
    """Would `verify(a, b)` refuse the pair before aligning any sentence (a text without
    sentences, or the guard on names and figures)? The same answer from a `Walked` body or
    its profile as from the packed fingerprint, so a linker packs only the texts of the
    pairs that pass. False where verify decides otherwise (a duplicate, a tie on length).
    """
    if (a.words, a.n, a.body_hash) == (b.words, b.n, b.body_hash) or (a.body_hash and a.body_hash == b.body_hash):
        return False
    if not a.n or not b.n:
        return True
    short, long, _ = ordered(a, b)
    return bool((model or link_model()).guard_fails(agreement_features(short, long)))


def _packed(x: Fingerprint | Packed) -> Packed:
    return x if isinstance(x, Packed) else pack(x)


def _join(np, keys, sorted_keys):
    """Every (i, j) with keys[i] == sorted_keys[j], as two index arrays (sorted_keys ascending)."""
    lo = np.searchsorted(sorted_keys, keys, "left")
    counts = np.searchsorted(sorted_keys, keys, "right") - lo
    matches = int(counts.sum())
    left = np.repeat(np.arange(len(keys)), counts)
    right = np.arange(matches) + np.repeat(lo - (np.cumsum(counts) - counts), counts)
    return left, right


def align(short: Fingerprint | Packed, long: Fingerprint | Packed, threshold: float = 0.5) -> Alignment:
    """Match each sentence of the short text to the long one's, two ways at once.

    * by `sentence_similarity` (>= threshold): the pairs an aligned diff shows;
    * by the content words it derives from (`_contained`): how much of the short text's
      wording, beyond names and figures, comes sentence by sentence from the long one,
      and whether those sentences keep their order. A rewording derives from its
      parent's sentences in order; another outlet's report of the same event shares the
      names and figures, but not the wording around them.

    Every sentence of one against every sentence of the other at once: over the two texts'
    stems, a matrix of the short side's weights times one of the long side's stems gives
    each pair's shared weight (exact sums of whole hundredths: the same result in any order,
    in every process). Those tables, reduced to each short sentence's best match, come from
    news_archive._speedups (compiled) where it is built, else from `_numpy_scores`: the same
    results either way.
    """
    short, long = _packed(short), _packed(long)
    ns, nl = short.n, long.n
    if not ns or not nl:
        return Alignment([], 0, 0.0, 0.0)
    scores = (_FAST.scores if _FAST is not None else _numpy_scores)(*_score_arrays(short, long))
    if scores is None:  # no stem in common: nothing aligns
        return Alignment([], 0, 0.0, 0.0)
    best, best_j, best_c, best_cj, has_same, last_same = scores

    pairs = []
    identical = 0
    weighted = got = 0.0
    content_matches: list[int] = []
    plain_total = short.plain_total.tolist()
    for i, (w, dup, j, b, bj, c, cj) in enumerate(zip(plain_total, has_same, last_same, best, best_j, best_c,
                                                      best_cj, strict=True)):
        weighted += w
        if dup:
            pairs.append((i, j, 1.0))
            identical += 1
            got += w
            content_matches.append(j)
            continue
        if b > 0 and b >= threshold:
            pairs.append((i, bj, b))
        if w and c > 0:
            c /= w  # _contained
            got += w * c
            if c >= 0.5:
                content_matches.append(cj)
    coverage = got / weighted if weighted else 0.0
    order = _longest_increasing(content_matches) / len(content_matches) if content_matches else 0.0
    return Alignment(pairs, identical, coverage, order)


def _score_arrays(short: Packed, long: Packed) -> tuple:
    """The arrays `_numpy_scores` and news_archive._speedups.scores read, in their order."""
    return (short.sent, short.stem, short.weight, short.plain, short.total, short.num_sent, short.num, short.text_id,
            long.sent, long.stem, long.plain, long.total, long.num_sent, long.num, long.text_id)


def _numpy_scores(s_sent, s_stem, s_weight, s_plain, s_total, s_num_sent, s_num, s_text_id,
                  l_sent, l_stem, l_plain, l_total, l_num_sent, l_num, l_text_id):
    """`align`'s tables reduced to each short sentence's best match: None where the texts have
    no stem in common, else (best similarity, its long sentence, best plain-word weight, its
    long sentence, whether a long sentence has the same text, the last that has), each a list
    with one item per short sentence. news_archive._speedups (C) gives the same lists.
    """
    import numpy as np

    ns, nl = len(s_total), len(l_total)
    # each (short stem entry, long stem entry) with the same stem: its weight goes to the
    # (short sentence, long sentence) cell (bincount: a fixed order of sums, one core)
    left, right = _join(np, s_stem, l_stem)
    if not len(left):
        return None
    cells = s_sent[left] * nl + l_sent[right]
    weights = s_weight[left]
    shared = np.bincount(cells, weights=weights, minlength=ns * nl).reshape(ns, nl)  # weight of shared stems
    plain = s_plain[left] & l_plain[right]
    contained = np.bincount(cells[plain], weights=weights[plain], minlength=ns * nl).reshape(ns, nl)  # plain only
    total = s_total[:, None] + l_total[None, :]
    sim = np.divide(2 * shared, total, out=np.zeros_like(shared), where=total > 0)  # sentence_similarity
    if len(s_num) and len(l_num):  # figures that disagree pull a pair apart (templated reports)
        left, right = _join(np, s_num, l_num)
        common = np.bincount(s_num_sent[left] * nl + l_num_sent[right], minlength=ns * nl).reshape(ns, nl)
        with_figures = (np.bincount(s_num_sent, minlength=ns) > 0)[:, None] \
            & (np.bincount(l_num_sent, minlength=nl) > 0)[None, :]
        sim[with_figures & (common == 0) & (shared > 0)] *= 0.6
    best_j = sim.argmax(axis=1)  # the first best, as a loop keeping the first maximum
    best = sim[np.arange(ns), best_j]
    best_cj = contained.argmax(axis=1)
    best_c = contained[np.arange(ns), best_cj]
    same = s_text_id[:, None] == l_text_id[None, :]
    last_same = nl - 1 - same[:, ::-1].argmax(axis=1)  # the last long sentence with the same text
    has_same = same.any(axis=1)
    return (best.tolist(), best_j.tolist(), best_c.tolist(), best_cj.tolist(), has_same.tolist(),
            last_same.tolist())


_FAST = compiled.load()  # the compiled scores where built (news_archive.compiled), else None: numpy


def _numbers_found(mine: frozenset[str], theirs: frozenset[str]) -> float:
    """Share of `mine` in `theirs`, a figure rounded either way agreeing (1.23 ~ 1.2, 12,400 ~ 12,000).

    Two figures x, y agree when |x - y| <= 5% of the larger. Figures are never negative, so
    a y that agrees with x > 0 lies in [0.95 x, x / 0.95]: only the sorted values in a
    slightly wider window are tested (the same test; a figure too long for a float, inf,
    takes the full scan).
    """
    if not mine:
        return 1.0
    values = []
    for t in theirs:
        try:
            values.append(float(t))
        except ValueError:
            continue
    values.sort()
    windowed = not values or values[-1] != math.inf
    found = 0
    for m in mine:
        if m in theirs:
            found += 1
            continue
        try:
            x = float(m)
        except ValueError:
            continue
        near = values[bisect_left(values, 0.9 * x) : bisect_right(values, x / 0.9)] if windowed and 0 < x < math.inf else values
        if any(x and y and abs(x - y) <= 0.05 * max(abs(x), abs(y)) for y in near):
            found += 1
    return found / len(mine)


def _names_found(short: Fingerprint | Packed, long: Fingerprint | Packed) -> float:
    """Share of the short text's names in the long one, an acronym standing for its words."""
    if not short.names:
        return 1.0
    found = sum(1 for n in short.names if n in long.names or n in long.initials)
    return found / len(short.names)


def _found_in(np, mine, theirs):
    """Which of `mine` are in `theirs` (both sorted, each value once), as a boolean mask:
    np.isin's answer, by one binary search each (np.isin sorts both again, ~4x the time)."""
    if not len(theirs):
        return np.zeros(len(mine), dtype=bool)
    return theirs[np.minimum(np.searchsorted(theirs, mine), len(theirs) - 1)] == mine


def _weighted_containment(short: Packed, long: Packed) -> float:
    """Rarity-weighted share of the short text's plain stems found anywhere in the long one."""
    import numpy as np

    total = short.plain_weights.sum()
    if not total:
        return 0.0
    return float(short.plain_weights[_found_in(np, short.plain_stems, long.plain_stems)].sum() / total)


def agreement_features(short: Fingerprint | Packed, long: Fingerprint | Packed) -> dict[str, float]:
    """The features the guard reads: how many of the short text's names and figures the long one keeps."""
    return {"name_agreement": _names_found(short, long),
            "number_agreement": _numbers_found(short.numbers, long.numbers)}


def pair_features(short: Fingerprint | Packed, long: Fingerprint | Packed, al: Alignment | None = None,
                  agreement: dict[str, float] | None = None) -> dict[str, float]:
    """The features the link model weighs, for a (short, long) pair of texts."""
    import numpy as np

    short, long = _packed(short), _packed(long)
    al = al or align(short, long)
    agreement = agreement or agreement_features(short, long)
    # share of the short text's sentences that have a counterpart in the long one, in order
    ordered_coverage = _longest_increasing([j for _, j, _ in sorted(al.pairs)]) / short.n if al.pairs else 0.0
    phrases = len(short.bigrams)
    return {
        "ordered_coverage": ordered_coverage,
        "content_coverage": al.content_coverage,
        "content_order": al.content_order,
        "phrase_overlap": (int(_found_in(np, short.bigrams, long.bigrams).sum()) / phrases if phrases else 0.0),
        "content_containment": _weighted_containment(short, long),
        "short_sentences": float(short.n),
        **agreement,
    }


@dataclass(frozen=True)
class LinkModel:
    """A logistic model over `pair_features`, with a guard; trained by bench/train_linker.py."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float  # link at this probability or above
    guard: dict  # feature -> minimum: versions keep most of their names and figures
    version: str
    # A second way to show derivation, for rewordings that changed most words: nearly every
    # sentence of the short text has a counterpart in the long one, in order (guard applies).
    in_order: dict = field(default_factory=lambda: {"ordered_coverage": 0.8, "short_sentences": 3})
    # A short text of one sentence is too little to tell a version from another outlet's
    # wording of the same lede: it links only when it keeps the wording (most of its word
    # pairs are the long text's: a copied or trimmed lede), whatever the probability says.
    one_sentence: dict = field(default_factory=lambda: {"phrase_overlap": 0.8})

    def probability(self, features: dict[str, float]) -> float:
        z = self.intercept + sum(c * (features[f] - m) / s for f, m, s, c in
                                 zip(self.features, self.mean, self.scale, self.coef, strict=True))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def guard_fails(self, features: dict[str, float]) -> list[str]:
        return [f for f, minimum in self.guard.items() if features[f] < minimum]

    def decide(self, features: dict[str, float]) -> tuple[bool, float, str]:
        """(link?, probability, why)."""
        probability = self.probability(features)
        if failed := self.guard_fails(features):
            return False, probability, "guard: " + ", ".join(failed)
        if features["short_sentences"] < 2 and (
                failed := [f for f, minimum in self.one_sentence.items() if features[f] < minimum]):
            return False, probability, "one sentence, reworded: " + ", ".join(failed)
        if probability >= self.threshold:
            return True, probability, "model"
        if all(features[f] >= minimum for f, minimum in self.in_order.items()):
            return True, probability, "sentences in order"
        return False, probability, "model"


MODEL_FILE = Path(__file__).with_name("rules") / "link_model.json"


@lru_cache(maxsize=1)
def link_model() -> LinkModel:
    spec = json.loads(MODEL_FILE.read_text())
    return LinkModel(tuple(spec["features"]), tuple(spec["mean"]), tuple(spec["scale"]), tuple(spec["coef"]),
                     float(spec["intercept"]), float(spec["threshold"]), dict(spec["guard"]), spec["version"],
                     dict(spec["in_order"]), dict(spec["one_sentence"]))


@dataclass
class Verdict:
    relation: str | None  # duplicate | revision | condensed | paraphrase | None
    scores: dict
    short_is_a: bool = False  # which of (a, b) is the shorter text
    alignment: Alignment | None = field(default=None, repr=False, compare=False)  # short against long

    @property
    def linked(self) -> bool:
        return self.relation is not None


def ordered(a: Fingerprint | Packed | Walked, b: Fingerprint | Packed | Walked
            ) -> tuple[Fingerprint | Packed | Walked, Fingerprint | Packed | Walked, bool]:
    """(short, long, short_is_a): the same pair whichever way round it is given."""
    short_is_a = a.orders_before(b)
    return (a, b, True) if short_is_a else (b, a, False)


def verify(a: Fingerprint | Packed, b: Fingerprint | Packed, model: LinkModel | None = None) -> Verdict:
    """Are a and b versions of one article, and how are they related? Symmetric in a and b."""
    a, b = _packed(a), _packed(b)
    short, long, short_is_a = ordered(a, b)
    if a.body_hash and a.body_hash == b.body_hash:
        return Verdict("duplicate", {"body_hash_equal": 1.0}, short_is_a)
    if not short.n or not long.n:
        return Verdict(None, {"reason": "no sentences"}, short_is_a)
    model = model or link_model()
    # The guard reads names and figures only: a pair it refuses is refused before the
    # sentence alignment, the costly part (the same verdict, sooner).
    agreement = agreement_features(short, long)
    if failed := model.guard_fails(agreement):
        return Verdict(None, {**{k: round(v, 3) for k, v in agreement.items()},
                              "model": model.version, "decided_by": "guard: " + ", ".join(failed)}, short_is_a)
    al = align(short, long)
    features = pair_features(short, long, al, agreement)
    link, probability, why = model.decide(features)
    n_short, n_long = short.n, long.n
    length_ratio = short.words / max(long.words, 1)
    identical_share = al.identical / n_short
    long_covered = len({j for _, j, _ in al.pairs}) / n_long
    scores = {
        "probability": round(probability, 4),
        **{k: round(v, 3) for k, v in features.items()},
        "coverage": round(len(al.pairs) / n_short, 3),  # share of the short text's sentences aligned
        "identical_sentences": round(identical_share, 3),
        "length_ratio": round(length_ratio, 3),
        "title_similarity": round(_dice(short.title_stems, long.title_stems), 3),
        "name_containment": round(_containment(short.names, long.names), 3),
        "aligned_sentences": len(al.pairs),
        "short_sentences": n_short,
        "long_sentences": n_long,
        "model": model.version,
        "decided_by": why,
    }
    if not link:
        return Verdict(None, scores, short_is_a, al)
    if identical_share >= 0.9 and long_covered >= 0.9:
        relation = "duplicate" if identical_share == 1.0 and long_covered == 1.0 else "revision"
    elif length_ratio < 0.8 or long_covered < 0.7:
        relation = "condensed"
    elif identical_share >= 0.5:
        relation = "revision"
    else:
        relation = "paraphrase"
    return Verdict(relation, scores, short_is_a, al)


# --------------------------------------------------------------------------- diffs
def sentence_spans(fp: Packed, body: str) -> list[list[int]] | None:
    """[start, length] (characters) of each of `fp`'s sentences in `body`, the text it was
    made from; None if one is not there.

    Every sentence is a piece of its body, in order (`split_sentences` only cuts and
    strips), so each is looked for after the one before. (A copy of the same text found
    before the sentence's own place reads back the same text, and the next is still after it.)
    """
    spans, at = [], 0
    for text in fp.sentence_texts:
        start = body.find(text, at)
        if start < 0:
            return None
        spans.append([start, len(text)])
        at = start + len(text)
    return spans


def archived_diff(parent: Fingerprint | Packed, child: Fingerprint | Packed, parent_body: str, child_body: str,
                  alignment: Alignment | None = None) -> list[dict]:
    """`aligned_diff` as archive.version_links keeps it: each sentence as where it stands in
    its article's body, `parent_span` / `child_span` = [start, length], not its text again.

    A link is deleted when either body changes (a re-parse unlinks the article), so a span
    always reads back the same text: analytics.version_diffs takes it from the articles.
    Storing the texts again made version_links 2.4x the size of the articles and its INSERT
    a quarter of the link step. Should a sentence not be found in the body given (not
    expected), the steps keep their texts (`parent` / `child`), which the view reads as well.
    """
    parent, child = _packed(parent), _packed(child)
    parent_spans, child_spans = sentence_spans(parent, parent_body), sentence_spans(child, child_body)
    if parent_spans is None or child_spans is None:
        return aligned_diff(parent, child, alignment)
    return aligned_diff(parent, child, alignment, spans=(parent_spans, child_spans))


def sentence_diff(parent: Fingerprint | Packed, child: Fingerprint | Packed, aligned: list[dict] | None = None) -> dict:
    """Sentence-level summary: how many sentences were kept, changed, added, removed."""
    aligned = aligned_diff(parent, child) if aligned is None else aligned
    ops = Counter(step["op"] for step in aligned)
    return {
        "kept": ops["kept"],
        "changed": ops["changed"],
        "added": ops["added"],
        "removed": ops["removed"],
        "parent_sentences": parent.n,
        "child_sentences": child.n,
    }


def aligned_diff(parent: Fingerprint | Packed, child: Fingerprint | Packed, alignment: Alignment | None = None,
                 *, spans: tuple[list, list] | None = None) -> list[dict]:
    """The two versions side by side, sentence by sentence, in the child's order.

    Each step is {"op": kept|changed|added|removed, "parent": text|None, "child": text|None,
    "similarity": float|None}. A parent sentence the child dropped is shown just before
    the child sentence that follows it in the parent. `alignment`: the child's sentences
    already aligned against the parent's (a verdict's, when the child is the short text).
    With `spans` (each sentence's [start, length] in the parent's and the child's body:
    `archived_diff`), a step names its sentences by "parent_span" / "child_span" instead,
    and leaves out a side it does not have.
    """
    parent, child = _packed(parent), _packed(child)
    al = alignment or align(child, parent, threshold=0.5)
    parent_texts, child_texts = parent.sentence_texts, child.sentence_texts
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
    shown = 0  # every parent sentence before this one is shown (matched or removed)
    if spans is None:
        def step(op, j, i, similarity):
            return {"op": op, "parent": None if j is None else parent_texts[j],
                    "child": None if i is None else child_texts[i], "similarity": similarity}
    else:
        parent_spans, child_spans = spans

        def step(op, j, i, similarity):
            out = {"op": op}
            if j is not None:
                out["parent_span"] = parent_spans[j]
            if i is not None:
                out["child_span"] = child_spans[i]
            out["similarity"] = similarity
            return out

    def removed_before(limit: int) -> None:
        nonlocal shown
        for j in range(shown, limit):
            if j not in matched_parent:
                steps.append(step("removed", j, None, None))
        shown = max(shown, limit)

    for i, text in enumerate(child_texts):
        if i in match:
            j, sim = match[i]
            removed_before(j)
            # kept: the very same text (a change of stop words only can score 1.0 too)
            steps.append(step("kept" if parent_texts[j] == text else "changed", j, i, round(sim, 3)))
        else:
            steps.append(step("added", None, i, None))
    removed_before(len(parent_texts))
    return steps
