-- An article re-parsed in place (same id, same story). linked_at is kept when the text
-- the linker reads (title and body) did not change; else it is cleared and the article
-- is linked again. No row comes back when the parse is the same as before.
UPDATE archive.articles
SET title = %(title)s, body = %(body)s, published_at = %(published_at)s,
    published_precision = %(published_precision)s, source = %(source)s, url = %(url)s,
    author = %(author)s, language = %(language)s, extra_headers = %(extra_headers)s,
    source_format = %(source_format)s, encoding = %(encoding)s, word_count = %(word_count)s,
    content_hash = %(content_hash)s, body_hash = %(body_hash)s, parser_version = %(parser_version)s,
    parse_warnings = %(parse_warnings)s, boilerplate_removed = %(boilerplate_removed)s,
    quality_warnings = %(quality_warnings)s, updated_at = now(),
    linked_at = CASE WHEN body_hash = %(body_hash)s AND title = %(title)s THEN linked_at END
WHERE raw_document_id = %(raw_document_id)s
  AND (parser_version, content_hash, boilerplate_removed::text, parse_warnings::text)
      IS DISTINCT FROM (%(parser_version)s, %(content_hash)s, %(boilerplate_removed)s::jsonb::text,
                        %(parse_warnings)s::jsonb::text)
RETURNING id, linked_at IS NULL AS text_changed
