"""Scaling out: the PostgreSQL job queue's leases, and two `brief serve` replicas (real processes) on one
PostgreSQL and one Chroma server, one of them killed with SIGKILL mid-job, losing and doubling no job."""

from __future__ import annotations

import calendar
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agent.api import draft_brief, resume_brief
from agent.cancel import Cancelled
from agent.config import Store
from agent.errors import StoreError
from agent.serve.jobs import JobWorker
from agent.model.embeddings import HashingEmbedding
from agent.analysis.trends import TrendRegistry
from agent.testing.samples import job_sources
from tests.postgres_server import fresh_database, postgres  # noqa: F401  (the PostgreSQL fixture)
from tests.fakes import (STORY, answered_keys, brief_fields, call, config_file, free_port, good_model, reviser,
                         settings_for)

psycopg = pytest.importorskip("psycopg")
from agent.serve.jobs_postgres import PostgresJobStore  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def database(postgres, request):  # noqa: F811
    return fresh_database(postgres, "t_" + request.node.name.lower().replace("[", "_").replace("]", "")[:50])


def test_a_leased_job_is_never_claimed_twice_and_a_dead_claim_is_taken_over(tmp_path, database):
    a, b = PostgresJobStore(tmp_path, database, lease_s=1.5), PostgresJobStore(tmp_path, database, lease_s=1.5)
    job_id = a.submit({"sources": ["x"]})
    first = a.claim("replica-a")
    assert first.id == job_id and first.attempts == 1
    assert b.claim("replica-b") is None  # leased: not claimable
    time.sleep(1.0)
    assert a.renew(first) and b.claim("replica-b") is None  # renewed: still not
    time.sleep(1.8)  # replica a stops renewing (dies): its lease runs out
    second = b.claim("replica-b")
    assert second.id == job_id and second.attempts == 2 and "taken over" in second.note
    assert not a.renew(first) and not a.finish(first, 200, {"status": "published"})  # the stale attempt is fenced
    assert b.finish(second, 200, {"status": "published"}) and not b.finish(second, 200, {"status": "published"})
    done = b.get(job_id)
    assert done.status == "done" and done.outcome == {"status": "published"} and done.attempts == 2


def test_heartbeats_keep_a_lease_and_a_worker_that_lost_it_stops(tmp_path, database):
    class Stalling(PostgresJobStore):
        stalled = False

        def renew(self, job):
            if self.stalled:
                raise StoreError("the database cannot be reached")
            return super().renew(job)

    store, other = Stalling(tmp_path, database, lease_s=1.5), PostgresJobStore(tmp_path, database, lease_s=60)
    started, stopped = threading.Event(), threading.Event()

    def cancellable_draft(job):
        started.set()
        if job.lost.wait(20):  # what agent.cancel does to a real draft at its next LLM call
            stopped.set()
            raise Cancelled("lease lost")
        return 200, {"status": "published"}

    job_id = store.submit({"sources": ["x"]})
    worker = JobWorker(store, cancellable_draft, poll_s=0.1, lease_s=1.5)
    worker.start()
    try:
        assert started.wait(10)
        time.sleep(2.5)  # past the first lease: the heartbeat (every 0.5 s) renewed it
        assert other.claim("other") is None and not stopped.is_set()
        store.stalled = True  # the replica loses the database for a while: its lease runs out
        with psycopg.connect(database) as conn:
            conn.execute("UPDATE brief_jobs SET lease_until = now() - interval '1 second'")
        taken = other.claim("other")
        assert taken.attempts == 2 and not stopped.is_set()
        store.stalled = False
        assert stopped.wait(5)  # its next heartbeat finds the lease gone, and the attempt stops
    finally:
        worker.stop()
    assert store.get(job_id).status == "running"  # the stopped attempt recorded nothing
    assert other.finish(taken, 200, {"status": "published"}) and store.get(job_id).status == "done"


def test_a_stopping_replica_releases_its_running_job_at_once(tmp_path, database):
    store, other = PostgresJobStore(tmp_path, database, lease_s=60), PostgresJobStore(tmp_path, database, lease_s=60)
    started, stopped = threading.Event(), threading.Event()

    def cancellable_draft(job):
        started.set()
        if job.lost.wait(20):
            stopped.set()
            raise Cancelled("released")
        return 200, {"status": "published"}

    job_id = store.submit({"sources": ["x"]})
    worker = JobWorker(store, cancellable_draft, poll_s=0.1, lease_s=60)
    worker.start()
    assert started.wait(10)
    worker.stop(timeout=0.5)
    taken = other.claim("other")  # long before its 60 s lease would have run out
    assert taken.id == job_id and taken.attempts == 2 and "replica stopped" in taken.note
    assert stopped.wait(5) and other.finish(taken, 200, {"status": "published"})


