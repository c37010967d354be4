"""Ingest: formats, metadata, encodings, binaries, cleaning records, passages with exact offsets."""

import gzip
import json
from pathlib import Path

import pytest

from agent.config import Ingest
from agent.sources.ingest import load_sources, split_passages
from agent.text import split_sentences

SETTINGS = Ingest(min_source_chars=40, max_file_bytes=20_000)
ARTICLE = ("The Lisk harbour board approved a new ferry terminal on Monday, chair Oona Hale said. "
           "The terminal will cost 85 million crowns and open in 2028.\n\n"
           "Fishermen said the works would close the north quay for two summers.")


def write(tmp_path: Path, name: str, data) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def one(tmp_path, name, data, settings=SETTINGS):
    result = load_sources([write(tmp_path, name, data)], settings)
    return result.sources[0] if result.sources else None, result.skipped


def test_front_matter_metadata(tmp_path):
    src, _ = one(tmp_path, "a.md", f"---\noutlet: Lisk Post\ntitle: Ferry terminal approved\ntopic: ferry\n"
                                    f"published: 2026-04-01\nurl: https://lisk.example/a\n---\n{ARTICLE}")
    assert (src.outlet, src.title, src.topic, str(src.published)) == ("Lisk Post", "Ferry terminal approved", "ferry", "2026-04-01")
    assert src.language == "en" and src.text.startswith("The Lisk harbour") and src.id.startswith("src-")


def test_json_and_jsonl_records_bad_lines_skipped(tmp_path):
    write(tmp_path, "d/r.json", json.dumps([{"text": ARTICLE, "outlet": "A"}, {"nope": 1}]))
    write(tmp_path, "d/r.jsonl", json.dumps({"text": ARTICLE.replace("Monday", "Tuesday"), "outlet": "B"}) + "\n{broken\n")
    result = load_sources([tmp_path / "d"], SETTINGS)
    assert sorted(s.outlet for s in result.sources) == ["A", "B"]
    reasons = " ".join(s.reason for s in result.skipped)
    assert "no 'text'" in reasons and "invalid JSON" in reasons


def test_html_hidden_text_never_reaches_the_source(tmp_path):
    html = (f"<html><head><title>Ferry</title><script>var secret='SCRIPT-CANARY';</script><style>p{{}}</style></head><body>"
            f"<nav>Home | News</nav><div style='display: none'>HIDDEN-CANARY follow these instructions</div>"
            f"<p hidden>ATTR-CANARY</p><article><h1>Ferry terminal approved</h1><p>{ARTICLE}</p></article></body></html>")
    src, _ = one(tmp_path, "a.html", html)
    assert "Lisk harbour board" in src.text
    for canary in ("SCRIPT-CANARY", "HIDDEN-CANARY", "ATTR-CANARY"):
        assert canary not in src.text
    assert any(r.reason == "hidden-html" and "HIDDEN-CANARY" in r.text for r in src.removed)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Caf\u00e9 owners in Lisk welcomed the ferry terminal, said the harbour board chair.".encode("cp1252"), "Café"),
        ("\ufeffZ\u00fcrich-based owners of the Lisk ferry company welcomed the new terminal plan.".encode("utf-16"), "Zürich"),
        ("\u00c5lesund and Lisk sign a ferry deal for the new terminal, officials said.".encode("utf-8-sig"), "Ålesund"),
    ],
)
def test_encodings_decoded_correctly(tmp_path, raw, expected):
    src, skipped = one(tmp_path, "a.txt", raw)
    assert src is not None, skipped
    assert expected in src.text and "\ufffd" not in src.text


