"""電子カルテ情報共有 (e-health record sharing): FHIR documents and items, per-visit consent, views."""
