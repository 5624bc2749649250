UPDATE archive.articles a SET story_id = v.story, linked_at = now(), link_method = v.method
FROM (VALUES %s) AS v(id, story, method) WHERE a.id = v.id
