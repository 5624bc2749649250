"""A hostile inbox through a full DAG run: the run finishes, every file is archived
(loaded or quarantined with a reason) or refused with a reason, and nothing outside
the inbox is read."""

from __future__ import annotations

import os

from devkit import evaluation
from tests.conftest import fetch


def _hostile_files(inbox, outside) -> dict[str, bytes]:
    files = {
        "empty.txt": b"",
        "binary.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40,
        "nul bytes.txt": b"A title with NUL\x00s\n\n" + b"word \x00 " * 100,
        "one-10MB-line.txt": b"x" * (10 * 1024 * 1024),
        "invalid-utf8.txt": b"Caf\xc3 title \xff\xfe\n\n" + b"Body with broken \xc3\x28 bytes and words " * 20,
        "nested.html": b"<html><body>" + b"<div>" * 20000 + b"Deep text " * 60 + b"</div>" * 20000 + b"</body></html>",
        "name with spaces.txt": b"Spaces in the name\n\n" + b"A perfectly ordinary body of text. " * 20,
        "new\nline.txt": b"A newline in the name\n\n" + b"Another ordinary body of words here. " * 20,
    }
    # titles that try to run script where they are shown (Data Docs, the overview page)
    body = b"The council approved the budget on Tuesday after a long debate about roads. " * 4
    files["img-title.txt"] = b"<img src=x onerror=alert(2)> Budget image probe\n\n" + body
    files["script-title.txt"] = b"<script>alert(1)</script> Budget passes\n\n" + body.replace(b"roads", b"rates")
    files["<svg onload=alert(3)>.txt"] = b"Budget file name probe\n\n" + body.replace(b"roads", b"parks")
    # a title that displays as something it is not (bidirectional override, zero-width space)
    files["bidi-title.txt"] = ("Budget\u200b vote \u202eoverride\u202c result\n\n".encode()
                               + body.replace(b"roads", b"schools"))
    files["caf\u00e9-\u6771\u4eac-\u0645\u0631\u062d\u0628\u0627.txt"] = (
        b"Non-ASCII file name\n\n" + "Ein ganz normaler Text über Nachrichten. ".encode() * 20)
    for name, content in files.items():
        (inbox / name).write_bytes(content)
    (inbox / "escape-link.txt").symlink_to(outside)
    return files


def test_a_hostile_inbox_runs_to_the_end_and_every_file_has_an_outcome(airflow_archive, tmp_path, news_ingest_dag):
    dsn, inbox = airflow_archive
    outside = tmp_path / "outside-secret.txt"
    outside.write_text("Outside title\n\n" + "confidential words " * 50)
    hostile = _hostile_files(inbox, outside)
    # ordinary articles alongside, as in a real delivery
    good = {}
    for aid, title, body in evaluation.generated_articles(60, seed=30):
        good[f"{aid}.txt"] = f"{title}\n\n{body}\n".encode()
        (inbox / f"{aid}.txt").write_bytes(good[f"{aid}.txt"])

    run = news_ingest_dag.test()
    assert run.state in ("success", "failed")  # it finishes; red only if a quality threshold says so

    delivered = dict(fetch(dsn, """SELECT d.file_name, CASE WHEN a.id IS NOT NULL THEN 'loaded'
                                                            WHEN q.id IS NOT NULL THEN 'quarantined'
                                                            WHEN cd.raw_document_id IS NOT NULL THEN 'duplicate'
                                                            ELSE 'none' END
                                   FROM archive.deliveries d
                                   LEFT JOIN archive.articles a ON a.raw_document_id = d.raw_document_id
                                   LEFT JOIN archive.quarantine q ON q.raw_document_id = d.raw_document_id
                                   LEFT JOIN archive.content_duplicates cd ON cd.raw_document_id = d.raw_document_id"""))
    refused = dict(fetch(dsn, "SELECT file_name, reason_code FROM archive.refused_files"))
    for name in list(hostile) + list(good):
        assert name in delivered or name in refused, name
        assert delivered.get(name, "refused") != "none", name
    assert refused == {"escape-link.txt": "not_regular_file"}
    assert all(delivered[name] == "loaded" for name in good)
    for name in ("empty.txt", "binary.png", "one-10MB-line.txt"):
        assert delivered[name] == "quarantined", name

    # every quarantined file has a readable reason, and its raw bytes are archived byte for byte
    reasons = fetch(dsn, """SELECT r.original_name, q.reason_codes, q.message, r.content FROM archive.quarantine q
                            JOIN archive.raw_documents r ON r.id = q.raw_document_id""")
    for name, codes, message, content in reasons:
        assert codes and message.strip(), name
        assert bytes(content) == hostile.get(name, good.get(name)), name

    # markup in titles is refused with a reason; invisible format characters are removed
    codes = {name: c for name, c, _m, _b in reasons}
    assert codes["img-title.txt"] == ["html_in_title"] and codes["script-title.txt"] == ["html_in_title"]
    assert delivered["<svg onload=alert(3)>.txt"] == "loaded"  # a file name is no markup in the text
    (bidi_title,) = fetch(dsn, "SELECT title FROM analytics.articles WHERE file_name = 'bidi-title.txt'")[0]
    assert bidi_title == "Budget vote override result"
    # and no Data Docs file carries the inbox's markup raw
    docs = list((inbox.parent / "data_docs").rglob("*.html"))
    assert docs
    for page in docs:
        text = page.read_text(errors="replace")
        for raw in ("<img src=x onerror", "<script>alert(1)", "<svg onload"):
            assert raw not in text, (page, raw)

    # nothing from outside the inbox was read, and the outside file is untouched
    assert fetch(dsn, "SELECT count(*) FROM archive.raw_documents WHERE content = %s",
                 (outside.read_bytes(),)) == [(0,)]
    assert outside.read_text().startswith("Outside title")
    # the inbox is empty but for the refused symlink, which stays for an operator to look at
    assert sorted(os.listdir(inbox)) in ([], ["escape-link.txt"])
