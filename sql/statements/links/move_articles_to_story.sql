UPDATE archive.articles a SET story_id = m.root
FROM (VALUES %s) AS m(old, root) WHERE a.story_id = m.old