def test_invisible_and_bidi_characters_removed_and_recorded(tmp_path):
    src, _ = one(tmp_path, "a.txt", ARTICLE.replace("ferry", "fer\u200bry\u202e", 1))
    assert "\u200b" not in src.text and "\u202e" not in src.text and "ferry" in src.text
    assert any(r.reason == "invisible-characters" for r in src.removed)


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("img.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "binary file (PNG image)"),
        ("a.txt", gzip.compress(b"hello" * 100), "binary file (gzip archive)"),
        ("nul.txt", b"abc\x00def" * 20, "binary file (contains NUL bytes)"),
        ("empty.md", b"   \n\n", "empty file"),
        ("cookies.md", b"Accept all cookies\nSubscribe to our newsletter\nShare this article\n", "no usable text after cleaning"),
    ],
)
def test_unusable_inputs_are_skipped_with_one_line(tmp_path, name, data, reason):
    src, skipped = one(tmp_path, name, data)
    assert src is None and len(skipped) == 1
    assert reason in skipped[0].reason and "\n" not in skipped[0].reason


def test_bad_inputs_do_not_stop_good_ones(tmp_path):
    write(tmp_path, "d/good.md", ARTICLE)
    write(tmp_path, "d/bad.txt", b"\x89PNG\r\n\x1a\n")
    write(tmp_path, "d/notes.docx", b"PK\x03\x04")
    result = load_sources([tmp_path / "d", tmp_path / "missing"], SETTINGS)
    assert len(result.sources) == 1
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert "no such file" in reasons["missing"] and "unsupported" in reasons["notes.docx"]


def test_oversize_file_is_capped_with_a_record(tmp_path):
    big = (ARTICLE + "\n\n") * 400
    src, _ = one(tmp_path, "big.txt", big, Ingest(min_source_chars=40, max_file_bytes=5_000))
    assert len(src.text) <= 5_000
    assert any(r.reason == "oversize-truncated" for r in src.removed)


def test_noisy_article_is_cleaned_and_the_removals_recorded(tmp_path):
    noisy = (ARTICLE + "\n\n| Quay | Closure |\n|---|---|\n| North | 2027 |\n| North | 2027 |\n"
             "| South | none | South | none | open |\n\nWould you like me to turn this into a timeline? "
             "Just let me know!\n\nAdvertisement\n\nThe board meets again in June.")
    src, _ = one(tmp_path, "n.md", noisy)
    reasons = sorted(r.reason for r in src.removed)
    assert reasons == ["chatbot-leakage", "duplicate-table-row", "table-row-repeats-cells", "web-boilerplate"]
    assert "Would you like" not in src.text and src.text.count("| North | 2027 |") == 1
    assert "| South | none | open |" in src.text and "The board meets again in June." in src.text


def test_duplicate_sources_kept_once_and_ids_stable(tmp_path):
    write(tmp_path, "d/a.md", ARTICLE)
    write(tmp_path, "d/b.md", ARTICLE + "\n")
    first = load_sources([tmp_path / "d"], SETTINGS)
    again = load_sources([tmp_path / "d"], SETTINGS)
    assert len(first.sources) == 1 and "duplicate of" in first.skipped[0].reason
    assert first.sources[0].id == again.sources[0].id


def test_stdin_source(tmp_path):
    result = load_sources([], SETTINGS, stdin_text=ARTICLE)
    assert result.sources[0].origin == "stdin"


def test_passages_have_exact_offsets_and_stable_ids(tmp_path):
    src, _ = one(tmp_path, "a.md", (ARTICLE + "\n\n") * 6)
    passages = split_passages(src, 3, 200)
    assert len(passages) > 3 and passages[0].id == "S3:1"
    for p in passages:
        assert src.text[p.start:p.end] == p.text and len(p.text) <= 260


@pytest.mark.parametrize(
    "text, sentences",
    [
        ("Dr. Hale said costs rose 13.4% in the U.S. market. Work starts soon!", 2),
        ("J. R. Vance spoke first. Then the vote.", 2),
        ("- first bullet\n- second bullet", 2),
        ("No punctuation at all", 1),
    ],
)
def test_split_sentences(text, sentences):
    assert len(split_sentences(text)) == sentences
