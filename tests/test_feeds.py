"""Feeds against the loopback web: RSS and Atom parsing, --since/--limit, seen items, the CLI end to end."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from agent.config import Fetch, load_settings
from agent.errors import UsageError
from agent.sources.feeds import SeenItems, feed_sources, parse_since, read_feed, resolve_feed
from agent.sources.fetch import FetchFailed, Fetcher
from tests.fake_web import FakeWeb
from tests.fakes import good_model, run

OUTLETS = {"Northfield Wire", "Velden Daily", "Transit Notes"}


@pytest.fixture
def web():
    with FakeWeb() as server:
        yield server


def settings_for(tmp_path, **extra):
    return load_settings(overrides={"data_dir": str(tmp_path / "data"), "fetch": {"allow_networks": ["127.0.0.0/8"]},
                                    **extra}, env={})


def test_rss_items_newest_first_with_the_outlet_from_each_items_source(tmp_path, web):
    settings = settings_for(tmp_path)
    read = read_feed("rss", f"{web.base}/rss.xml", Fetcher.from_settings(settings), SeenItems(settings.data_dir))
    assert read.title == "Velden regional news"
    assert [i.outlet for i in read.items] == ["Northfield Wire", "Velden Daily", "Transit Notes"]
    assert [i.url for i in read.items] == [f"{web.base}/story/{n}.html" for n in ("wire", "daily", "blog")]
    assert [i.key for i in read.items] == ["velden-0", "velden-1", "velden-2"] and not any(i.seen for i in read.items)


@pytest.mark.parametrize("since, limit, kept, left_out", [
    (None, None, ["Item 0", "Item 1", "Item 2"], 0),
    ("24h", None, ["Item 0"], 2),
    ("2d", None, ["Item 0", "Item 1"], 1),
    (None, 2, ["Item 0", "Item 1"], 1),
])
def test_atom_feed_with_since_and_limit(tmp_path, web, since, limit, kept, left_out):
    settings = settings_for(tmp_path)
    read = read_feed("nw", f"{web.base}/atom.xml", Fetcher.from_settings(settings), SeenItems(settings.data_dir),
                     since=parse_since(since), limit=limit)
    assert read.title == "Northfield Wire" and [i.title for i in read.items] == kept and read.left_out == left_out
    assert {i.outlet for i in read.items} == {"Northfield Wire"}


def test_a_web_page_is_not_a_feed(tmp_path, web):
    settings = settings_for(tmp_path)
    with pytest.raises(FetchFailed, match="not an RSS or Atom feed"):
        read_feed("x", f"{web.base}/story/wire.html", Fetcher.from_settings(settings), SeenItems(settings.data_dir))


@pytest.mark.parametrize("text, delta", [("24h", timedelta(hours=24)), ("90m", timedelta(minutes=90)),
                                         ("2d", timedelta(days=2)), ("1w", timedelta(weeks=1)), (None, None)])
def test_parse_since(text, delta):
    assert parse_since(text) == delta


@pytest.mark.parametrize("text", ["24", "yesterday", "h24", "-1h"])
def test_parse_since_rejects_what_it_cannot_read(text):
    with pytest.raises(UsageError, match="--since"):
        parse_since(text)


def test_resolve_feed_by_url_name_or_case_insensitive_name():
    named = {"Northfield Wire": "https://nw.example/rss"}
    assert resolve_feed("https://x.example/feed", named) == ("https://x.example/feed", "https://x.example/feed")
    assert resolve_feed("Northfield Wire", named) == ("Northfield Wire", "https://nw.example/rss")
    assert resolve_feed("northfield wire", named) == ("Northfield Wire", "https://nw.example/rss")
    with pytest.raises(UsageError, match="known: Northfield Wire"):
        resolve_feed("Southfield", named)


def test_feed_urls_in_config_must_be_http():
    from agent.errors import ConfigError

    with pytest.raises(ConfigError, match="feeds"):
        load_settings(overrides={"feeds": {"Wire": "file:///etc/passwd"}}, env={})


def test_seen_items_are_served_from_the_cache_without_a_request(tmp_path, web):
    settings = settings_for(tmp_path)
    first, reads = feed_sources([f"{web.base}/rss.xml"], settings)
    assert {s.outlet for s in first.sources} == OUTLETS and not first.skipped
    assert all(not i.seen for i in reads[0].items)
    mark = len(web.hits)
    again, reads = feed_sources([f"{web.base}/rss.xml"], settings)
    assert all(i.seen for i in reads[0].items) and reads[0].unchanged
    assert [s.id for s in again.sources] == [s.id for s in first.sources]
    assert sorted(web.paths()[mark:]) == ["/robots.txt", "/rss.xml"]  # no item page requested again
    assert {h.status for h in web.hits[mark:]} == {304}


def test_an_unreadable_feed_is_skipped_with_its_reason(tmp_path, web):
    result, reads = feed_sources([f"{web.base}/missing.xml", f"{web.base}/atom.xml"], settings_for(tmp_path),
                                 since=parse_since("24h"))
    assert [(s.path, s.reason) for s in result.skipped] == [(f"{web.base}/missing.xml", "feed: HTTP 404 Not Found")]
    assert [s.outlet for s in result.sources] == ["Northfield Wire"] and len(reads) == 1


def test_feeds_respect_the_ssrf_guard(tmp_path, web):
    settings = load_settings(overrides={"data_dir": str(tmp_path / "data")}, env={})
    result, _ = feed_sources([f"{web.base}/rss.xml"], settings)
    assert not result.sources and "loopback address" in result.skipped[0].reason and web.hits == []


# --- through the CLI, with the fake OpenAI server as the drafter ------------------------------


def cli_config(tmp_path, feeds: dict | None = None):
    cfg = tmp_path / "test.toml"
    table = "".join(f'"{k}" = "{v}"\n' for k, v in (feeds or {}).items())
    cfg.write_text('[embeddings]\nbackend = "hashing"\n[drafter]\nmax_attempts = 2\ntimeout_s = 5\n'
                   '[ingest]\npassage_chars = 200\n[fetch]\nallow_networks = ["127.0.0.0/8"]\n'
                   + (f"[feeds]\n{table}" if table else ""))
    return cfg


def test_brief_draft_from_a_feed_publishes_and_a_rerun_fetches_nothing_new(tmp_path, web, fake_openai):
    fake_openai.set_responder(good_model)
    cfg = cli_config(tmp_path)
    proc = run(["draft", "--feed", f"{web.base}/rss.xml", "--format", "json"], tmp_path, fake_openai.base_url,
               config=cfg)
    assert proc.returncode == 0, proc.stderr
    brief = json.loads(proc.stdout)["brief"]
    assert {s["outlet"] for s in brief["sources"]} == OUTLETS
    assert "feed Velden regional news: 3 item(s), 3 new" in proc.stderr
    assert sorted(web.paths(200)) == ["/robots.txt", "/rss.xml", "/story/blog.html", "/story/daily.html",
                                      "/story/wire.html"]
    rendered = run(["draft", "--feed", f"{web.base}/rss.xml"], tmp_path, fake_openai.base_url, config=cfg)
    assert rendered.returncode == 0, rendered.stderr
    source_line = next(ln for ln in rendered.stdout.splitlines() if "Synthesized from:" in ln)
    assert source_line.startswith("3 sources — Synthesized from: ") and all(o in source_line for o in OUTLETS)
    rerun = web.hits[5:]
    assert "3 item(s), 0 new, 3 from the cache" in rendered.stderr
    assert sorted(h.path for h in rerun) == ["/robots.txt", "/rss.xml"] and {h.status for h in rerun} == {304}


def test_brief_draft_takes_a_url_argument_unmangled(tmp_path, web, fake_openai):
    fake_openai.set_responder(good_model)
    proc = run(["draft", f"{web.base}/story/sited.html", f"{web.base}/story/daily.html", f"{web.base}/missing",
                "--format", "json"], tmp_path, fake_openai.base_url, config=cli_config(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert f"skipped {web.base}/missing: HTTP 404 Not Found" in proc.stderr
    assert "Northfield Wire" in {s["outlet"] for s in json.loads(proc.stdout)["brief"]["sources"]}


def test_the_json_step_takes_urls(tmp_path, web, fake_openai):
    fake_openai.set_responder(good_model)
    request = {"sources": [f"{web.base}/story/sited.html", f"{web.base}/story/daily.html"]}
    proc = run(["draft", "--json", "-"], tmp_path, fake_openai.base_url, stdin=json.dumps(request),
               config=cli_config(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "published"


def test_brief_feeds_list_and_check(tmp_path, web):
    cfg = cli_config(tmp_path, {"Velden news": f"{web.base}/rss.xml", "Northfield Wire": f"{web.base}/atom.xml",
                                "Gone": f"{web.base}/gone.xml"})
    listed = run(["feeds", "list"], tmp_path, config=cfg)
    assert listed.returncode == 0 and f"Velden news\t{web.base}/rss.xml\t0 item(s) seen" in listed.stdout
    checked = run(["feeds", "check", "velden news", "Northfield Wire", "--since", "24h"], tmp_path, config=cfg)
    assert checked.returncode == 0, checked.stderr
    assert "Velden news — Velden regional news: 3 item(s), 3 new" in checked.stdout
    assert "Northfield Wire — Northfield Wire: 1 item(s), 1 new, 2 left out by --since/--limit" in checked.stdout
    assert "Velden Daily — Tram extension wins council backing despite cost worries" in checked.stdout
    assert not [p for p in web.paths() if p.startswith("/story/")]  # check reads feeds only
    gone = run(["feeds", "check", "Gone"], tmp_path, config=cfg)
    assert gone.returncode == 3 and "Gone: cannot read the feed: HTTP 404" in gone.stdout


def test_ask_and_check_take_url_sources(tmp_path, web, fake_openai):
    fake_openai.set_responder(lambda prompt, body: {"answer": "The Velden city council."})
    cfg = cli_config(tmp_path)
    asked = run(["ask", "Who approved the extension?", "--sources", f"{web.base}/story/wire.html"], tmp_path,
                fake_openai.base_url, config=cfg)
    assert asked.returncode == 0, asked.stderr
    assert "Velden" in asked.stdout and "passages: S1:" in asked.stdout
    draft = tmp_path / "draft.md"
    draft.write_text("The Velden city council voted 31 to 9 on Tuesday to extend the Blue tram line. [S1:1]\n")
    checked = run(["check", str(draft), "--sources", f"{web.base}/story/wire.html", "--json"], tmp_path, config=cfg)
    assert checked.returncode == 0, checked.stderr
    claim = json.loads(checked.stdout)["claims"][0]
    assert claim["supported"] and claim["evidence"][0]["quote"].startswith("The Velden city council voted 31 to 9")
