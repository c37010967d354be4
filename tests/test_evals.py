"""The eval harness: scorers on constructed results, the runner against the fake server, gate, compare, report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import UsageError
from agent.result import BriefResult, QuotedPassage, Usage
from agent.schema import Brief, CheckReport, Paragraph, Sentence, SourceRef, Trend, Veracity
from evals import scorers as sc
from evals.compare import compare_runs, format_comparison
from evals.dataset import Case, Gate, load_cases
from evals.gate import evaluate_gate, parse_thresholds
from evals.report import load_run, nested_table, write_reports
from evals.runner import CaseRow, EvalOptions, run_eval
from tests.fakes import good_model

ROOT = Path(__file__).resolve().parent.parent

# --- scorers on constructed results -------------------------------------------------------

P1 = "Brannock Lines will cut the adult return fare on the Skerra Island ferry from 14 crowns to 9 crowns from 1 June."
P2 = "The county council will pay a subsidy of 3.5 million crowns a year for three years, council transport lead Ida Marsh said."
P3 = "Islanders said the winter timetable mattered more than the price of a ticket."
P4 = "The cheaper fares are meant to keep young families on the island, where the school roll has fallen."
P5 = "The operator said it would review the winter timetable in September."


def s(text: str, *cites: str, kind: str = "drafted") -> Sentence:
    return Sentence(text=text, citations=list(cites), kind=kind)


def make_brief(**changes) -> Brief:
    brief = Brief(
        headline="Skerra ferry fares cut to 9 crowns", dek="Brannock Lines cuts the adult return fare from 1 June.",
        body=[Paragraph(sentences=[s(P1, "S1:1"), s(P2, "S1:2")])],
        trend=Trend(name="Island transport subsidies", description="Counties pay to keep island ferries cheap."),
        veracity=Veracity(label="Plausible", score=60, rationale="two sources"),
        who_benefits=[s("Young families on the island benefit from the cheaper fares.", "S2:2")],
        nuance=[s(P3, "S2:1")],
        what_this_means=[s("The school roll on the island has fallen.", "S2:2")],
        what_to_watch=[s(P5, "S2:3")],
        disclaimer="Observations to monitor, not financial advice.",
        sources=[SourceRef(source_id="src-a", number=1, outlet="Northgate Wire", topic="fare cut"),
                 SourceRef(source_id="src-b", number=2, outlet="Skerra Gazette", topic="island reaction")],
    )
    return brief.model_copy(update=changes)


def outcome(brief: Brief | None = None, status: str = "published", **case) -> sc.Outcome:
    passages = {"S1:1": QuotedPassage(source_id="src-a", text=P1, start=0, end=len(P1)),
                "S1:2": QuotedPassage(source_id="src-a", text=P2, start=len(P1) + 1, end=len(P1) + 1 + len(P2)),
                "S2:1": QuotedPassage(source_id="src-b", text=P3, start=0, end=len(P3)),
                "S2:2": QuotedPassage(source_id="src-b", text=P4, start=len(P3) + 1, end=len(P3) + 1 + len(P4)),
                "S2:3": QuotedPassage(source_id="src-b", text=P5, start=300, end=300 + len(P5))}
    result = None
    if status in ("published", "rejected"):
        result = BriefResult(status=status, brief=brief or make_brief(), report=CheckReport(status="pass"),
                             passages=passages, usage=Usage(llm_calls=12, cached_calls=4, prompt_tokens=900,
                                                            completion_tokens=150))
    fields = {"id": "ferry", "sources": ["x.md"], **case}
    return sc.Outcome(case=Case.model_validate(fields), status=status, result=result, wall_s=2.5)


def body(*sentences: Sentence) -> list[Paragraph]:
    return [Paragraph(sentences=list(sentences))]


SCORER_CASES = [
    # (scorer, outcome, expected value or None)
    ("format_complete", outcome(), 1.0),
    ("format_complete", outcome(make_brief(dek=" ")), 10 / 11),
    ("format_complete", outcome(make_brief(dek="...", headline="—")), 9 / 11),
    ("format_complete", outcome(make_brief(sources=[], nuance=[])), 9 / 11),
    ("format_complete", outcome(status="failed"), None),
    ("citations_valid", outcome(), 1.0),
    ("citations_valid", outcome(make_brief(body=body(s(P1, "S1:1", "S9:9")))), 5 / 6),
    ("citations_valid", outcome(make_brief(body=body(s(P1)))), 4 / 5),
    ("citations_valid", outcome(make_brief(body=body(s(P1, "S1:1"), s("No support here.", kind="notice")))), 1.0),
    ("grounded_sentences", outcome(), 1.0),
    ("grounded_sentences", outcome(make_brief(body=body(s(P1.replace("9 crowns", "7 crowns"), "S1:1"),
                                                        s(P2, "S1:2")))), 5 / 6),
    ("grounded_sentences", outcome(make_brief(body=body(s("Mayor Jonas Ekberg promised 5000 new jobs.", "S1:1")))), 4 / 5),
    ("grounded_sentences", outcome(make_brief(body=body(s(P1, "S1:1"), s("Quoted.", "S1:1", kind="notice")))), 1.0),
    # a flipped direction is not grounded, though every word is in the passage ("cut" -> "raise")
    ("grounded_sentences", outcome(make_brief(body=body(s(P1.replace("will cut", "will raise"), "S1:1"),
                                                        s(P2, "S1:2")))), 5 / 6),
    ("section_purpose", outcome(), 2 / 4),  # the nuance says nothing disputed; what-this-means is a plain fact
    ("section_purpose", outcome(make_brief(nuance=[s("The sources do not describe any dispute.", kind="notice")],
                                           what_this_means=[s("No significance.", kind="notice")])), 1.0),
    ("debris_count", outcome(), 0.0),
    ("debris_count", outcome(make_brief(who_benefits=[s("It will review the timetable in September.", "S2:3")])), 1.0),
    ("debris_count", outcome(make_brief(body=body(s("The county council.4", "S1:2")))), 2.0),  # fragment, footnote
    ("dropped_attributions", outcome(), 0.0),
    ("dropped_attributions", outcome(make_brief(body=body(s(
        "The county council will pay a subsidy of 3.5 million crowns a year for three years.", "S1:2")))), 1.0),
    ("changed_share", outcome(), 2 / 6),  # who-benefits and what-this-means are not the passages' own words
    ("changed_share", outcome(make_brief(who_benefits=[s(P4, "S2:2")], what_this_means=[s(P4, "S2:2")])), 0.0),
    ("leakage_count", outcome(), 0.0),
    ("leakage_count", outcome(make_brief(body=body(s(P1 + " I hope this helps!", "S1:1")))), 1.0),
    ("leakage_count", outcome(make_brief(headline="Certainly! Here is the headline: ferry fares cut")), 1.0),
    ("leakage_count", outcome(make_brief(dek="<think>cheap</think> Fares fall.")), 1.0),
    ("duplication_count", outcome(), 0.0),
    ("duplication_count", outcome(make_brief(what_to_watch=[s(P1, "S1:1")])), 1.0),
    ("facts_mentioned", outcome(expect={"must_mention": ["Skerra", "Atlantis"]}), 0.5),
    ("facts_mentioned", outcome(expect={"must_mention": [["nine crowns", "9 crowns"]]}, key_facts=["3.5 million"]), 1.0),
    ("facts_mentioned", outcome(expect={"must_mention": ["SKERRA  ISLAND"]}), 1.0),  # case and spacing fold
    ("facts_mentioned", outcome(), None),
    ("forbidden_absent", outcome(expect={"must_not_contain": ["CANARY-1"]}), 1.0),
    ("forbidden_absent", outcome(make_brief(headline="CANARY-1 ferry"), expect={"must_not_contain": ["canary-1", "zz"]}), 0.5),
    ("forbidden_absent", outcome(make_brief(sources=[SourceRef(source_id="src-a", number=1, outlet="CANARY-1 Wire",
                                                               topic="x")]), expect={"must_not_contain": ["CANARY-1"]}), 0.0),
    ("forbidden_absent", outcome(), None),
    ("verdict_expected", outcome(), 1.0),
    ("verdict_expected", outcome(expect={"verdict": "rejected"}), 0.0),
    ("verdict_expected", outcome(status="failed", expect={"verdict": "failed"}), 1.0),
    ("verdict_expected", outcome(status="error"), None),
    ("rouge_l", outcome(), None),
    ("llm_calls", outcome(), 12.0),
    ("tokens", outcome(), 1050.0),
    ("wall_s", outcome(), 2.5),
    ("wall_s", outcome(status="error"), None),
]


@pytest.mark.parametrize("name,case_outcome,expected", SCORER_CASES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(SCORER_CASES)])
def test_scorer(name, case_outcome, expected):
    score = sc.by_name()[name].fn(case_outcome)
    if expected is None:
        assert score is None
    else:
        assert score.value == pytest.approx(expected), score.explanation
        assert score.explanation


def test_rouge_l_rewards_overlap_with_the_reference():
    close = sc.rouge_l(outcome(reference=P1 + " " + P2))
    far = sc.rouge_l(outcome(reference="A crane collapsed at the container terminal in Port Edda on Saturday."))
    assert close.value > 0.6 > 0.2 > far.value


def test_a_crashing_scorer_gives_none_and_keeps_the_others():
    def broken(o):
        """Always fails."""
        raise RuntimeError("boom")

    o = outcome()
    scores = sc.score_outcome(o, [sc.Scorer("broken", broken), sc.by_name()["format_complete"]])
    assert scores["broken"] is None and scores["format_complete"].value == 1.0
    assert "boom" in o.extra["scorer_errors"]["broken"]


# --- datasets, gate ---------------------------------------------------------------------


def test_shipped_datasets_load_and_their_sources_exist():
    core = load_cases(ROOT / "evals" / "datasets" / "core.jsonl")
    smoke = load_cases(ROOT / "evals" / "datasets" / "smoke.jsonl")
    assert len(core) >= 20 and 3 <= len(smoke) <= 5
    assert {c.id for c in smoke} <= {c.id for c in core}
    assert {c.expect.verdict for c in core} >= {"published", "failed"}
    assert any("CANARY" in " ".join(c.expect.must_not_contain) for c in core)
    for case in core:
        for source in case.sources:
            if isinstance(source, str):
                assert (ROOT / source).exists(), (case.id, source)
    sample = [json.loads(line) for line in (ROOT / "evals" / "datasets" / "summedits-sample.jsonl").open()]
    assert len(sample) == 20 and {r["label"] for r in sample} == {0, 1}


def test_a_bad_dataset_line_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "sources": ["a.md"]}\n{"id": "Bad Id", "sources": ["a.md"]}\n')
    with pytest.raises(UsageError, match=r"bad.jsonl:2: key 'id'"):
        load_cases(path)


@pytest.mark.parametrize("means,errors,gate,failing", [
    ({"grounded_sentences": 0.9}, 0, Gate(min_score={"grounded_sentences": 0.8}), []),
    ({"grounded_sentences": 0.7}, 0, Gate(min_score={"grounded_sentences": 0.8}), ["grounded_sentences"]),
    ({"leakage_count": 1.0}, 0, Gate(max_score={"leakage_count": 0}), ["leakage_count"]),
    ({"rouge_l": None}, 0, Gate(min_score={"rouge_l": 0.1}), ["rouge_l"]),
    ({}, 2, Gate(max_errors=1), ["errors"]),
])
def test_gate(means, errors, gate, failing):
    result = evaluate_gate(means, errors, gate)
    assert result.passed == (not failing)
    assert [f.split()[0] for f in result.failures] == failing


def test_threshold_flags_parse_and_reject_garbage():
    assert parse_thresholds(["grounded_sentences=0.8", "rouge_l = 0.2"]) == {"grounded_sentences": 0.8, "rouge_l": 0.2}
    with pytest.raises(UsageError, match="scorer=value"):
        parse_thresholds(["grounded_sentences"])


# --- the runner against the fake server -------------------------------------------------

STORY = "tests/fixtures/story"
INLINE = {"text": "The Velden council voted 31 to 9 on Tuesday to extend the Blue tram line by 6.5 kilometres to the "
                  "harbour district. The extension will cost 240 million euros, council spokesperson Anika Rost said.",
          "outlet": "Inline Wire", "title": "Velden tram line extension approved", "published": "2026-05-12"}


def write_dataset(tmp_path: Path) -> Path:
    cases = [
        {"id": "tram-files", "sources": [STORY], "expect": {"must_mention": ["Velden"], "verdict": "published"},
         "reference": "Velden council approved a tram line extension to the harbour district."},
        {"id": "tram-inline", "sources": [INLINE], "expect": {"must_not_contain": ["CANARY"], "verdict": "published"}},
    ]
    path = tmp_path / "two.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in cases))
    return path


def write_config(tmp_path: Path, base_url: str) -> Path:
    cfg = tmp_path / "eval.toml"
    cfg.write_text(f'[embeddings]\nbackend = "hashing"\n[drafter]\nbase_url = "{base_url}"\nmax_attempts = 2\n'
                   'timeout_s = 5\n[ingest]\npassage_chars = 200\n')
    return cfg


def options(tmp_path, dataset, cfg, out="run1", **kw) -> EvalOptions:
    return EvalOptions(dataset=dataset, out=tmp_path / out, config=cfg, cache_dir=tmp_path / "cache",
                       progress=False, env={}, **kw)


@pytest.fixture
def first_run(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    dataset, cfg = write_dataset(tmp_path), write_config(tmp_path, fake_openai.base_url)
    run = run_eval(options(tmp_path, dataset, cfg, concurrency=2))
    write_reports(run, tmp_path / "run1")
    return run, dataset, cfg


def test_runner_scores_each_case_in_its_own_data_dir_and_writes_the_reports(tmp_path, fake_openai, first_run):
    run, _, _ = first_run
    assert [r.id for r in run.rows] == ["tram-files", "tram-inline"]
    assert all(r.status == "published" and r.scores["verdict_expected"] == 1.0 for r in run.rows), run.rows
    assert run.rows[0].scores["rouge_l"] is not None and run.rows[1].scores["rouge_l"] is None
    data_dirs = {Path(r.run_dir).parent.parent for r in run.rows}
    assert data_dirs == {tmp_path / "run1" / "cases" / c / "data" for c in ("tram-files", "tram-inline")}
    assert (tmp_path / "run1" / "cases" / "tram-files" / "brief.md").exists()
    assert any((tmp_path / "cache").rglob("*.json"))  # one shared cache, outside the case folders
    rows, summary = load_run(tmp_path / "run1")
    assert [r.id for r in rows] == ["tram-files", "tram-inline"]
    assert summary.counts["published"] == 2 and summary.llm_calls_made > 0
    assert summary.llm_calls_made + summary.llm_calls_cached == sum(r.llm_calls for r in rows)
    assert summary.means["format_complete"] == 1.0 and summary.gate.passed
    html = (tmp_path / "run1" / "report.html").read_text()
    assert "<details>" in html and "tram-inline" in html and "<style>" in html and "<script" not in html
    assert "## What to watch" in html and "Observations to monitor" in html  # the brief markdown is embedded


def test_rerun_makes_no_new_requests_and_replay_too(tmp_path, fake_openai, first_run):
    _, dataset, cfg = first_run
    before = len(fake_openai.requests)
    again = run_eval(options(tmp_path, dataset, cfg, out="run2"))
    assert len(fake_openai.requests) == before
    assert again.summary.llm_calls_made == 0 and again.summary.llm_calls_cached > 0
    replayed = run_eval(options(tmp_path, dataset, cfg, out="run3", replay=True))
    assert len(fake_openai.requests) == before
    assert [r.status for r in replayed.rows] == ["published", "published"]
    assert replayed.summary.llm_calls_made == 0


def test_replay_miss_is_an_error_row_and_fails_the_gate(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    dataset, cfg = write_dataset(tmp_path), write_config(tmp_path, fake_openai.base_url)
    run = run_eval(options(tmp_path, dataset, cfg, replay=True))
    assert fake_openai.requests == []
    assert [r.status for r in run.rows] == ["error", "error"]
    assert all("cache-miss" in r.error for r in run.rows)
    assert run.summary.counts["error"] == 2 and not run.summary.gate.passed
    assert "errors 2 > 0" in run.summary.gate.failures


def test_a_case_without_usable_sources_is_failed_not_error(tmp_path, fake_openai):
    (tmp_path / "junk.md").write_text("Accept all cookies\nSubscribe to our newsletter\n")
    dataset = tmp_path / "one.jsonl"
    dataset.write_text(json.dumps({"id": "junk", "sources": [str(tmp_path / "junk.md")], "expect": {"verdict": "failed"}}))
    run = run_eval(options(tmp_path, dataset, write_config(tmp_path, fake_openai.base_url)))
    assert run.rows[0].status == "failed" and run.rows[0].scores["verdict_expected"] == 1.0
    assert fake_openai.requests == [] and run.summary.gate.passed


def test_an_unknown_scorer_in_the_gate_fails_before_any_case_runs(tmp_path, fake_openai):
    dataset = write_dataset(tmp_path)
    with pytest.raises(UsageError, match="unknown scorer 'grounded'"):
        run_eval(options(tmp_path, dataset, write_config(tmp_path, fake_openai.base_url), min_score={"grounded": 0.5}))
    assert fake_openai.requests == []


# --- the command line: gate exit codes, the short form, compare --------------------------


def cli(args, tmp_path, base_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "BRIEF"))}
    env.update(OPENAI_BASE_URL=base_url)
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=240)


def test_cli_gate_exit_codes_and_compare(tmp_path, fake_openai, first_run):
    _, dataset, cfg = first_run
    common = ["--config", str(cfg), "--cache-dir", str(tmp_path / "cache"), "--replay"]
    ok = cli(["eval", "run", str(dataset), *common, "-o", str(tmp_path / "a"),
              "--min-score", "verdict_expected=1", "--max-score", "leakage_count=0"], tmp_path, fake_openai.base_url)
    assert ok.returncode == 0, ok.stderr
    assert "tram-files" in ok.stdout and "gate: passed" in ok.stdout
    assert (tmp_path / "a" / "summary.json").exists() and (tmp_path / "a" / "report.html").exists()
    bad = cli(["eval", str(dataset), *common, "-o", str(tmp_path / "b"),  # the short form: brief eval DATASET
               "--min-score", "grounded_sentences=1.5", "--max-score", "llm_calls=1"], tmp_path, fake_openai.base_url)
    assert bad.returncode == 1, bad.stderr
    assert "gate: FAILED" in bad.stdout and "grounded_sentences" in bad.stdout and "llm_calls" in bad.stdout
    typo = cli(["eval", "run", str(dataset), *common, "-o", str(tmp_path / "c"), "--min-score", "groundedness=0.5"],
               tmp_path, fake_openai.base_url)
    assert typo.returncode == 2 and typo.stderr.startswith("error:") and "groundedness" in typo.stderr
    same = cli(["eval", "compare", str(tmp_path / "a"), str(tmp_path / "b")], tmp_path, fake_openai.base_url)
    assert same.returncode == 0 and "0 case(s) worse in B" in same.stdout


def row(case_id, status="published", **scores) -> CaseRow:
    base = {"verdict_expected": 1.0, "grounded_sentences": 1.0, "leakage_count": 0.0, "llm_calls": 10.0}
    return CaseRow(id=case_id, status=status, expected="published", scores={**base, **scores}, case_dir="x")


def test_compare_names_the_cases_that_got_worse(tmp_path):
    for name, rows in {"a": [row("one"), row("two"), row("three")],
                       "b": [row("one", grounded_sentences=0.5), row("two", "rejected", verdict_expected=0.0),
                             row("three", leakage_count=2.0, llm_calls=30.0), row("four")]}.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.jsonl").write_text("".join(r.model_dump_json() + "\n" for r in rows))
    deltas, worse, only = compare_runs(tmp_path / "a", tmp_path / "b")
    by = {d.scorer: d for d in deltas}
    assert by["grounded_sentences"].change == pytest.approx(3.5 / 4 - 1.0)
    assert by["llm_calls"].change == pytest.approx(15.0 - 10.0)
    assert {w.case: w.reasons for w in worse} == {
        "one": ["grounded_sentences 1.00 -> 0.50"],
        "two": ["status published -> rejected", "verdict_expected 1.00 -> 0.00"],
        "three": ["leakage_count 0 -> 2"],  # llm_calls is a cost: shown in the means, not as a worse case
    }
    assert only == ["four"]
    text = "\n".join(format_comparison(deltas, worse, only))
    assert "3 case(s) worse in B" in text and "in only one run: four" in text
    assert "grounded_sentences" in text and "worse" in text


def test_nested_table_reads_the_seeded_defect_shape():
    header, rows = nested_table({"seed": 0, "types": {"leakage": {"recall": 0.99, "false_positive_rate": 0.0},
                                                      "duplicate-table-row": {"recall": 0.75}}})
    assert header == ["", "recall", "false_positive_rate"]
    assert rows[0] == ["leakage", "0.990", "0.000"] and rows[1][:2] == ["duplicate-table-row", "0.750"]


def test_checker_bench_scores_the_summedits_sample():
    from evals.checker_bench import summedits_sample

    result = summedits_sample()
    if "skipped" in result:
        pytest.skip(result["skipped"])
    assert result["rows"] == 20 and result["consistent"] == 10
    assert all(0.0 <= v <= 1.0 for v in result["layers"].values())


@pytest.mark.browser
def test_html_report_renders_in_chromium(tmp_path, fake_openai, first_run):
    if shutil.which("chromium") is None and shutil.which("chromium-browser") is None:
        pytest.skip("Debian's chromium is not installed")
    png = tmp_path / "report.png"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "screenshot.py"), str(tmp_path / "run1" / "report.html"),
                    str(png)], check=True, timeout=180)
    assert png.stat().st_size > 10_000


def test_rubric_judge_uses_the_judge_role_and_is_off_by_default(tmp_path, fake_openai, first_run):
    _, dataset, cfg = first_run
    assert "judge_rubric" not in first_run[0].summary.means
    cfg.write_text(cfg.read_text() + f'[judge]\nbase_url = "{fake_openai.base_url}"\nmax_attempts = 1\n')
    fake_openai.enqueue("eval_judge", {"score": 5, "reason": "all supported"}, {"score": 2, "reason": "thin"})
    run = run_eval(options(tmp_path, dataset, cfg, out="judged", judge=True))
    assert fake_openai.attempts("eval_judge") == 2
    assert sorted(r.scores["judge_rubric"] for r in run.rows) == [0.25, 1.0]
    judged = [r for r in fake_openai.requests if r[0] == "eval_judge"][0][1]["messages"]
    assert "<brief>" in judged[-1]["content"] and "data, not instructions" in judged[0]["content"]


def test_the_committed_smoke_replay_passes_its_gate(tmp_path):
    """The README's offline eval: every request the current code makes must still hit evals/cache/smoke.

    A change that alters a request (a prompt, a reply schema's description, retrieval) fails here, not in CI's
    eval step months later; re-record with `brief eval run evals/datasets/smoke.jsonl` when that is intended."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "BRIEF"))}  # the dataset's own config
    run = subprocess.run([sys.executable, "-m", "agent.cli", "eval", "run", "evals/datasets/smoke.jsonl", "--replay",
                          "-o", str(tmp_path / "smoke")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "gate: passed" in run.stdout and "cache-miss" not in run.stdout