def test_a_job_interrupted_too_often_fails(tmp_path, database):
    store = PostgresJobStore(tmp_path, database, lease_s=1, max_attempts=2)
    job_id = store.submit({"sources": ["x"]})
    assert store.claim("a").attempts == 1
    time.sleep(1.2)
    assert store.claim("b").attempts == 2
    time.sleep(1.2)
    assert store.claim("c") is None
    job = store.get(job_id)
    assert job.status == "failed" and job.outcome["error"]["code"] == "interrupted"


def test_concurrent_claimers_share_a_queue_without_overlap(tmp_path, database):
    stores = [PostgresJobStore(tmp_path, database, lease_s=60) for _ in range(4)]
    submitted = {stores[0].submit({"n": n}) for n in range(40)}
    claimed: list[str] = []
    lock = threading.Lock()

    def drain(store: PostgresJobStore, name: str) -> None:
        while (job := store.claim(name)) is not None:
            with lock:
                claimed.append(job.id)
            store.finish(job, 200, {"status": "published"})

    threads = [threading.Thread(target=drain, args=(s, f"w{n}")) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(claimed) == sorted(submitted)  # every job once: none lost, none twice


def test_a_run_killed_mid_graph_resumes_from_its_postgres_checkpoint(tmp_path, fake_openai, database):
    fake_openai.set_responder(reviser)
    reference = draft_brief([STORY], config=settings_for(tmp_path / "ref", fake_openai.base_url))
    fake_openai.requests.clear()
    cfg = config_file(tmp_path, fake_openai.base_url, f'[state]\npostgres_dsn = "{database}"\n')
    done = subprocess.run([sys.executable, "-m", "tests.crash_run", "revise", "--", str(STORY), "--config", str(cfg)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 137, done.stderr[-500:]
    (run,) = list((tmp_path / "data" / "runs").iterdir())
    assert not (run / "checkpoints.sqlite3").exists()  # the graph state went to PostgreSQL, under the run's thread
    with psycopg.connect(database) as conn:
        thread = (run / "checkpoint-thread").read_text().strip()
        assert conn.execute("SELECT count(*) FROM checkpoints WHERE thread_id = %s", (thread,)).fetchone()[0] > 0
    before, seen = answered_keys(fake_openai), len(fake_openai.requests)
    resumed = resume_brief(run.name, config=cfg)
    assert resumed.status == "published" and brief_fields(resumed) == brief_fields(reference)
    assert not set(before) & set(answered_keys(fake_openai, seen)), "resume repeated a finished LLM call"


def _replica(tmp_path: Path, name: str, base_url: str, store: Store, dsn: str) -> tuple[subprocess.Popen, str]:
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text('[embeddings]\nbackend = "hashing"\n[drafter]\nmax_attempts = 2\ntimeout_s = 30\n'
                   '[ingest]\npassage_chars = 200\n'
                   f'[store]\nhost = "{store.host}"\nport = {store.port}\ncollection_prefix = "{store.collection_prefix}"\n'
                   f'[state]\npostgres_dsn = "{dsn}"\njob_lease_s = 4\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "BRIEF"))}
    env.update(OPENAI_BASE_URL=base_url, NO_PROXY="127.0.0.1,localhost", PYTHONPATH=str(ROOT))
    port = free_port()
    with (tmp_path / f"{name}.log").open("a") as log:
        proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "serve", "--port", str(port), "--workers", "2",
                                 "--config", str(cfg), "--data-dir", str(tmp_path / name)], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}"


def _wait_healthy(procs: dict[str, tuple[subprocess.Popen, str]], tmp_path: Path) -> None:
    deadline = time.monotonic() + 45
    waiting = set(procs)
    while waiting and time.monotonic() < deadline:
        for name in list(waiting):
            proc, base = procs[name]
            assert proc.poll() is None, (tmp_path / f"{name}.log").read_text()
            try:
                if call(base, "GET", "/healthz", timeout=2)[0] == 200:
                    waiting.discard(name)
            except OSError:
                pass
        time.sleep(0.2)
    assert not waiting, f"brief serve did not come up: {[(tmp_path / f'{n}.log').read_text() for n in waiting]}"


def _rows(dsn: str) -> dict[str, dict]:
    with psycopg.connect(dsn) as conn:
        cur = conn.execute("SELECT id, status, attempts, owner, run_id, note, outcome->>'status' AS result "
                           "FROM brief_jobs")
        names = [c.name for c in cur.description]
        return {row[0]: dict(zip(names, row)) for row in cur.fetchall()}


def _runs(data_dir: Path) -> dict[str, bool]:
    """Run folders in a replica's data dir: run id -> finished (result.json written)."""
    runs = data_dir / "runs"
    return {p.name: (p / "result.json").is_file() for p in runs.iterdir()} if runs.is_dir() else {}


JOBS = 10


def test_two_replicas_share_the_queue_and_the_trends_and_survive_a_kill(tmp_path, fake_openai, database,
                                                                        chroma_server):  # noqa: F811

    hold = threading.Event()  # while set, replies wait: a job drafting then is surely mid-job

    def slow_model(prompt, body):
        time.sleep(0.15)  # a job takes a second or two
        while hold.is_set():
            time.sleep(0.02)
        return good_model(prompt, body)

    fake_openai.set_responder(slow_model)
    store = Store(**{**chroma_server.model_dump(), "collection_prefix": f"scale-{tmp_path.name[-20:]}-"})
    replicas = {name: _replica(tmp_path, name, fake_openai.base_url, store, database) for name in ("a", "b")}
    try:
        _wait_healthy(replicas, tmp_path)
        ids = []
        for n in range(JOBS):  # submitted to both replicas in turn: one queue
            status, accepted, _ = call(replicas["ab"[n % 2]][1], "POST", "/v1/briefs:async",
                                       {"sources": job_sources(STORY, n)})
            assert status == 202, accepted
            ids.append(accepted["id"])

        victim = replicas["a"][0]

        def drafting_on_a() -> list[dict]:
            of_a = [r for r in _rows(database).values() if (r["owner"] or "::").split(":")[1] == str(victim.pid)]
            done = any(r["status"] == "done" for r in of_a)  # replica a has published, and is drafting again
            return [r for r in of_a if r["status"] == "running" and r["run_id"]] if done else []

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if drafting_on_a():
                hold.set()
                time.sleep(0.5)  # a job past its last LLM call finishes; the others wait for a reply
                if drafting_on_a():
                    break
                hold.clear()
            time.sleep(0.05)
        assert hold.is_set(), "replica a never drafted a second job"
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(10)
        killed_at = time.time()
        interrupted = {r["id"]: r["run_id"] for r in _rows(database).values()
                       if r["status"] == "running" and r["owner"].split(":")[1] == str(victim.pid)}
        hold.clear()

        survivor = replicas["b"][1]
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            views = [call(survivor, "GET", f"/v1/briefs/{i}", timeout=10)[1] for i in ids]
            if all(v["status"] in ("done", "failed") for v in views):
                break
            time.sleep(0.3)
    finally:
        for proc, _ in replicas.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, _ in replicas.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    assert "ERROR" not in (tmp_path / "b.log").read_text()
    # no job lost: every one done and published, as seen through the surviving replica
    assert [v["status"] for v in views] == ["done"] * JOBS, [v.get("error") for v in views]
    assert all(v["result"]["status"] == "published" for v in views)
    rows = _rows(database)
    assert sorted(rows) == sorted(ids)
    # the killed replica's jobs ran again once, on the survivor, only after their lease ran out
    assert interrupted and {i for i, r in rows.items() if r["attempts"] == 2} == set(interrupted)
    assert all(rows[i]["attempts"] == 1 for i in ids if i not in interrupted)
    for i in interrupted:
        assert "taken over" in rows[i]["note"] and rows[i]["owner"].split(":")[1] == str(replicas["b"][0].pid)
        taken_over = calendar.timegm(time.strptime(views[ids.index(i)]["started_at"], "%Y-%m-%dT%H:%M:%SZ"))
        assert taken_over >= int(killed_at) + 1  # not while the dead replica's lease (4 s, renewed every 1.3 s) was alive
    # none run twice: across both data dirs, one finished run per job, and one run folder per attempt
    runs = {**{f"a/{k}": v for k, v in _runs(tmp_path / "a").items()}, **{f"b/{k}": v for k, v in _runs(tmp_path / "b").items()}}
    finished_run_ids = [rows[i]["run_id"] for i in ids]
    unfinished = [k for k, done in runs.items() if not done]  # the killed attempts that got as far as a run folder
    assert all(k.startswith("a/") for k in unfinished) and len(unfinished) <= len(interrupted)
    assert {f"a/{run}" for run in interrupted.values() if run} <= set(unfinished)
    assert sorted(k.split("/", 1)[1] for k, done in runs.items() if done) == sorted(finished_run_ids)
    assert len(set(finished_run_ids)) == JOBS
    # one trend registry, in the Chroma server: every job's brief linked once, from both replicas' runs
    registry = TrendRegistry(tmp_path / "reader", HashingEmbedding(), server=store)
    linked = [b for record in registry.records.values() for b in record.briefs]
    assert len(linked) == JOBS and len({b.key for b in linked}) == JOBS  # each job's sources linked once
    # by its finished run, or by a killed attempt that got as far as linking before it died
    assert {b.run_id for b in linked} <= set(finished_run_ids) | {k.split("/", 1)[1] for k in unfinished}
    assert {k.split("/")[0] for k, done in runs.items() if done} == {"a", "b"}  # both replicas published
    assert not (tmp_path / "a" / "chroma").exists() and not (tmp_path / "b" / "chroma").exists()
