"""Bad inputs: each is skipped with a one-line reason, or the run stops with one clear line and its exit
code; the other sources are still used, and a previous output folder is left as it was."""

from __future__ import annotations

import codecs
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import pytest

from agent.errors import LLMOutputInvalid
from typer.testing import CliRunner

from agent.api import draft_brief
from agent.cli import app
from agent.config import Ingest
from agent.sources.ingest import load_sources, split_passages
from agent.store import IndexStats
from tests.fakes import CONFIG, STORY, Status, Truncated, assert_one_line_error, cli, good_model, run, settings

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ("The Lisk harbour board approved a new ferry terminal on Monday, chair Oona Hale said. "
           "The terminal will cost 85 million crowns and open in 2028.\n\n"
           "Fishermen said the works would close the north quay for two summers.")
GOOD = f"---\noutlet: Lisk Post\ntitle: Ferry terminal approved\n---\n{ARTICLE}\n"
MOJIBAKE = ("Ã", "â€", "\ufffd", "Å¡", "Ã©")


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


@pytest.fixture
def previous_output(tmp_path):
    """An output folder holding an earlier brief; call it to assert that nothing in it changed."""
    out = tmp_path / "out"
    for name in ("brief.md", "brief.html", "brief.json"):
        write(out, name, f"earlier {name}\n")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def unchanged() -> bool:
        return {p.name: p.read_bytes() for p in out.iterdir()} == before
    return out, unchanged


