-- Stories joined by a new link: the later ones point at the one that survives.
UPDATE archive.stories s SET merged_into = m.new, merged_at = now()
FROM (VALUES %s) AS m(old, new) WHERE s.id = m.old
