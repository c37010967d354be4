"""Output: a brief rendered as Markdown, HTML and ninjs, and published to its files."""
