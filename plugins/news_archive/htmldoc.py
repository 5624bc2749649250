"""HTML dumps -> title, headers and paragraphs, through beautifulsoup4."""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag

DROP_SILENTLY = ("script", "style", "noscript", "template", "svg", "iframe")
# Page furniture: removed from the body and recorded as boilerplate.
FURNITURE = ("nav", "header", "footer", "aside", "form", "figcaption")
DATE_META = (
    "article:published_time", "date", "pubdate", "publishdate", "publish_date", "dc.date",
    "dcterms.date", "dc.date.issued", "og:published_time", "datepublished", "sailthru.date",
    "parsely-pub-date", "article.published",
)
AUTHOR_META = ("author", "article:author", "dc.creator", "parsely-author")
SOURCE_META = ("og:site_name", "application-name", "publisher")
URL_META = ("og:url",)
_DROP_SILENTLY, _FURNITURE = frozenset(DROP_SILENTLY), frozenset(FURNITURE)
_META, _PARAGRAPHS = frozenset({"meta"}), frozenset({"p", "li", "blockquote", "h2", "h3"})


def _all(root: Tag, names: frozenset[str]) -> list[Tag]:
    """`root.find_all(names)`: its tags of those names, in document order (descendants
    first met first). One walk, without bs4's general matcher, which costs more than the
    walk when asked for a list of names or for the first tag only (`_first`)."""
    return [tag for tag in root.descendants if isinstance(tag, Tag) and tag.name in names]


def _first(root: Tag, name: str) -> Tag | None:
    """`root.find(name)`: its first tag of that name, or None."""
    return next((tag for tag in root.descendants if isinstance(tag, Tag) and tag.name == name), None)


def _outermost(root: Tag, names: frozenset[str]) -> list[Tag]:
    """`_all(root, names)` without the tags inside another of them: a `<p>` in a
    `<blockquote>`, a `<li>` of a nested list. Each text is taken once, with the block
    around it; taking both gave the body the same paragraph twice."""
    found = []
    for tag in _all(root, names):
        parent = tag.parent
        while parent is not None and parent is not root and parent.name not in names:
            parent = parent.parent
        if parent is None or parent is root:
            found.append(tag)
    return found


def _meta(metas: list[Tag], names: tuple[str, ...]) -> str | None:
    wanted = {n.lower() for n in names}
    for tag in metas:
        key = (tag.get("name") or tag.get("property") or tag.get("itemprop") or "").lower()
        if key in wanted and (content := (tag.get("content") or "").strip()):
            return content
    return None


def _text(tag: Tag) -> str:
    return " ".join(tag.get_text(" ", strip=True).split())


def parse_html(text: str) -> dict:
    soup = BeautifulSoup(text, "html.parser")
    warnings: list[str] = []
    removed: list[dict] = []
    for tag in _all(soup, _DROP_SILENTLY):
        tag.decompose()
    metas = _all(soup, _META)  # (the page's meta tags, read for each header below)
    headers: dict[str, str] = {}
    if date := _meta(metas, DATE_META):
        headers["date"] = date
    else:
        time_tag = soup.find("time", attrs={"datetime": True})
        if time_tag is not None:
            headers["date"] = time_tag["datetime"].strip()
    for key, names in (("author", AUTHOR_META), ("source", SOURCE_META), ("url", URL_META)):
        if value := _meta(metas, names):
            headers[key] = value
    if "url" not in headers:
        canonical = soup.find("link", rel="canonical")
        if canonical is not None and canonical.get("href"):
            headers["url"] = canonical["href"]
    html_tag = _first(soup, "html")
    if isinstance(html_tag, Tag) and html_tag.get("lang"):
        headers["language"] = str(html_tag["lang"]).strip()

    container = _first(soup, "article") or _first(soup, "main") or _first(soup, "body") or soup
    h1 = _first(container, "h1") or _first(soup, "h1")
    title = _text(h1) if h1 is not None else ""
    if not title and soup.title is not None:
        title = _text(soup.title)
    if not title and (og := _meta(metas, ("og:title",))):
        title = og
    if h1 is not None:
        h1.decompose()
    for tag in _all(container, _FURNITURE):
        if snippet := _text(tag):
            removed.append({"rule": f"html_{tag.name}", "text": snippet[:500]})
        tag.decompose()
    paragraphs = [p for p in (_text(tag) for tag in _outermost(container, _PARAGRAPHS)) if p]
    if not paragraphs:
        paragraphs = [line for line in (" ".join(s.split()) for s in container.get_text("\n").split("\n")) if line]
        if paragraphs and paragraphs[0] == title:
            paragraphs = paragraphs[1:]
        warnings.append("no <p> elements: body taken from the page text")
    return {"title": title, "headers": headers, "paragraphs": paragraphs, "warnings": warnings, "removed": removed}
