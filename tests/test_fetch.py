"""Web sources against a real web server on loopback: the SSRF guard, robots.txt, caps, redirects, the cache."""

from __future__ import annotations

import ipaddress
import re
import time

import pytest

from agent.api import draft_brief
from agent.config import Fetch, load_settings
from agent.errors import UsageError
from agent.sources.fetch import FetchFailed, FetchRefused, Fetcher, is_url, refusal, refuse_urls_unless_enabled, user_agent
from agent.sources.ingest import load_sources
from tests.fake_web import FakeWeb
from tests.fakes import good_model

LOOPBACK = {"allow_networks": ["127.0.0.0/8"]}


@pytest.fixture(scope="module")
def web():
    with FakeWeb(slow_s=3.0, huge_bytes=400_000) as server:
        yield server


def fetcher(tmp_path, **cfg) -> Fetcher:
    return Fetcher(Fetch(**{**LOOPBACK, "timeout_s": 1.5, **cfg}), tmp_path / "data")


# --- the SSRF guard, as a table ---------------------------------------------------------------

ADDRESSES = [  # address, what it is, refused by default
    ("10.0.0.7", "private", True),
    ("172.16.4.1", "private", True),
    ("192.168.1.20", "private", True),
    ("fd12:3456::1", "private", True),
    ("127.0.0.1", "loopback", True),
    ("127.8.9.10", "loopback", True),
    ("::1", "loopback", True),
    ("::ffff:127.0.0.1", "loopback", True),  # IPv4-mapped IPv6
    ("169.254.10.1", "link-local", True),
    ("fe80::1", "link-local", True),
    ("169.254.169.254", "cloud metadata", True),
    ("fd00:ec2::254", "cloud metadata", True),
    ("0.0.0.0", "unspecified", True),
    ("224.0.0.251", "multicast", True),
    ("100.64.0.1", "non-public", True),  # carrier-grade NAT
    ("93.184.215.14", None, False),
    ("2606:4700:4700::1111", None, False),
]


@pytest.mark.parametrize("address, kind, refused", ADDRESSES)
def test_ssrf_guard_refuses_non_public_addresses_by_default(address, kind, refused):
    reason = refusal(ipaddress.ip_address(address), Fetch())
    assert (reason is not None) == refused
    if refused:
        assert f"is a {kind} address" in reason


@pytest.mark.parametrize("address, kind, refused", ADDRESSES)
def test_allow_private_opens_everything_but_cloud_metadata(address, kind, refused):
    reason = refusal(ipaddress.ip_address(address), Fetch(allow_private=True))
    assert (reason is not None) == (kind == "cloud metadata")


@pytest.mark.parametrize("networks, address, allowed", [
    (["127.0.0.0/8"], "127.0.0.1", True),
    (["127.0.0.0/8"], "::ffff:127.0.0.1", True),
    (["127.0.0.0/8"], "::1", False),
    (["127.0.0.0/8"], "10.0.0.7", False),
    (["127.0.0.0/8"], "169.254.169.254", False),
    (["169.254.169.254/32"], "169.254.169.254", True),
    (["10.1.0.0/16"], "10.1.2.3", True),
    (["10.1.0.0/16"], "10.2.0.1", False),
])
def test_allow_networks_opens_exactly_the_listed_networks(networks, address, allowed):
    assert (refusal(ipaddress.ip_address(address), Fetch(allow_networks=networks)) is None) == allowed


def test_the_guard_holds_at_connect_time_for_names_and_ip_literals(tmp_path, web):
    port = web.base.rsplit(":", 1)[1]
    before = len(web.hits)
    for url in (f"{web.base}/story/wire.html", f"http://localhost:{port}/story/wire.html"):
        with pytest.raises(FetchRefused, match="loopback address"):
            Fetcher(Fetch(timeout_s=2), tmp_path / "data").get(url)
    assert len(web.hits) == before  # refused before connecting: the server never saw a request


def test_every_redirect_hop_is_checked(tmp_path, web):
    with pytest.raises(FetchRefused, match="169.254.169.254 is a cloud metadata address"):
        fetcher(tmp_path).get(f"{web.base}/to-private")


def test_the_service_accepts_urls_only_when_enabled():
    with pytest.raises(UsageError, match="in_service"):
        refuse_urls_unless_enabled(["a.md", "https://example.com/story"], Fetch())
    refuse_urls_unless_enabled(["a.md", "https://example.com/story"], Fetch(in_service=True))
    refuse_urls_unless_enabled(["a.md", "folder/"], Fetch())


@pytest.mark.parametrize("value, url", [("https://example.com/story", True), ("HTTP://EXAMPLE.COM", True),
                                        ("https:/example.com/story", False), ("ftp://example.com/a", False),
                                        ("examples/harbor", False), ("http://", False)])
def test_is_url(value, url):
    assert is_url(value) == url


# --- fetching ---------------------------------------------------------------------------------


def test_a_page_is_fetched_with_our_user_agent_and_robots_txt_is_read_first(tmp_path, web):
    page = fetcher(tmp_path).get(f"{web.base}/story/daily.html")
    assert page.status == 200 and page.content_type == "text/html" and b"Velden" in page.body
    hits = [h for h in web.hits if h.path in ("/robots.txt", "/story/daily.html")][-2:]
    assert [h.path for h in hits] == ["/robots.txt", "/story/daily.html"]
    assert hits[1].headers["User-Agent"] == user_agent(Fetch()) and user_agent(Fetch()).startswith("brief-agent/")


