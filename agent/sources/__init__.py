"""Sources: reading files, URLs and feeds into clean text with its metadata."""
