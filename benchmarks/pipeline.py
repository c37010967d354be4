#!/usr/bin/env python3
"""Pipeline figures: wall time per stage, LLM calls and tokens, peak memory — fake model vs embedded model.

    python benchmarks/pipeline.py [--quick] [--sizes 10,100,1000] [--no-embedded] [--json-out FILE]
    python benchmarks/pipeline.py --checker-grouping   # only the checker and source-grouping rows at scale

Every scenario runs in a fresh process (imports done, no model loaded, empty store unless stated),
calls agent.api.draft_brief as the CLI does, and times each stage through light hooks patched in
from here (nothing in agent/ changes). "fake" is agent.testing.FakeOpenAI answering instantly
(our own overhead); "embedded" is the default settings (SmolLM2 via llama.cpp on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STORIES = [ROOT / "examples" / "harbor-desalination", ROOT / "examples" / "valley-water-rationing"]
MAIN_STAGES = ("ingest", "index", "retrieve", "draft", "check", "trends", "model start", "render")
COLD_STAGES = ("ingest", "index", "retrieve", "check", "render")  # the "<= 2 s cold" budget, LLM excluded
# the shipped [embeddings] backend: scenarios run with the default settings unless they name another backend
DEFAULT_BACKEND = tomllib.loads((ROOT / "configs" / "default.toml").read_text())["embeddings"]["backend"]
TARGETS = {"overhead": 0.05, "cold_s": 2.0, "section_calls": 3, "embedded_calls": 11, "prompt_tokens": 8000,
           "checker_ms": 50.0, "growth": 10.0}

# --- a deterministic synthetic corpus ------------------------------------------------------

TOPICS = [  # (bodies, projects, affected groups, topic words)
    ("harbour board|port authority|maritime agency", "ferry terminal|container berth|cargo crane|breakwater|quay wall|"
     "cruise pier|dredging contract|freight rail spur", "dockworkers|ferry passengers|fishing crews|shipping lines",
     "tides silt moorings tugboats stevedores wharves pilots tonnage hulls bollards"),
    ("water authority|drought committee|river board", "desalination plant|reservoir dam|irrigation canal|pumping "
     "station|pipeline|treatment works|rationing scheme|aquifer recharge", "farmers|households|growers|anglers",
     "rainfall aquifers brine salinity wells sprinklers meters leakage snowmelt runoff"),
    ("grid operator|energy regulator|utility board", "wind farm|battery store|substation|solar park|interconnector|"
     "gas turbine|heat network|transmission line", "bill payers|factories|miners|rural homes",
     "megawatts inverters blackouts tariffs pylons cables voltage turbines panels capacity"),
    ("transport council|city assembly|rail operator", "tram line|bus corridor|metro extension|cycle lane network|"
     "ticketing system|rail depot|park-and-ride site|night bus service", "commuters|cyclists|taxi drivers|students",
     "timetables fares carriages platforms signals depots ridership junctions sleepers catenary"),
    ("health board|hospital trust|medical council", "cancer ward|emergency department|clinic network|ambulance base|"
     "vaccination drive|maternity unit|mental health service|diagnostic centre", "nurses|patients|surgeons|paramedics",
     "waiting lists beds scanners prescriptions triage outpatients staffing shifts theatres referrals"),
    ("planning committee|housing agency|district council", "housing estate|social housing block|rent cap|student "
     "residence|brownfield redevelopment|tower refurbishment|zoning plan|starter homes scheme",
     "tenants|landlords|first-time buyers|builders", "mortgages rents deposits cladding insulation plots permits "
     "developers leaseholds evictions"),
    ("agriculture ministry|farm cooperative|land trust", "crop insurance fund|grain silo|dairy subsidy|orchard "
     "replanting|fertiliser plant|livestock market|soil programme|greenhouse cluster", "dairy farmers|seasonal "
     "pickers|millers|beekeepers", "harvests yields barley wheat hectares pesticides pasture herds pollination vineyards"),
    ("digital agency|science council|data protection office", "data centre|fibre network|chip plant|cloud contract|"
     "research campus|satellite ground station|cybersecurity centre|supercomputer", "programmers|start-ups|telecom "
     "firms|researchers", "servers bandwidth latency encryption semiconductors algorithms cooling broadband outages"),
]
FIRST = "Elin Marta Jonas Ilse Tomas Aino Ravi Nadia Owen Greta Pavel Sofia Kenji Lena Mateo Astrid Hugo Yara".split()
SURNAME = ("Var Kest Hol Bren Mor Sal Tid Lund Ferr Ost Dal Carr Wyn Ask Brig".split(),
           "den strom rick lowe dale wick berg holm ford ley mark by stad vik ton".split())
PLACE = ("|Port |North |South |Upper |West ".split("|"), "Bray Carrow Merrow Tarn Ely Hale Wick Ross Fen Lark Dun Mill "
         "Stour Avon Kell".split(), "|ford|ham|by|mouth|field|stead".split("|"))
OUTLETS = ("Meridian Wire|Coastline Ledger|Valley Courier|Northern Post|Harbour Herald|Civic Times|Regional Observer|"
           "Morning Dispatch|County Standard|Metro Bulletin|Tidewater Review|Plains Gazette|Capital Record|"
           "Riverside News|Highland Chronicle|Daily Compass").split("|")
MONTHS = "January February March April May June July August September October November December".split()
VERBS = "approved|delayed|expanded|tendered|rejected|financed|paused|revised".split("|")
TEMPLATES = [
    "The {body} in {place} {verb} the {project} on {day}, according to {person}, who chairs its {word} panel.",
    "{person} said the {project} would cost {money} and take {small} years to finish.",
    "Officials expect the {project} to serve {count} {group} by {year}, up from {count2} today.",
    "{Group} in {place} warned that {word} and {word2} could delay the {project2}.",
    "A survey by {outlet} found that {pct} percent of {group} backed the {project}, while {pct2} percent opposed it.",
    "The {body} will vote on the {project2} in {month} {year}, after a review of {word} costs.",
    "Critics such as {person} questioned whether {word} near the {project} had been assessed properly.",
    "{person}, a {role} at the {body}, said {word} was the main risk for {group}.",
    "Funding of {money} comes from a {fund} and from {word} levies paid by {group}.",
    "Construction is due to start in {month}, with {count} workers on site at the peak.",
    "In {place}, {group} have complained about {word}, {word2} and rising {word3} for years.",
    "The {project} replaces an older {project2} that closed in {year0} after repeated {word} failures.",
    "{person} told reporters in {place} that the {body} had {verb} a smaller {project2} last {month}.",
    "Next steps include a {word} study due in {month} and a public hearing in {place}.",
]


def _place(rng: random.Random) -> str:
    return rng.choice(PLACE[0]) + rng.choice(PLACE[1]) + rng.choice(PLACE[2])


def _sentence(rng: random.Random, topic: tuple, place: str) -> str:
    bodies, projects, groups, words = (*(part.split("|") for part in topic[:3]), topic[3].split())
    person = f"{rng.choice(FIRST)} {rng.choice(SURNAME[0])}{rng.choice(SURNAME[1])}"
    a, b, c = rng.sample(words, 3)
    group = rng.choice(groups)
    money = (f"{rng.randint(2, 950)} million crowns" if rng.random() < 0.7
             else f"{rng.randint(1, 9)}.{rng.randint(1, 9)} billion crowns")
    values = dict(body=rng.choice(bodies), place=place if rng.random() < 0.6 else _place(rng),
                  verb=rng.choice(VERBS), project=rng.choice(projects), project2=rng.choice(projects),
                  day=rng.choice("Monday Tuesday Wednesday Thursday Friday".split()), person=person, word=a, word2=b,
                  word3=c, money=money, small=rng.randint(2, 9), count=f"{rng.randint(2, 900) * 100:,}",
                  count2=f"{rng.randint(1, 400) * 100:,}", group=group, Group=group[0].upper() + group[1:],
                  year=rng.randint(2026, 2034), year0=rng.randint(1985, 2024), outlet=rng.choice(OUTLETS),
                  pct=rng.randint(5, 95), pct2=rng.randint(5, 60), month=rng.choice(MONTHS),
                  role=rng.choice("spokesperson|director|board member|senior engineer|economist|deputy chair".split("|")),
                  fund=rng.choice("regional fund|national grant|green bond|pension fund loan|transition facility".split("|")))
    return rng.choice(TEMPLATES).format(**values)


def synthetic_doc(i: int, words: int, seed: int = 9) -> str:
    """One ~`words`-word news story with front matter; 80% of sentences on its main topic."""
    rng = random.Random(f"brief-bench-{seed}-{i}")
    main, other = TOPICS[i % len(TOPICS)], TOPICS[(i * 3 + 1) % len(TOPICS)]
    place = _place(rng)
    body, project = rng.choice(main[0].split("|")), rng.choice(main[1].split("|"))
    title = f"{place} {body} {rng.choice(VERBS)} {project}"
    paragraphs, count = [], 0
    while count < words:
        para = " ".join(_sentence(rng, main if rng.random() < 0.8 else other, place) for _ in range(rng.randint(2, 4)))
        paragraphs.append(para)
        count += len(para.split())
    front = (f"---\noutlet: {OUTLETS[(i * 7) % len(OUTLETS)]}\ntitle: {title}\ntopic: {project}\n"
             f"url: https://bench.example/{seed}/{i}\npublished: 2026-{1 + i % 12:02d}-{1 + i % 28:02d}\n"
             "language: en\n---\n")
    return front + "\n\n".join(paragraphs) + "\n"


def write_corpus(folder: Path, n: int, words: int, seed: int = 9) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"{i:04d}.md").write_text(synthetic_doc(i, words, seed), encoding="utf-8")
    return folder


# --- the child: one scenario in a fresh process ----------------------------------------------


class Timer:
    """Seconds per stage (summed) and every call's duration; nested stages are reported apart."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, list[float]] = {}

    def wrap(self, fn, stage: str):
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                took = time.perf_counter() - started
                self.seconds[stage] = self.seconds.get(stage, 0.0) + took
                self.calls.setdefault(stage, []).append(took)
        return timed


