"""Commissioner reports over the read model: every query aggregates in SQL (GROUP BY)."""
