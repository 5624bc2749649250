-- Raw documents to re-parse: every article and quarantine row, or only those another
-- parser version made (only_outdated).
SELECT raw_document_id FROM archive.articles
WHERE NOT %(only_outdated)s OR parser_version <> %(version)s
UNION
SELECT raw_document_id FROM archive.quarantine
WHERE NOT %(only_outdated)s OR parser_version IS DISTINCT FROM %(version)s
ORDER BY 1