def bench_model(prompt: str, body: dict):
    """agent.testing.good_model, with a headline and dek the checker can verify against any sources."""
    from agent.testing import PASSAGE_RE, first_sentence, good_model

    user = body["messages"][-1]["content"]
    if prompt == "nuance":  # word a computed disagreement: the fact itself, as given
        return {"sentence": user.split("Fact found by comparing the sources:")[-1].split("\n")[0].strip()}
    if prompt == "headline":
        text = body["messages"][1]["content"].split("<summary>")[-1].split("</summary>")[0]
        first = re.split(r"(?<=[.!?])\s+", text.strip())[0]
        return {"headline": " ".join(first.split()[:12]).rstrip(",.;:") or "Brief",
                "dek": "Officials and critics disagree over the costs and timing of the plans."}
    if prompt == "trend":
        return {"name": "Regional public projects", "description": "Public bodies are deciding on large projects."}
    if prompt in ("draft_brief", "revise_brief"):  # the one-call draft and revision: good_model's sentences,
        out = good_model(prompt, body)  # with a headline and dek from the body like the "headline" reply above
        if prompt == "draft_brief" or "headline" in out:
            body_text = " ".join(s["text"] for s in out.get("sections", {}).get("body", [])) or (
                out["sentences"][0]["text"] if out.get("sentences") else "Brief")
            out.update(headline=" ".join(body_text.split()[:12]).rstrip(",.;:") or "Brief",
                       dek="Officials and critics disagree over the costs and timing of the plans.")
        if prompt == "draft_brief":
            out["trend"] = {"name": "Regional public projects",
                            "description": "Public bodies are deciding on large projects."}
        return out
    try:
        return good_model(prompt, body)
    except (AssertionError, IndexError, KeyError):  # a prompt added since: fill the string fields it asks for
        schema = (body.get("response_format") or {}).get("schema") or (
            (body.get("response_format") or {}).get("json_schema") or {}).get("schema", {})
        passages = PASSAGE_RE.findall(user)
        text = first_sentence(passages[0][1]) if passages else "The sources say so."
        return {k: text for k, v in schema.get("properties", {}).items() if v.get("type") == "string"}


