-- A link's aligned diff no longer repeats the sentences of both versions: each step names
-- its sentences by where they stand in the articles' bodies (linking.archived_diff), and
-- analytics.version_diffs reads the texts from there. The texts made version_links 2.4
-- times the size of archive.articles and its INSERT a quarter of the link step (issue 16).
-- Links made before keep their texts, which the view reads as before; a link is deleted
-- whenever either body changes (a re-parse unlinks the article), so a span never points
-- into a text it was not made from.
COMMENT ON COLUMN archive.version_links.aligned_diff IS
    'Steps {op: kept|changed|added|removed, parent_span, child_span: [start, length] in the parent''s and '
    'the child''s body (or parent, child: the text, links made before migration 011), similarity} in the '
    'child''s order; read it through analytics.version_diffs.';
