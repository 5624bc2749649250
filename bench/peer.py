"""The peer: the script a data team writes instead of this project.

In one process it reads each file, takes its sha256 (skipping bytes it has seen), takes the
first line as the title, strips tags, links near-duplicates with datasketch's MinHash LSH
(word 2-grams, threshold 0.45, 128 permutations), and COPYs the rows into a bare table.

It skips what the pipeline does: no archive of the raw bytes, no quality gate, no
sentence-level verification (a MinHash neighbour is a link), no full-text index, no run
history, no retries. `make bench` runs it on the same corpus in the same run.

    python bench/peer.py --inbox DIR --dsn DSN
"""

from __future__ import annotations

import argparse
import hashlib
import io
import re
import sys
import time
from pathlib import Path

TAG = re.compile(r"<[^>]+>")
WORD = re.compile(r"\w+")
NAME = "datasketch MinHash LSH script (2-grams, threshold 0.45, 128 permutations)"


def run_peer(inbox: Path, dsn: str) -> dict:
    """Process every file of `inbox`; returns docs, seconds and what it found."""
    import psycopg2
    from datasketch import MinHash, MinHashLSH

    t = time.perf_counter()
    lsh = MinHashLSH(threshold=0.45, num_perm=128)
    seen: set[str] = set()
    rows = io.StringIO()
    docs = links = 0
    for path in sorted(inbox.iterdir()):
        data = path.read_bytes()
        docs += 1
        sha = hashlib.sha256(data).hexdigest()
        if sha in seen:
            continue
        seen.add(sha)
        text = TAG.sub(" ", data.decode("utf-8", errors="replace")).strip()
        title, _, body = text.partition("\n")
        words = WORD.findall(body.lower())
        minhash = MinHash(num_perm=128)
        minhash.update_batch([f"{a} {b}".encode() for a, b in zip(words, words[1:], strict=False)])
        near = lsh.query(minhash)
        links += len(near)
        lsh.insert(sha, minhash)
        parent = near[0] if near else ""
        rows.write("\t".join(_escape(v) for v in (sha, path.name, title.strip(), body.strip(), parent)) + "\n")
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS peer_articles")
        cur.execute("CREATE TABLE peer_articles (sha256 text, file_name text, title text, body text, near text)")
        rows.seek(0)
        cur.copy_expert("COPY peer_articles FROM STDIN", rows)
    conn.close()
    return {"docs": docs, "unique": len(seen), "links": links, "seconds": time.perf_counter() - t}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inbox", type=Path, required=True)
    ap.add_argument("--dsn", required=True)
    args = ap.parse_args()
    r = run_peer(args.inbox, args.dsn)
    print(f"{NAME}: {r['docs']:,} docs in {r['seconds']:.1f} s = {r['docs'] / r['seconds']:,.0f} docs/s, "
          f"{r['links']:,} near-duplicate pairs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
