"""Evaluation harness: dataset -> run -> scorers -> scores -> report (and a gate on the scores).

    evals/datasets/*.jsonl      cases (Case); a <name>.toml beside one holds its gate and cache
    evals/sources/<case>/       source files the cases point at
    evals/dataset.py            Case and <dataset>.toml contracts, loading
    evals/scorers.py            Score per case, reusing agent.checks
    evals/judge.py              optional rubric scorer through the judge role (--judge)
    evals/runner.py             run a dataset concurrently through draft_brief, one row per case
    evals/report.py             terminal table, results.jsonl, summary.json, report.html
    evals/gate.py               thresholds -> exit code
    evals/compare.py            per-scorer deltas between two runs
    evals/checker_bench.py      the checker on its own: SummEdits sample and seeded defects
    evals/cache/<name>/         committed LLM replay caches

`brief eval run DATASET` (agent/cli.py) is the command line over these; evals/README.md explains them.
"""
