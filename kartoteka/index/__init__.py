"""The card index: extraction of people, organisations, places and dates,
and their resolution into entities across documents, spellings and scripts."""