def _token_counter():
    """Prompt tokens as SmolLM2's tokenizer counts a ChatML prompt (chars/4 if llama_cpp is missing)."""
    try:
        from llama_cpp import Llama

        from agent.model.local_model import locate_gguf

        vocab = Llama(model_path=str(locate_gguf()), vocab_only=True, verbose=False)
        count, how = (lambda text: len(vocab.tokenize(text.encode(), add_bos=False, special=True))), "SmolLM2 tokenizer"
    except Exception:
        count, how = (lambda text: max(1, len(text) // 4)), "chars/4"

    def prompt_tokens(messages: list[dict]) -> int:
        return count("".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
                     + "<|im_start|>assistant\n")
    return prompt_tokens, count, how


def _vm_hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_scenario(spec: dict) -> dict:
    import importlib
    import os

    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    import agent.api as api
    import agent.model.embeddings as embeddings
    import agent.nodes as nodes
    import agent.analysis.trends as trends
    from agent.config import load_settings
    from agent.output.publish import write_outputs
    from agent.store import PassageStore
    from agent.testing import FakeOpenAI

    for module in ("agent.graph", "agent.checkpoints", "agent.model.llm", "agent.model.llm_cache", "agent.output.render", "agent.model.local_model",
                   "openai.resources.chat.completions"):
        try:  # what draft_brief imports lazily: counted under "imports", not in a stage
            importlib.import_module(module)
        except ImportError:
            pass
    out: dict = {"spec": spec, "imports_s": time.perf_counter() - started, "load_before": load_before}
    timer = Timer()
    hooks = [(api, "load_sources", "ingest"), (api, "passages_of", "ingest"), (api, "build_store", "index"),
             (PassageStore, "index", "index"), (embeddings, "_load", "embed load"), (PassageStore, "search", "search"),
             (nodes, "retrieve", "retrieve"), (nodes, "group_sources", "groups"), (nodes, "draft", "draft"),
             (nodes, "add_disputes", "draft"), (nodes, "word_disputes", "draft"), (nodes, "draft_headline", "draft"),
             (nodes, "revise", "draft"), (nodes, "fallback", "draft"), (nodes, "check", "check"),
             (nodes, "check_brief", "checker"), (api, "build_drafter", "model start"), (api, "build_registry", "trends"),
             (trends.TrendRegistry, "assign", "trends")]
    replies: list[str] = []
    with ExitStack() as stack:
        out["missing_hooks"] = [f"{getattr(o, '__name__', o)}.{name}" for o, name, _ in hooks if not hasattr(o, name)]
        for owner, name, stage in hooks:
            if hasattr(owner, name):
                stack.enter_context(mock.patch.object(owner, name, timer.wrap(getattr(owner, name), stage)))
        overrides: dict = {"data_dir": spec["data_dir"], "embeddings": {"backend": spec["backend"]},
                           "draft": {"mode": spec["mode"]}}
        fake = None
        if spec["model"] == "fake":
            fake = stack.enter_context(FakeOpenAI())
            # the fake writes headers and body apart: Nagle + delayed ACK would add ~40 ms to every call
            fake.server.RequestHandlerClass.disable_nagle_algorithm = True

            def recording(prompt, body):
                reply = bench_model(prompt, body)
                replies.append(json.dumps(reply))
                return reply
            fake.set_responder(recording)
            overrides["drafter"] = {"base_url": fake.base_url}
        settings = load_settings(overrides=overrides, env={})
        runs, marks = [], []
        for attempt in range(2 if spec.get("warm") else 1):  # the second run: same process, same store
            timer.reset()
            marks.append((len(fake.requests), len(replies)) if fake else (0, 0))
            began = time.perf_counter()
            result = api.draft_brief([Path(p) for p in spec["paths"]], config=settings)
            drafted = time.perf_counter() - began
            render = timer.wrap(write_outputs, "render")
            render(result, Path(spec["data_dir"]) / f"out-{attempt}")
            total = time.perf_counter() - began
            stages = {s: timer.seconds.get(s, 0.0) for s in MAIN_STAGES}
            stages["other"] = total - sum(stages.values())
            run = {"total_s": total, "draft_brief_s": drafted, "stages": stages,
                   "nested": {s: timer.seconds.get(s, 0.0) for s in ("embed load", "search", "groups", "checker")},
                   "search_ms": [t * 1000 for t in timer.calls.get("search", [])],
                   "checker_ms": [t * 1000 for t in timer.calls.get("checker", [])],
                   "status": result.status, "usage": result.usage.model_dump(),
                   "violations": sorted({v.code for v in (result.report.violations if result.report else [])})}
            calls = [json.loads(line) for line in (result.run_dir / "llm_calls.jsonl").read_text().splitlines()
                     if line.strip()] if (result.run_dir / "llm_calls.jsonl").exists() else []
            run["llm_s"] = sum(c.get("latency_s", 0.0) for c in calls)
            if fake is None:
                run["usage"]["max_call_prompt_tokens"] = max((c.get("prompt_tokens", 0) for c in calls), default=0)
            run["calls_by_prompt"] = dict(sorted(Counter(c["prompt_name"] for c in calls).items()))
            runs.append(run)
            if attempt == 0:
                out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out["runs"] = runs
        out["sources"] = sum(len(g.source_ids) for g in result.source_groups)
        out["passages"] = sum(1 for _ in api.passages_of(
            api.load_sources([Path(p) for p in spec["paths"]], settings.ingest).sources, settings.ingest.passage_chars))
        out["source_groups"] = len(result.source_groups)
        if spec["model"] == "embedded":
            from agent.model import local_model

            server = local_model._shared
            out["model_startup_s"] = server.startup_s if server else None
            out["server_peak_rss_mb"] = _vm_hwm_mb(server.process.pid) if server and server.process else None
        prompt_tokens, count, how = _token_counter()
        out["token_counter"] = how
        if fake is not None:  # the fake reports 50 tokens a call: count what was really sent and returned
            marks.append((len(fake.requests), len(replies)))
            for run, (r0, p0), (r1, p1) in zip(runs, marks, marks[1:]):
                sizes = [prompt_tokens(body["messages"]) for _, body, _ in fake.requests[r0:r1]]
                run["usage"].update(prompt_tokens=sum(sizes), max_call_prompt_tokens=max(sizes, default=0),
                                    completion_tokens=sum(count(r) for r in replies[p0:p1]), counted=how)
        elif (result.run_dir / "llm_calls.jsonl").exists():  # check the counter against llama.cpp's first call
            first = json.loads((result.run_dir / "llm_calls.jsonl").read_text().splitlines()[0])
            out["token_counter_check"] = {"server": first["prompt_tokens"], "counted": prompt_tokens(first["messages"])}
        # else: an embedded run that needed no call (faithful drafting often needs none) has no call log
    out["child_s"] = time.perf_counter() - started
    out["load_after"] = os.getloadavg()[0]
    return out


# --- the parent: plan, run, judge, print ---------------------------------------------------------


def plan(args, tmp: Path) -> list[dict]:
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([10, 100] if args.quick else [10, 100, 1000])
    embedded = not args.no_embedded
    specs = []

    def add(name, paths, model="fake", mode="sentence", backend=DEFAULT_BACKEND, warm=False, data_dir=None, group=""):
        specs.append(dict(name=name, group=group, paths=[str(p) for p in paths], model=model, mode=mode,
                          backend=backend, warm=warm, data_dir=str(data_dir or tmp / f"data-{len(specs)}")))

    for n, story in enumerate(STORIES):
        add(story.name, [story], warm=True, group="story")
        add(story.name, [story], mode="section", group="story")
        if embedded and (n == 0 or not args.quick):
            add(story.name, [story], model="embedded", group="story")  # the old way: the model rewrites each passage
            add(story.name, [story], model="embedded", mode="auto", group="story")  # the default: faithful drafting
    for size in sizes:
        corpus = write_corpus(tmp / f"corpus-{size}", size, 500)
        data = tmp / f"data-synthetic-{size}"
        add(f"synthetic {size}", [corpus], warm=True, data_dir=data, group="synthetic")
        if embedded and not args.quick:  # shares the fake run's store: its index is warm
            add(f"synthetic {size}", [corpus], model="embedded", data_dir=data, group="synthetic")
    cold = write_corpus(tmp / "corpus-cold", 10, 2000, seed=11)
    add("10 x 2,000 words", [cold], warm=True, group="cold")
    add("10 x 2,000 words", [cold], backend="hashing", group="cold")
    return specs


# --- the checker and source grouping at 10 to 1,000 documents (issue 17) ---------------------
CHECKER_SIZES, GROUPING_SIZES = (10, 100, 1000), (100, 1000)
CHECKER_TARGETS = {"checker_ms": 50.0, "grouping_growth": 11.0}


def _best(fn, repeats: int) -> dict:
    """Wall and CPU seconds of `fn` over `repeats` calls: min and median (the min resists machine load)."""
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return {"wall_min": min(wall), "wall_median": statistics.median(wall), "cpu_min": min(cpu)}


def run_checker_grouping(spec: dict) -> dict:
    """A real brief (fake model, hashing index, the corpus' first 10 documents) checked against the passages of
    10, 100 and 1,000 documents; source grouping of 100 and 1,000. Only what those need is built: no index
    or draft over the large corpus."""
    import os

    import agent.api as api
    import agent.checks.injection as injection
    import agent.analysis.independence as independence
    from agent.checks.context import clear_cache, clear_text_caches, context_for
    from agent.checks.run import check_brief
    from agent.config import load_settings
    from agent.sources.ingest import load_sources
    from agent.testing import FakeOpenAI

    tmp = Path(spec["tmp"])
    corpus = write_corpus(tmp / "corpus-checker", max(CHECKER_SIZES + GROUPING_SIZES), 500)
    overrides = {"data_dir": str(tmp / "data-checker"), "embeddings": {"backend": "hashing"}}
    settings = load_settings(overrides=overrides, env={})
    began = time.perf_counter()
    sources = load_sources([corpus], settings.ingest).sources  # file order: the first 10 are the brief's
    out: dict = {"ingest_s": time.perf_counter() - began, "checker": [], "grouping": [], "load": [os.getloadavg()[0]]}
    with FakeOpenAI() as fake:
        fake.server.RequestHandlerClass.disable_nagle_algorithm = True
        fake.set_responder(bench_model)
        drafted = api.draft_brief(sources[:10], config=load_settings(
            overrides={**overrides, "drafter": {"base_url": fake.base_url}}, env={}))
    brief = drafted.brief
    out["brief_status"] = drafted.status
    scans = Counter()
    spans = injection.injection_spans

    def counted_spans(text):  # one call per passage read for instruction-like spans
        scans["passages"] += 1
        return spans(text)
    injection.injection_spans = counted_spans
    credited = {r.source_id for r in brief.sources}
    for n in CHECKER_SIZES:
        passages = api.passages_of(sources[:n], settings.ingest.passage_chars)
        clear_cache()
        scans.clear()
        started = time.perf_counter()
        context = context_for(passages)  # once per run: the run's first check builds it
        build_s, build_scans = time.perf_counter() - started, scans["passages"]
        reports = []

        def cold_check():  # a run's check: context built, but this brief's evidence not read yet
            clear_text_caches()
            reports.append(check_brief(brief, passages))
        scans.clear()
        timing = _best(cold_check, 5)
        out["checker"].append({
            "docs": n, "passages": len(passages), "build_s": build_s, "build_scans": build_scans,
            "scans_per_check": scans["passages"] / 5, "evidence_passages": len(context.passages_of(credited)),
            "ms": {k: v * 1000 for k, v in timing.items()}, "status": reports[0].status,
            "same_report": all(r == reports[0] for r in reports)})
    injection.injection_spans = spans
    compared = Counter()
    containment = independence.containment

    def counted_containment(a, b):
        compared["pairs"] += 1
        return containment(a, b)
    independence.containment = counted_containment
    timings: dict[int, list[dict]] = {n: [] for n in GROUPING_SIZES}
    for _ in range(7):  # sizes interleaved, so that both see the same machine load
        for n in GROUPING_SIZES:
            compared.clear()
            timings[n].append(_best(lambda n=n: independence.group_sources(sources[:n]), 1))
            timings[n][-1]["compared"] = compared["pairs"]
    for n in GROUPING_SIZES:
        words = _best(lambda n=n: [re.findall(r"\w+", s.text.casefold()) for s in sources[:n]], 7)  # linear work
        out["grouping"].append({"docs": n, "s": {k: min(t[k] for t in timings[n]) for k in ("wall_min", "cpu_min")},
                                "words_s": words, "compared": timings[n][0]["compared"], "all_pairs": n * (n - 1) // 2,
                                "groups": len(independence.group_sources(sources[:n]))})
    independence.containment = containment
    out["load"].append(os.getloadavg()[0])
    return out


def checker_grouping_targets(figures: dict | None) -> list[dict]:
    """PASS/FAIL rows: checker ms per size, source grouping growth."""
    if not figures or "error" in figures:
        return []
    rows = []
    for c in figures["checker"]:
        rows.append({"target": f"checker ms, {c['docs']:,} documents", "value": f"{c['ms']['cpu_min']:.1f} ms CPU "
                     f"(wall min {c['ms']['wall_min']:.1f}, median {c['ms']['wall_median']:.1f})", "limit": "<= 50 ms",
                     "pass": c["ms"]["cpu_min"] <= CHECKER_TARGETS["checker_ms"],
                     "note": f"check_brief on a real brief, {c['passages']:,} passages, min of 5 (single-threaded: "
                             f"on an idle core wall = CPU); reads {c['scans_per_check']:.0f} passages per check; per-run "
                             f"build {c['build_s']:.2f} s, once"})
    g = {x["docs"]: x for x in figures["grouping"]}
    small, large = g.get(min(GROUPING_SIZES)), g.get(max(GROUPING_SIZES))
    if small and large:
        growth = _ratio(large["s"]["cpu_min"], small["s"]["cpu_min"])
        rows.append({"target": f"source grouping growth, {large['docs']:,} / {small['docs']:,} documents",
                     "value": f"x{growth:.1f} ({small['s']['cpu_min']:.3f} -> {large['s']['cpu_min']:.3f} s CPU; wall x"
                              f"{_ratio(large['s']['wall_min'], small['s']['wall_min']):.1f})",
                     "limit": f"<= x{CHECKER_TARGETS['grouping_growth']:.0f}",
                     "pass": growth <= CHECKER_TARGETS["grouping_growth"],
                     "note": f"min of 7 CPU times, sizes interleaved; pairs compared {small['compared']:,} -> {large['compared']:,} "
                             f"(all pairs: {small['all_pairs']:,} -> {large['all_pairs']:,}); reading the words alone "
                             f"grows x{_ratio(large['words_s']['cpu_min'], small['words_s']['cpu_min']):.1f} here"})
    return rows


def checker_grouping_tables(figures: dict | None) -> list[tuple[str, list[str], list[list[str]]]]:
    if not figures or "error" in figures:
        return []
    checker = [[f"{c['docs']:,}", f"{c['passages']:,}", f"{c['build_s']:.2f}", f"{c['build_scans']:,}",
                f"{c['scans_per_check']:.0f}", str(c["evidence_passages"]), f"{c['ms']['wall_min']:.1f}",
                f"{c['ms']['wall_median']:.1f}", f"{c['ms']['cpu_min']:.1f}",
                c["status"] + ("" if c["same_report"] else " (reports differ!)")] for c in figures["checker"]]
    grouping = [[f"{g['docs']:,}", f"{g['s']['wall_min']:.3f}", f"{g['s']['cpu_min']:.3f}",
                 f"{g['words_s']['cpu_min']:.3f}", f"{g['compared']:,}", f"{g['all_pairs']:,}", str(g["groups"])]
                for g in figures["grouping"]]
    load = "-".join(f"{x:.1f}" for x in figures.get("load", []))
    return [(f"Checker at scale: one real brief, the passages of N documents (fake model, hashing index; "
             f"1-minute load {load} on {_cpus()} cores)",
             ["docs", "passages", "per-run build s", "passages read in build", "passages read per check",
              "headline evidence passages", "check ms min", "check ms median", "check CPU ms", "status"], checker),
            ("Source grouping at scale", ["docs", "wall s (min)", "CPU s (min)", "reading words CPU s", "pairs compared",
                                          "all pairs", "groups"], grouping)]


def checker_grouping(tmp: Path, timeout: float) -> dict:
    print("running checker and source grouping at scale …", file=sys.stderr, flush=True)
    return run_child({"name": "checker and grouping", "kind": "checker_grouping", "tmp": str(tmp)}, tmp, timeout)


def run_child(spec: dict, tmp: Path, timeout: float) -> dict:
    path = tmp / f"result-{abs(hash(json.dumps(spec, sort_keys=True)))}.json"
    spec = {**spec, "result_path": str(path)}
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--child", json.dumps(spec)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=str(ROOT))
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()  # SIGTERM: the child exits normally, so the embedded server it started is stopped too
        try:
            proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        return {"spec": spec, "error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0 or not path.exists():
        lines = [line for line in stderr.strip().splitlines() if not line.startswith("During task with name")]
        return {"spec": spec, "error": (lines or ["no output"])[-1][:300], "stderr": stderr[-3000:]}
    result = json.loads(path.read_text())
    result["process_s"] = time.perf_counter() - began
    return result


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def judge(results: list[dict]) -> list[dict]:
    """Each target: the measured value, PASS/FAIL, and how it was measured."""
    ok = [r for r in results if "error" not in r]
    by = {(r["spec"]["name"], r["spec"]["model"], r["spec"]["mode"], r["spec"]["backend"]): r for r in ok}
    rows = []

    def row(name, value, target, passed, note):
        rows.append({"target": name, "value": value, "limit": target, "pass": passed, "note": note})

    for story in STORIES:
        fake = by.get((story.name, "fake", "sentence", DEFAULT_BACKEND))
        emb = by.get((story.name, "embedded", "sentence", DEFAULT_BACKEND))
        if fake and emb:
            share = _ratio(fake["runs"][0]["total_s"], emb["runs"][0]["total_s"])
            row(f"fake-model overhead, {story.name}", f"{share:.1%} ({fake['runs'][0]['total_s']:.2f} s of "
                f"{emb['runs'][0]['total_s']:.1f} s)", "<= 5%", share <= TARGETS["overhead"],
                "cold fake-model run / cold embedded run, same story, sentence mode")
    cold = by.get(("10 x 2,000 words", "fake", "sentence", DEFAULT_BACKEND))
    if cold:
        spent = sum(cold["runs"][0]["stages"][s] for s in COLD_STAGES)
        warm = sum(cold["runs"][-1]["stages"][s] for s in COLD_STAGES)
        hashing = by.get(("10 x 2,000 words", "fake", "sentence", "hashing"))
        other = f"; hashing backend {sum(hashing['runs'][0]['stages'][s] for s in COLD_STAGES):.2f} s" if hashing else ""
        row("cold, 10 sources x 2,000 words", f"{spent:.2f} s", "<= 2 s", spent <= TARGETS["cold_s"],
            f"default [embeddings] ({DEFAULT_BACKEND}), empty store, {cold['passages']} passages "
            f"(index {cold['runs'][0]['stages']['index']:.2f} s); "
            f"same store again {warm:.2f} s{other}")
    for mode, target in (("sentence", None), ("section", TARGETS["section_calls"])):
        calls = {r["spec"]["name"]: r["runs"][0]["usage"]["llm_calls"] for r in ok
                 if r["spec"]["mode"] == mode and r["spec"]["model"] == "fake" and r["spec"]["group"] == "story"}
        if calls:
            worst = max(calls.values())
            row(f"calls per brief ({mode})", ", ".join(f"{n}: {c}" for n, c in calls.items()),
                f"<= {target}" if target else "(report)", worst <= target if target else None,
                "one call per selected passage (10) + headline + trend + one per computed disagreement ('nuance')"
                if mode == "sentence" else "one call drafts every section, headline, dek, trend and the disputes' "
                "wording (draft_brief); one more revises only the rejected sentences (revise_brief)")
    embedded = {(r["spec"]["name"], r["spec"]["mode"]): (r["runs"][0]["usage"]["llm_calls"], r["runs"][0]["total_s"])
                for r in ok if r["spec"]["model"] == "embedded" and r["spec"]["group"] == "story"}
    default_runs = {k: v for k, v in embedded.items() if k[1] != "sentence"}
    if default_runs:
        worst = max(c for c, _ in default_runs.values())
        slower = [(v, embedded.get((name, "sentence"))) for (name, _), v in default_runs.items()]
        halved = all(old is None or (new[0] <= old[0] / 2 and new[1] <= old[1] / 2) for new, old in slower)
        row("calls per brief (embedded)", ", ".join(f"{n} ({m}): {c} calls, {t:.1f} s" for (n, m), (c, t)
                                                     in embedded.items()),
            f"<= {TARGETS['embedded_calls']}, and half the sentence-mode calls and wall time",
            worst <= TARGETS["embedded_calls"] and halved,
            "default settings (auto = faithful for the embedded model) against the old sentence mode, same story, cold")
    briefs = [(r["spec"], run["usage"]) for r in ok for run in r["runs"][:1] if r["spec"]["group"] != "cold"]
    if briefs:
        worst = max(briefs, key=lambda b: b[1]["prompt_tokens"])
        row("prompt tokens per brief", f"max {worst[1]['prompt_tokens']:,} ({worst[0]['name']}, {worst[0]['model']}, "
            f"{worst[0]['mode']})", "<= 8,000", worst[1]["prompt_tokens"] <= TARGETS["prompt_tokens"],
            "embedded: reported by llama.cpp; fake: counted with the SmolLM2 tokenizer")
    checks = [(r["spec"]["name"], t) for r in ok for run in r["runs"] for t in run["checker_ms"]]
    if checks:
        worst = max(checks, key=lambda c: c[1])
        median = statistics.median(t for _, t in checks)
        row("deterministic checker per brief", f"median {median:.1f} ms, max {worst[1]:.1f} ms ({worst[0]})",
            "<= 50 ms", worst[1] <= TARGETS["checker_ms"], f"{len(checks)} check_brief calls")
    synthetic = sorted((int(r["spec"]["name"].split()[1]), r) for r in ok
                       if r["spec"]["group"] == "synthetic" and r["spec"]["model"] == "fake")
    if len(synthetic) >= 2:
        (n1, small), (n2, large) = synthetic[-2], synthetic[-1]
        growth = _ratio(large["runs"][0]["total_s"], small["runs"][0]["total_s"])
        stages = ", ".join(f"{s} x{_ratio(large['runs'][0]['stages'][s], small['runs'][0]['stages'][s]):.1f}"
                           for s in ("ingest", "index", "retrieve", "check", "other"))
        groups = _ratio(large["runs"][0]["nested"]["groups"], small["runs"][0]["nested"]["groups"])
        row(f"growth, time({n2}) / time({n1})", f"x{growth:.1f}", f"<= x{n2 / n1:.0f}", growth <= n2 / n1,
            f"fake model, cold; {stages}; source grouping x{groups:.0f}")
    return rows


def embedding_option_rows(tmp: Path) -> list[dict]:
    """"cold index 10 × 2,000 words" for each embedding option (benchmarks/embedding_options.py, speed part):
    ingest + store open + index + retrieve's 5 queries, each option in a fresh process, against 2 s."""
    from benchmarks import embedding_options as options

    corpus = options.write_corpus(tmp / "corpus-embedding-options")
    rows = []
    for name in options.PIPELINE_OPTIONS:
        print(f"running cold index, embedding option {name} …", file=sys.stderr, flush=True)
        r = options.run_option(name, corpus, tmp, speed_only=True)
        label = f"cold index 10 × 2,000 words, {name} ({options.describe(options.OPTIONS[name])})"
        if "error" in r:
            rows.append({"target": label, "value": "error", "limit": "<= 2 s", "pass": False, "note": r["error"]})
            continue
        rows.append({"target": label, "value": f"{r['total_s']:.2f} s", "limit": f"<= {options.COLD_TARGET_S:g} s",
                     "pass": r["total_s"] <= options.COLD_TARGET_S,
                     "note": f"{r['embedded']} of {r['passages']} passages embedded; ingest {r['ingest_s']:.2f}, index "
                             f"{r['index_s']:.2f}, retrieve {r['retrieve_s']:.2f} s; load {r['load_before']:.1f}"})
    return rows


def worker_targets(jobs: int) -> list[dict]:
    """Briefs per minute with 1, 2 and 4 draft workers and 2 replicas (benchmarks/throughput.py), as target rows."""
    from benchmarks import throughput

    print("running briefs per minute with 1, 2 and 4 workers …", file=sys.stderr, flush=True)
    try:
        return throughput.worker_rows(throughput.measure((1, 2, 4), jobs))
    except Exception as e:  # the other rows still print
        return [{"target": "briefs per minute, 1/2/4 workers", "value": f"failed: {e.__class__.__name__}: {e}"[:200],
                 "limit": "", "pass": False, "note": "benchmarks/throughput.py"}]


def _label(r: dict) -> list[str]:
    s = r["spec"]
    return [s["name"], f"{s['model']}/{s['mode']}" + ("" if s["backend"] == DEFAULT_BACKEND else f"/{s['backend']}")]


def report_tables(results: list[dict], targets: list[dict]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, headers, rows) of every table the benchmark prints."""
    ok = [r for r in results if "error" not in r]
    stages = []
    for r in ok:
        st, s, runs = r["runs"][0]["stages"], r["spec"], r["runs"]
        index = f"{st['index']:.2f}" + (" (w)" if s["model"] == "embedded" and s["group"] == "synthetic" else "")
        stages.append(_label(r) + [str(r["sources"]), str(r["passages"]), f"{r['imports_s']:.2f}", f"{st['ingest']:.2f}",
                                   index] + [f"{st[k]:.2f}" for k in ("retrieve", "draft", "check", "trends",
                                                                         "model start", "render", "other")]
                      + [f"{runs[0]['total_s']:.2f}", f"{runs[1]['total_s']:.2f}" if len(runs) > 1 else ""])
    usage = []
    for r in ok:
        run, u = r["runs"][0], r["runs"][0]["usage"]
        rss = f"{r['peak_rss_mb']:.0f}" + (f" + {r['server_peak_rss_mb']:.0f}" if r.get("server_peak_rss_mb") else "")
        usage.append(_label(r) + [str(u["llm_calls"]), f"{u['prompt_tokens']:,}",
                                  f"{u['max_call_prompt_tokens']:,}" if "max_call_prompt_tokens" in u else "",
                                  f"{u['completion_tokens']:,}", f"{run['llm_s']:.1f}", rss, run["status"]])
    figures = []
    for r in ok:
        s, run = r["spec"], r["runs"][0]
        if s["model"] != "fake" or s["mode"] != "sentence":
            continue
        embed = run["stages"]["index"] - run["nested"]["embed load"]
        search = run["search_ms"]
        figures.append(_label(r) + [
            str(r["passages"]), f"{run['nested']['embed load']:.2f}", f"{r['passages'] / embed:.1f}" if embed > 0 else "",
            f"{r['runs'][1]['stages']['index'] * 1000:.0f}" if len(r["runs"]) > 1 else "",
            f"{statistics.median(search):.0f}" if search else "", f"{max(search):.0f}" if search else "",
            f"{run['nested']['groups']:.2f}", f"{statistics.median(run['checker_ms']):.1f}",
            f"{max(run['checker_ms']):.1f}"])
    verdicts = [[t["target"], t["value"], t["limit"], "-" if t["pass"] is None else ("PASS" if t["pass"] else "FAIL"),
                 t["note"]] for t in targets]
    return [
        ("Wall time per brief by stage, seconds (cold: fresh process, empty store)",
         ["scenario", "model", "docs", "passages", "imports", "ingest", "index", "retrieve", "draft", "check", "trends",
          "model start", "render", "other", "total", "warm total"], stages),
        ("LLM use and memory per brief", ["scenario", "model", "calls", "prompt tok", "max call tok", "compl. tok",
                                          "LLM s", "peak RSS MB", "status"], usage),
        ("Retrieval and checker figures (fake-model, sentence-mode runs)",
         ["scenario", "model", "passages", "embed load s", "index passages/s", "re-index ms", "query median ms",
          "query max ms", "source grouping s", "checker median ms", "checker max ms"], figures),
        ("Targets (ratios compare runs of this same invocation)", ["target", "measured", "limit", "verdict", "how"],
         verdicts),
    ]


def report_notes(results: list[dict], wall_s: float) -> list[str]:
    ok = [r for r in results if "error" not in r]
    notes = [f"FAILED {' '.join(_label(r))}: {r['error']}" for r in results if "error" in r]
    notes += [f"hooks not found (their time is in 'other'): {', '.join(r['missing_hooks'])}"
              for r in ok[:1] if r.get("missing_hooks")]
    checks = [r for r in ok if r.get("token_counter_check")]
    if checks:
        pairs = ", ".join(f"{r['token_counter_check']['counted']}/{r['token_counter_check']['server']}" for r in checks)
        notes.append(f"token counter ({checks[0]['token_counter']}) vs llama.cpp on each embedded run's first call, "
                     f"counted/reported: {pairs}")
    loads = [x for r in ok for x in (r.get("load_before"), r.get("load_after")) if x is not None]
    notes.append(f"whole benchmark {wall_s:.0f} s on {_cpus()} cores; 1-minute load average during the runs "
                 f"{min(loads, default=0):.1f}-{max(loads, default=0):.1f} (above {_cpus()}, other work was slowing "
                 "these figures down)")
    notes.append("imports: once per process, outside the stages. (w): warm index, the store of the fake run above. "
                 "warm total: the same brief again in the same process and store. Peak RSS: this process + the "
                 "llama.cpp server.")
    for r in ok[:1] + [r for r in ok if r["spec"]["model"] == "embedded"][:1]:
        notes.append(f"calls by prompt, {' '.join(_label(r))}: "
                     + ", ".join(f"{k} {v}" for k, v in r["runs"][0]["calls_by_prompt"].items()))
    return notes


def print_report(tables: list, notes: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200)
    for title, headers, rows in tables:
        table = Table(title=title, title_justify="left")
        for h in headers:
            table.add_column(h, justify="left" if h in ("scenario", "model", "status", "target", "measured", "limit",
                                                        "verdict", "how") else "right", no_wrap=h in ("scenario", "model"))
        for row in rows:
            table.add_row(*[{"PASS": "[green]PASS[/green]", "FAIL": "[red]FAIL[/red]"}.get(c, c) for c in row])
        console.print(table)
    for note in notes:
        console.print(note, highlight=False)


def markdown(tables: list, notes: list[str]) -> str:
    out = []
    for title, headers, rows in tables:
        out += [f"**{title}**", "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        out += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in rows] + [""]
    return "\n".join(out + [f"- {n}" for n in notes]) + "\n"


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="examples + 10 and 100 documents; embedded on one example")
    parser.add_argument("--sizes", help="synthetic corpus sizes, e.g. 10,100,1000")
    parser.add_argument("--no-embedded", action="store_true", help="skip the embedded-model runs")
    parser.add_argument("--json-out", type=Path, help="write every figure as JSON here")
    parser.add_argument("--markdown-out", type=Path, help="write the tables as Markdown here")
    parser.add_argument("--from-json", type=Path, help="print the tables of an earlier --json-out; run nothing")
    parser.add_argument("--timeout", type=float, default=3600, help="per scenario, seconds")
    parser.add_argument("--checker-grouping", action="store_true",
                        help="only the checker (10/100/1,000 documents) and source-grouping (100/1,000) rows, ~1 min")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # exit through atexit: stops the embedded server
        spec = json.loads(args.child)
        child = run_checker_grouping if spec.get("kind") == "checker_grouping" else run_scenario
        Path(spec["result_path"]).write_text(json.dumps(child(spec)))
        return
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        scaled = saved.get("checker_grouping")
        tables = (report_tables(saved["results"], judge(saved["results"]) + saved.get("embedding_rows", [])
                                + saved.get("worker_rows", []) + checker_grouping_targets(scaled))
                  + checker_grouping_tables(scaled))
        notes = report_notes(saved["results"], saved["wall_s"])
        print_report(tables, notes)
        if args.markdown_out:
            args.markdown_out.write_text(markdown(tables, notes))
        return
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="brief-bench-") as tmp:
        results = []
        for spec in [] if args.checker_grouping else plan(args, Path(tmp)):
            print(f"running {spec['name']} ({spec['model']}, {spec['mode']}, {spec['backend']}) …", file=sys.stderr,
                  flush=True)
            results.append(run_child(spec, Path(tmp), args.timeout))
            if "error" in results[-1]:
                print(f"  failed: {results[-1]['error']}", file=sys.stderr)
        embedding_rows = [] if args.checker_grouping else embedding_option_rows(Path(tmp))
        worker_rows = [] if args.checker_grouping else worker_targets(jobs=12 if args.quick else 24)
        scaled = checker_grouping(Path(tmp), args.timeout)
        targets = judge(results) + embedding_rows + worker_rows + checker_grouping_targets(scaled)
        wall = time.perf_counter() - began
        tables = [t for t in report_tables(results, targets) + checker_grouping_tables(scaled) if t[2]]
        notes = report_notes(results, wall)
        notes += [f"FAILED checker and grouping: {scaled['error']}"] if "error" in scaled else []
        print_report(tables, notes)
    if args.markdown_out:
        args.markdown_out.write_text(markdown(tables, notes))
    if args.json_out:
        args.json_out.write_text(json.dumps({"wall_s": wall, "cpus": _cpus(), "quick": args.quick,
                                             "results": results, "targets": targets,
                                             "embedding_rows": embedding_rows, "worker_rows": worker_rows,
                                             "checker_grouping": scaled},
                                            indent=1, default=str))


if __name__ == "__main__":
    main()