@pytest.mark.parametrize("path, reason", [
    ("/missing", "HTTP 404"),
    ("/image.png", "content type 'image/png'"),
    ("/private/memo.html", "disallowed by http://127.0.0.1:"),
    ("/loop", "more than 3 redirects"),
])
def test_unusable_pages_fail_with_a_reason(tmp_path, web, path, reason):
    with pytest.raises(FetchFailed, match=reason):
        fetcher(tmp_path, max_redirects=3).get(web.base + path)
    assert "/private/memo.html" not in web.paths()  # robots.txt is obeyed before any request


@pytest.mark.parametrize("status, outcome", [(404, None), (410, None), (503, "could not be read (HTTP 503)"),
                                             (500, "could not be read (HTTP 500)")])
def test_robots_txt_missing_allows_all_and_unreadable_disallows_all(tmp_path, status, outcome):
    """RFC 9309: 4xx means no rules; a server error means the site cannot be crawled for now."""
    with FakeWeb(robots_status=status) as site:
        if outcome is None:
            assert fetcher(tmp_path).get(f"{site.base}/private/memo.html").status == 200
        else:
            with pytest.raises(FetchFailed, match=re.escape(f"not fetched: {site.base}/robots.txt {outcome}")):
                fetcher(tmp_path).get(f"{site.base}/story/wire.html")
            assert "/story/wire.html" not in site.paths()


def test_redirects_are_followed_within_the_bound(tmp_path, web):
    page = fetcher(tmp_path).get(f"{web.base}/redirect/1")
    assert page.final_url == f"{web.base}/story/wire.html" and b"Halden Bau" in page.body
    with pytest.raises(FetchFailed, match="more than 1 redirects"):
        fetcher(tmp_path, max_redirects=1).get(f"{web.base}/redirect/1")


def test_a_slow_page_times_out(tmp_path, web):
    started = time.monotonic()
    with pytest.raises(FetchFailed, match="timed out after 1 s"):
        fetcher(tmp_path, timeout_s=1).get(f"{web.base}/slow")
    assert time.monotonic() - started < 2.5


def test_a_huge_page_is_cut_at_max_bytes_and_says_so(tmp_path, web):
    page = fetcher(tmp_path, max_bytes=50_000).get(f"{web.base}/huge")
    assert page.truncated and len(page.body) == 50_000
    settings = load_settings(overrides={"fetch": {**LOOPBACK, "max_bytes": 50_000}, "data_dir": str(tmp_path / "d")},
                             env={})
    result = load_sources([f"{web.base}/huge"], settings.ingest, fetcher=Fetcher.from_settings(settings))
    assert [r.reason for r in result.sources[0].removed if r.reason == "oversize-truncated"]


def test_a_rerun_revalidates_with_the_cache_and_downloads_nothing(tmp_path, web):
    f = fetcher(tmp_path)
    first = f.get(f"{web.base}/story/blog.html")
    mark = len(web.hits)
    again = fetcher(tmp_path).get(f"{web.base}/story/blog.html")
    assert again.from_cache and again.body == first.body
    rerun = web.hits[mark:]
    assert [h.status for h in rerun] == [304, 304]  # robots.txt and the page, both unchanged
    assert all("If-None-Match" in h.headers for h in rerun)


def test_a_page_not_revalidated_makes_no_request(tmp_path, web):
    fetcher(tmp_path).get(f"{web.base}/story/blog.html")
    mark = len(web.hits)
    assert fetcher(tmp_path).get(f"{web.base}/story/blog.html", revalidate=False).from_cache
    assert web.hits[mark:] == []


# --- URL sources through ingest and the API ---------------------------------------------------


def test_ingest_keeps_the_pages_metadata_and_falls_back_to_the_host(tmp_path, web):
    settings = load_settings(overrides={"fetch": LOOPBACK, "data_dir": str(tmp_path / "d")}, env={})
    result = load_sources([f"{web.base}/story/sited.html", f"{web.base}/story/daily.html", f"{web.base}/missing",
                           f"{web.base}/story/signed.html"], settings.ingest, fetcher=Fetcher.from_settings(settings))
    sited, daily, signed = result.sources
    assert signed.outlet == "Mara Olsen"  # no site name, but a byline: credited like a file's byline
    assert sited.outlet == "Northfield Wire" and sited.title == "Velden council approves tram line extension"
    assert str(sited.published) == "2026-05-12" and sited.origin == f"{web.base}/story/sited.html"
    assert sited.url == f"{web.base}/story/sited.html"
    assert daily.outlet == "127.0.0.1"  # no site name in the page: the host
    assert [(s.path, s.reason) for s in result.skipped] == [(f"{web.base}/missing", "HTTP 404 Not Found")]


def test_draft_brief_takes_urls_without_mangling_them(tmp_path, web, fake_openai):
    fake_openai.set_responder(good_model)
    settings = load_settings(overrides={
        "data_dir": str(tmp_path / "data"), "embeddings": {"backend": "hashing"}, "fetch": LOOPBACK,
        "drafter": {"base_url": fake_openai.base_url, "max_attempts": 2, "timeout_s": 5},
        "ingest": {"passage_chars": 200}}, env={})
    urls = [f"{web.base}{p}" for p in ("/story/sited.html", "/story/daily.html", "/story/blog.html")]
    result = draft_brief(urls, config=settings)
    assert result.status == "published", result.report
    assert {s.url for s in result.brief.sources} <= set(urls) and "Northfield Wire" in result.brief.source_line
