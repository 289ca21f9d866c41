"""The corporate-number register (法人番号, kept by the National Tax Agency)."""