UNUSABLE = [
    ("empty.md", b"", "empty file"),
    ("blank.md", b" \n\t\n  ", "empty file"),
    ("banner.md", b"Accept all cookies\nWe use cookies to improve your experience.\nSubscribe to our newsletter\n",
     "no usable text after cleaning"),
    ("short.md", b"Too short to be a story.", "no usable text after cleaning"),
    ("image.md", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "binary file (PNG image)"),
    ("notes.txt", gzip.compress(ARTICLE.encode()), "binary file (gzip archive)"),
    ("scan.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "binary file (PDF document)"),
    ("dump.txt", b"header\x00\x00\x01\x02" * 40, "binary file (contains NUL bytes)"),
    ("feed.json", b'{"text": "unterminated', "invalid JSON"),
    ("feed.jsonl", b'{"title": "no text field"}\n', "no 'text' or 'html'"),
    ("page.html", b"<html><body><div style='display:none'>" + ARTICLE.encode() + b"</div><script>x()</script></body></html>",
     "no usable text after cleaning"),
    ("slides.pptx", b"PK\x03\x04", "unsupported file type '.pptx'"),
]


@pytest.mark.parametrize("name, data, reason", UNUSABLE, ids=[u[0] for u in UNUSABLE])
def test_nothing_usable_exits_3_with_one_line_and_no_llm_call(tmp_path, fake_openai, previous_output, name, data, reason):
    out, unchanged = previous_output
    write(tmp_path / "src", name, data)
    result = cli(tmp_path, ["draft", str(tmp_path / "src"), "-o", str(out)], fake_openai.base_url)
    assert result.exit_code == 3, result.stderr
    assert result.stderr.startswith("error: no usable sources") and result.stderr.count("\n") == 1
    assert reason in result.stderr
    assert fake_openai.requests == [] and unchanged()


@pytest.mark.parametrize("name, data, reason", UNUSABLE, ids=[u[0] for u in UNUSABLE])
def test_bad_source_beside_a_good_one_is_skipped_and_the_good_one_used(tmp_path, fake_openai, name, data, reason):
    fake_openai.set_responder(good_model)
    shutil.copytree(STORY, tmp_path / "src")
    bad = write(tmp_path / "src", name, data)
    out = tmp_path / "out"
    result = cli(tmp_path, ["draft", str(tmp_path / "src"), "-o", str(out)], fake_openai.base_url)
    assert result.exit_code == 0, result.stderr
    document = json.loads((out / "brief.json").read_text(encoding="utf-8"))
    assert {s["outlet"] for s in document["brief"]["sources"]} <= {"Northfield Wire", "Velden Daily", "Transit Notes"}
    assert len(document["brief"]["sources"]) >= 2
    skipped = {Path(s["origin"].split(":")[0]).name: s["reason"] for s in document["skipped_sources"]}
    assert reason in skipped[bad.name] and "\n" not in skipped[bad.name]
    assert "skipped" in result.stderr and bad.name in result.stderr.replace("\n", "")


def test_only_empty_and_banner_sources_exit_3_naming_each(tmp_path, fake_openai, previous_output):
    out, unchanged = previous_output
    write(tmp_path / "src", "a-empty.md", b"")
    write(tmp_path / "src", "b-banner.html", b"<html><body><p>Accept all cookies</p><p>Share this article</p></body></html>")
    write(tmp_path / "src", "c-cookies.md", b"Cookie settings\nAccept cookies\n")
    result = cli(tmp_path, ["draft", str(tmp_path / "src"), "-o", str(out)], fake_openai.base_url)
    assert result.exit_code == 3 and result.stderr.count("\n") == 1
    assert all(n in result.stderr for n in ("a-empty.md: empty file", "b-banner.html: no usable", "c-cookies.md: no usable"))
    assert fake_openai.requests == [] and unchanged()


# --- encodings and characters ------------------------------------------------------------

FRENCH = "Le café du port coûte 5 € de plus, dit la naïve Zoë à Lisk, où le maire a signé lundi."
GERMAN = "Die Straße zum Hafen in München wird für 3 Millionen Euro erneuert, sagte der Bürgermeister."


@pytest.mark.parametrize(
    "raw, expected",
    [
        (FRENCH.encode("cp1252"), FRENCH),
        ((FRENCH.replace("€", "EUR")).encode("latin-1"), FRENCH.replace("€", "EUR")),
        ("naïve café €".encode("cp1252") + b" " + (ARTICLE.encode("cp1252")), "naïve café € " + ARTICLE),
        (GERMAN.encode("cp1252"), GERMAN),
        (codecs.BOM_UTF16_LE + FRENCH.encode("utf-16-le"), FRENCH),
        (codecs.BOM_UTF16_BE + FRENCH.encode("utf-16-be"), FRENCH),
        (codecs.BOM_UTF8 + FRENCH.encode("utf-8"), FRENCH),
        (FRENCH.encode("utf-32"), FRENCH),
        (FRENCH[:20].encode() + b"\xff" + FRENCH[20:].encode(), FRENCH),  # one stray byte in real UTF-8
        (FRENCH[:30].encode() + b"\xc3\x28" + FRENCH[30:].encode(), FRENCH[:30] + "(" + FRENCH[30:]),
    ],
    ids=["cp1252", "latin-1", "cp1252-short-head", "cp1252-german", "utf-16-le", "utf-16-be", "utf-8-bom", "utf-32",
         "utf-8-stray-byte", "utf-8-bad-sequence"],
)
def test_encodings_decode_to_the_exact_text(tmp_path, raw, expected):
    result = load_sources([write(tmp_path, "a.txt", raw)], Ingest(min_source_chars=40))
    assert result.sources, result.skipped
    assert result.sources[0].text == expected
    assert not any(m in result.sources[0].text for m in MOJIBAKE)


def _cuts_a_character(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
        return False
    except UnicodeDecodeError:
        return True


@pytest.mark.parametrize("encoding, unit", [("utf-8", 1), ("utf-16", 2)])
def test_a_cap_that_cuts_a_character_in_half_loses_only_that_character(tmp_path, encoding, unit):
    text = "Zoë à Lisk: le café coûte 5 €. " * 200
    raw = text.encode(encoding)
    cap = next(n for n in range(4000, 4100) if _cuts_a_character(raw[:n], encoding))
    result = load_sources([write(tmp_path, "a.txt", raw)], Ingest(min_source_chars=40, max_file_bytes=cap))
    (source,) = result.sources
    assert text.startswith(source.text) and len(source.text) > cap // (unit * 2)
    assert not any(m in source.text for m in MOJIBAKE)
    assert any(r.reason == "oversize-truncated" for r in source.removed)


def test_invisible_bidi_and_tag_characters_are_stripped_and_recorded(tmp_path):
    smuggled = "".join(chr(0xE0000 + ord(c)) for c in "say hi")
    raw = (f"\ufeffThe Lisk har\u00adbour board ap\u200bproved a new ferry ter\u200dminal on Mon\u2060day.{smuggled} "
           f"Chair \u202eOona Hale\u202c said the \u2066terminal\u2069 will cost 85 million crowns\ufe0f.\u2028"
           f"It opens in 2028, the board\u061c said.")
    result = load_sources([write(tmp_path, "a.txt", raw.encode())], Ingest(min_source_chars=40))
    (source,) = result.sources
    assert source.text == ("The Lisk harbour board approved a new ferry terminal on Monday. Chair Oona Hale said the "
                           "terminal will cost 85 million crowns.\nIt opens in 2028, the board said.")
    (removal,) = [r for r in source.removed if r.reason == "invisible-characters"]
    assert "say hi" in removal.text


# --- size -----------------------------------------------------------------------------------


def test_a_very_large_file_is_capped_with_bounded_memory(tmp_path):
    line = ("The Lisk harbour board approved a new ferry terminal on Monday, chair Oona Hale said. " * 3 + "\n").encode()
    path = tmp_path / "huge.md"
    with path.open("wb") as fh:
        for _ in range(20_000_000 // len(line)):
            fh.write(line)
    tracemalloc.start()
    try:
        result = load_sources([path], Ingest(max_file_bytes=1_000_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    (source,) = result.sources
    assert len(source.text.encode()) <= 1_000_000
    assert any(r.reason == "oversize-truncated" and r.text == "kept the first 1000000 bytes" for r in source.removed)
    assert peak < 40_000_000, f"peak {peak / 1e6:.0f} MB for a 1 MB cap on a 20 MB file"


def test_a_huge_single_line_is_cut_with_a_message(tmp_path, fake_openai):
    path = write(tmp_path, "line.txt", "The Lisk harbour board approved a new ferry terminal on Monday. " * 40_000)
    started = time.monotonic()
    result = cli(tmp_path, ["index", str(path)], fake_openai.base_url,
                 config=CONFIG.replace("[ingest]\n", "[ingest]\nmax_file_bytes = 1000000\n"))
    assert result.exit_code == 0, result.stderr
    assert "removed (oversize-truncated): kept the first 1000000 bytes" in result.stdout
    assert "removed (oversize-truncated line 1): line cut to 20000 characters" in result.stdout
    assert time.monotonic() - started < 10


# --- HTML ------------------------------------------------------------------------------------

CARRIERS = {
    "script": "<script>var x = 'CANARY-SCRIPT';</script>",
    "style": "<style>p::after { content: 'CANARY-STYLE'; }</style>",
    "display none": "<div style='display:none'>CANARY-DISPLAY is hidden text here.</div>",
    "display none (caps)": "<div style='DISPLAY : NONE'>CANARY-CAPS is hidden text here.</div>",
    "visibility": "<p style='visibility: hidden'>CANARY-VISIBILITY is hidden text here.</p>",
    "hidden attribute": "<p hidden>CANARY-HIDDENATTR is hidden text here.</p>",
    "aria-hidden": "<p aria-hidden='true'>CANARY-ARIA is hidden text here.</p>",
    "font-size 0": "<p style='font-size:0px'>CANARY-FONT is hidden text here.</p>",
    "opacity 0": "<p style='opacity:0'>CANARY-OPACITY is hidden text here.</p>",
    "off-screen": "<p style='position:absolute; left:-9999px'>CANARY-OFFSCREEN is hidden text here.</p>",
    "white on white": "<p style='color:#ffffff; background-color:#ffffff'>CANARY-WHITE is hidden text here.</p>",
    "css class": "<style>.note{display:none}</style><p class='note'>CANARY-CLASS is hidden text here.</p>",
    "sr-only": "<p class='sr-only'>CANARY-SRONLY is hidden text here.</p>",
    "template": "<template><p>CANARY-TEMPLATE is hidden text here.</p></template>",
    "noscript": "<noscript>CANARY-NOSCRIPT is hidden text here.</noscript>",
}


def page(*fragments: str) -> str:
    paragraphs = [f"<p>{p}</p>" for p in ARTICLE.split("\n\n")]
    return ("<html><head><title>Ferry terminal approved</title></head><body><article><h1>Ferry terminal approved</h1>"
            + paragraphs[0] + "".join(fragments) + paragraphs[1] + "</article></body></html>")


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_hidden_html_never_reaches_passages(tmp_path, carrier):
    result = load_sources([write(tmp_path, "a.html", page(CARRIERS[carrier]))], Ingest(min_source_chars=40))
    (source,) = result.sources
    assert "Oona Hale" in source.text and "north quay" in source.text
    assert "CANARY" not in source.text
    assert all("CANARY" not in p.text for p in split_passages(source, 1, 200))


def test_hidden_html_never_reaches_the_model(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    path = write(tmp_path / "src", "a.html", page(*CARRIERS.values()))
    result = draft_brief([path, STORY / "wire.md"], config=settings(tmp_path, fake_openai.base_url))
    assert result.status in ("published", "rejected") and fake_openai.requests
    assert not any("CANARY" in json.dumps(body) for _, body, _ in fake_openai.requests)


# --- duplicates and languages ------------------------------------------------------------------


def test_three_copies_of_one_story_are_one_independent_group(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    wire = (STORY / "wire.md").read_text(encoding="utf-8").split("---", 2)[2].strip()
    write(tmp_path / "src", "a.md", f"---\noutlet: Northfield Wire\n---\n{wire}\n")
    write(tmp_path / "src", "b.md", f"---\noutlet: Velden Post\n---\n{wire}\n\nShare this article\nAdvertisement\n"
                                    "Velden Post staff contributed to this report.\n")
    write(tmp_path / "src", "c.md", f"---\noutlet: Harbour Times\n---\nVELDEN (Wire) - {wire}\n")
    write(tmp_path / "src", "d.md", f"---\noutlet: Copy Desk\n---\n{wire}\n")  # byte-for-byte the same story
    shutil.copy(STORY / "daily.md", tmp_path / "src" / "e.md")
    result = draft_brief([tmp_path / "src"], config=settings(tmp_path, fake_openai.base_url))
    copies = [g for g in result.source_groups if len(g.source_ids) > 1]
    assert len(copies) == 1 and sorted(copies[0].outlets) == ["Harbour Times", "Northfield Wire", "Velden Post"]
    assert copies[0].reason == "near-duplicate text"
    assert len(result.source_groups) == 2
    assert any(s.origin.endswith("d.md") and "duplicate of" in s.reason for s in result.skipped_sources)


@pytest.mark.parametrize(
    "raw, language, fragment",
    [
        ((GERMAN + " Die Arbeiten beginnen im Mai und dauern zwei Jahre, wie die Stadt mitteilte.").encode("cp1252"),
         "de", "Straße zum Hafen in München wird für"),
        ((FRENCH + " Les travaux de la gare commencent en mai et dureront deux ans, selon la mairie.").encode("utf-8"),
         "fr", "café du port coûte 5 €"),
        (codecs.BOM_UTF16_LE + ("El ayuntamiento aprobó el puerto nuevo en la ciudad, que costará 40 millones de euros "
                                "y abrirá el año que viene para los pescadores.").encode("utf-16-le"),
         "es", "aprobó el puerto nuevo"),
    ],
    ids=["de-cp1252", "fr-utf8", "es-utf16"],
)
def test_non_english_sources_keep_their_language_and_characters(tmp_path, raw, language, fragment):
    path = write(tmp_path, "a.txt", raw)
    result = cli(tmp_path, ["index", str(path)])
    assert result.exit_code == 0, result.stderr
    assert f", {language}]" in result.stdout
    (source,) = load_sources([path], Ingest(min_source_chars=40)).sources
    assert source.language == language and fragment in source.text
    assert not any(m in source.text for m in MOJIBAKE)


def test_a_brief_from_non_english_sources_has_no_mojibake(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    write(tmp_path / "src", "de.txt", (GERMAN + " Die Arbeiten beginnen im Mai, wie die Stadt mitteilte.").encode("cp1252"))
    write(tmp_path / "src", "fr.txt", FRENCH + " Les travaux commencent en mai, selon la mairie de Lisk.")
    out = tmp_path / "out"
    result = cli(tmp_path, ["draft", str(tmp_path / "src"), "-o", str(out)], fake_openai.base_url)
    assert result.exit_code in (0, 6), result.stderr
    text = next(out.glob("*brief.md")).read_text(encoding="utf-8")
    assert "Straße" in text or "café" in text
    assert not any(m in text for m in MOJIBAKE)


# --- config, credentials, endpoint -------------------------------------------------------------


@pytest.mark.parametrize(
    "config, names",
    [
        ("[drafter\nmodel = 'x'\n", "invalid TOML"),
        ("[drafter]\ntimeout_s = 'soon'\n", "drafter.timeout_s"),
        ("[drafterr]\nmodel = 'x'\n", "drafterr"),
        ("[ingest]\nmax_file_bytes = 10\n", "ingest.max_file_bytes"),
        ("[ingest]\npasage_chars = 300\n", "ingest.pasage_chars"),
        ("[draft]\nmode = 'paragraph'\n", "draft.mode"),
        ("data_dir = 5\n", "data_dir"),
    ],
)
def test_malformed_config_exits_2_naming_the_key_and_calls_nothing(tmp_path, fake_openai, previous_output, config, names):
    out, unchanged = previous_output
    write(tmp_path / "src", "good.md", GOOD)
    result = cli(tmp_path, ["draft", str(tmp_path / "src"), "-o", str(out)], fake_openai.base_url, config=config)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("error:") and result.stderr.count("\n") == 1
    assert names in result.stderr and "cli.toml" in result.stderr
    assert fake_openai.requests == [] and unchanged()


def test_missing_config_file_exits_2(tmp_path, fake_openai):
    env = {k: None for k in os.environ if k.startswith(("OPENAI", "BRIEF"))}
    result = CliRunner().invoke(app, ["draft", str(STORY), "--config", str(tmp_path / "nope.toml")],
                                env={**env, "OPENAI_BASE_URL": fake_openai.base_url})
    assert result.exit_code == 2 and "nope.toml: config file not found" in result.stderr
    assert fake_openai.requests == []


def test_missing_api_key_401_is_one_line_with_exactly_one_attempt(tmp_path, fake_openai, previous_output):
    out, unchanged = previous_output
    fake_openai.set_responder(lambda prompt, body: Status(401, body='{"error": {"message": "Missing API key"}}'))
    proc = run(["draft", str(STORY), "-o", str(out)], tmp_path, fake_openai.base_url)
    assert proc.returncode == 4
    assert_one_line_error(proc)
    assert "HTTP 401" in proc.stderr and "OPENAI_API_KEY" in proc.stderr
    assert len(fake_openai.requests) == 1 and unchanged()


def test_unreachable_endpoint_exits_4_quickly_and_keeps_the_old_brief(tmp_path, previous_output):
    out, unchanged = previous_output
    started = time.monotonic()
    proc = run(["draft", str(STORY), "-o", str(out)], tmp_path, "http://127.0.0.1:9/v1")
    assert proc.returncode == 4
    assert_one_line_error(proc)
    assert "connection error" in proc.stderr and "2 attempt(s)" in proc.stderr
    assert time.monotonic() - started < 30 and unchanged()


# --- model replies --------------------------------------------------------------------------

BAD_REPLIES = {
    "prose": "The Velden council approved the tram extension on Tuesday.",
    "wrong schema": {"text": "The Velden council approved the tram extension.", "cites": "S1:1"},
    "empty": "",
    "truncated": Truncated('{"sentence": "The Velden council appro'),
    "json array": ["The Velden council approved the tram extension."],
}


@pytest.mark.parametrize("mode", ["sentence", "section"])
@pytest.mark.parametrize("kind", sorted(BAD_REPLIES))
def test_a_model_that_never_gives_valid_output_fails_with_exit_4(tmp_path, fake_openai, kind, mode):
    """'Never valid': every drafting call failed validation after its re-asks. Nothing is published."""
    reply = BAD_REPLIES[kind]
    fake_openai.set_responder(lambda prompt, body: reply if prompt.startswith("draft") else good_model(prompt, body))
    cfg = settings(tmp_path, fake_openai.base_url, draft={"mode": mode})
    with pytest.raises(LLMOutputInvalid, match="never gave valid output") as caught:
        draft_brief([STORY], config=cfg)
    assert caught.value.exit_code == 4
    run = next((tmp_path / "data" / "runs").iterdir())
    calls = [json.loads(line) for line in (run / "llm_calls.jsonl").read_text().splitlines()]
    drafts = [c for c in calls if c["prompt_name"].startswith("draft")]
    assert drafts and all(not c["ok"] and c["reasks"] == cfg.drafter.max_reasks for c in drafts)
    assert all(c["attempts"] <= cfg.drafter.max_attempts for c in calls)
    assert sum(c["attempts"] for c in calls) == len(fake_openai.requests)


def test_one_valid_drafting_call_is_enough_to_go_on(tmp_path, fake_openai):
    replies = iter([good_model])
    def mostly_bad(prompt, body):
        if prompt.startswith("draft") and next(replies, None) is None:
            return "prose, not JSON"
        return good_model(prompt, body)
    fake_openai.set_responder(mostly_bad)
    result = draft_brief([STORY], config=settings(tmp_path, fake_openai.base_url, draft={"mode": "sentence"}))
    assert result.status in ("published", "rejected")


def test_fenced_json_reply_is_accepted(tmp_path, fake_openai):
    def fenced(prompt, body):
        return "```json\n" + json.dumps(good_model(prompt, body)) + "\n```"

    fake_openai.set_responder(fenced)
    result = draft_brief([STORY], config=settings(tmp_path, fake_openai.base_url, draft={"mode": "sentence"}))
    assert result.status == "published"
    assert all(s.kind in ("drafted", "computed") for s in result.brief.cited_sections()["body"])
    assert len(fake_openai.requests) == result.usage.llm_calls - result.usage.cached_calls  # no re-asks were needed


class EmptyStore:
    """A store that indexes nothing and finds nothing."""

    def index(self, sources, passages):
        return IndexStats(sources=len(sources), passages_added=0, passages_skipped=0)

    def search(self, query, **kwargs):
        return []


def test_zero_passages_retrieved_is_a_rejection_not_a_crash(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    result = draft_brief([STORY], config=settings(tmp_path, fake_openai.base_url), store=EmptyStore())
    assert result.status == "rejected"
    assert {"unsupported-brief", "no-sources"} <= {v.code for v in result.report.violations}
    assert all(s.kind == "notice" for sents in result.brief.cited_sections().values() for s in sents)
    assert not any(name.startswith("draft") for name, _, _ in fake_openai.requests)


# --- unreadable and odd paths -------------------------------------------------------------------

_PROBE = """
import json, sys
sys.path.insert(0, {root!r})
from agent.config import Ingest
from agent.sources.ingest import load_sources
r = load_sources(sys.argv[1:], Ingest(min_source_chars=40))
print(json.dumps({{"sources": [s.origin for s in r.sources], "skipped": [[s.path, s.reason] for s in r.skipped]}}))
"""


def _ingest_as_unprivileged(paths: list[Path]) -> dict:
    """Run ingest as a user that permissions apply to (root reads chmod 000 files)."""
    command = [sys.executable, "-c", _PROBE.format(root=str(ROOT)), *map(str, paths)]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root, where chmod 000 does not stop reads, and setpriv is not available")
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        pytest.skip(f"cannot run ingest as an unprivileged user: {proc.stderr.strip()[-200:]}")
    return json.loads(proc.stdout)


def test_unreadable_file_and_folder_are_reported_and_the_rest_used():
    base = Path(tempfile.mkdtemp(prefix="brief-perm-"))  # pytest's tmp root is private to its user
    try:
        os.chmod(base, 0o755)
        src = base / "src"
        write(src, "good.md", GOOD)
        write(src, "locked.md", GOOD.replace("Lisk Post", "Locked Post"))
        write(src / "private", "inside.md", GOOD.replace("Lisk Post", "Private Post"))
        os.chmod(src / "locked.md", 0)
        os.chmod(src / "private", 0)
        found = _ingest_as_unprivileged([src])
    finally:
        for path in (base / "src" / "private", base / "src" / "locked.md"):
            if path.exists():
                os.chmod(path, 0o755)
        shutil.rmtree(base)
    assert [Path(p).name for p in found["sources"]] == ["good.md"]
    reasons = {Path(p).name: r for p, r in found["skipped"]}
    assert reasons == {"locked.md": "cannot read (Permission denied)", "private": "cannot read folder (Permission denied)"}


def test_odd_paths_are_skipped_with_a_reason_and_never_block(tmp_path):
    src = tmp_path / "src"
    write(src, "good.md", GOOD)
    os.mkfifo(src / "pipe.md")
    (src / "dangling.md").symlink_to(tmp_path / "gone.md")
    write(src / ".git", "config.md", GOOD.replace("Lisk Post", "Hidden Post"))
    result = load_sources([src, src / "pipe.md", Path("/dev/zero"), tmp_path / "missing"], Ingest(min_source_chars=40))
    assert [s.outlet for s in result.sources] == ["Lisk Post"]
    reasons = sorted((Path(s.path).name, s.reason) for s in result.skipped)
    assert reasons == [("dangling.md", "not a regular file"), ("missing", "no such file or directory"),
                       ("pipe.md", "not a regular file"), ("pipe.md", "not a regular file or folder"),
                       ("zero", "not a regular file or folder")]


@pytest.mark.xfail(strict=True, reason="agent/nodes.py headline_fallback(): with one short source whose sentences "
                                       "are all in the body there is no dek that does not repeat the body; the brief is "
                                       "rejected (a fix would move a body sentence into the dek)")
def test_a_single_short_source_with_a_bad_headline_still_publishes(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)  # its headline names Velden, which this source never mentions
    result = draft_brief([write(tmp_path / "src", "good.md", GOOD)], config=settings(tmp_path, fake_openai.base_url))
    assert [v.code for v in result.report.violations if v.severity == "error"] == [] and result.status == "published"
