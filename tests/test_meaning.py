"""Meaning-change rules, one table per rule: distorted pairs must be caught, faithful pairs must pass.

Every sentence here is fictional and written for these tests.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agent.checks.meaning import (
    changed_direction, changed_hedge, compression_errors, is_faithful_compression, meaning_changes, meaning_preserved, moved_figure,
    protected_tokens, shifted_time, swapped_actor,
)

ROOT = Path(__file__).resolve().parent.parent

DIRECTION = {
    "distorted": [
        ("Ticket prices at the Orlin ferry fell by 8 percent in May.",
         "Ticket prices at the Orlin ferry rose by 8 percent in May, the operator said."),
        ("The Halden council rejected the new cycle lane plan on Monday.",
         "The Halden council approved the new cycle lane plan on Monday."),
        ("The Tarrow Rovers lost the regional cup final against Mell City.",
         "The Tarrow Rovers won the regional cup final against Mell City."),
        ("The Vessa library will close its east wing in autumn.", "The Vessa library will open its east wing in autumn."),
        ("Brenmark cut its workforce at the Oster plant by 300 people.",
         "Brenmark expanded its workforce at the Oster plant by 300 people."),
        ("The Kelby water utility did not raise household tariffs this year.",
         "The Kelby water utility raised household tariffs this year."),
        ("Inspectors found that the Daln bridge is safe for heavy lorries.",
         "Inspectors found that the Daln bridge is not safe for heavy lorries."),
        ("Exports of Morva cheese shrank sharply in the first quarter.",
         "Exports of Morva cheese grew sharply in the first quarter."),
        ("The Selk shipping group reported a loss of 40 million euros for the year.",
         "The Selk shipping group reported a profit of 40 million euros for the year."),
        ("The court upheld the ban on night flights at Corran airport.",
         "The court overturned the ban on night flights at Corran airport."),
        ("Unemployment in the Frey district rose to 7 percent in June.",
         "Unemployment in the Frey district dropped to 7 percent in June."),
    ],
    "faithful": [
        ("Ticket prices at the Orlin ferry rose by 8 percent in May.",
         "Ticket prices at the Orlin ferry rose by 8 percent in May, the operator said."),
        ("The Halden council backed the new cycle lane plan on Monday.",
         "The Halden council approved the new cycle lane plan on Monday."),
        ("Sales of electric bikes in Norra increased last year.",
         "Sales of electric bikes in Norra grew last year, the trade body said."),
        ("The Vessa library will not close its east wing.",
         "The Vessa library said it would keep its east wing open and would not close it."),
        ("Brenmark reduced costs at the Oster plant.", "Brenmark cut costs at the Oster plant by a fifth."),
        ("Inspectors said the Daln bridge is not safe for heavy lorries.",
         "The Daln bridge is not safe for heavy lorries, inspectors said."),
        ("The regional bank lowered its interest rate to 3 percent.",
         "The regional bank cut its interest rate to 3 percent on Thursday."),
        ("The union rejected the pay offer from the Corby rail company.",
         "The union turned down the pay offer from the Corby rail company, calling it an insult."),
        ("Drought cut the Marl valley wheat harvest by a third.",
         "The Marl valley wheat harvest fell by a third because of the drought."),
        ("The ferry operator raised fares.",
         "Some reports said the ferry operator lowered fares. The ferry operator raised fares in March, its chief said."),
        ("Visitor numbers at the Holm museum rose in July.",
         "Visitor numbers at the Holm museum rose in July. Parking fees in the town fell."),
    ],
}

HEDGE = {
    "distorted": [
        ("The Pell bridge will reopen in March.", "The Pell bridge could reopen in March, engineers said."),
        ("The Darrow mine will create 400 jobs.", "The company said the Darrow mine would create 400 jobs."),
        ("Vann said the Darrow mine will create 400 jobs.", "Vann said the Darrow mine would create 400 jobs."),
        ("The Lisk council is building a new swimming pool.", "The Lisk council plans to build a new swimming pool."),
        ("Parliament will ban single-use cups from 2028.",
         "The environment minister has asked parliament to ban single-use cups from 2028."),
        ("Tourism in Vell grew by 12 percent last year.", "Tourism in Vell grew by an estimated 12 percent last year."),
        ("The Arden hospital wing opens in May.", "The Arden hospital wing is expected to open in May."),
        ("The strike at the Kesk port will end on Friday.", "Union leaders hope the strike at the Kesk port will end on Friday."),
        ("The new tourist tax raised 30 million crowns.", "Officials estimated that the new tourist tax raised 30 million crowns."),
        ("Prices at the Tarn market rose sharply in June.",
         "Prices at the Tarn market rose sharply in June, according to the traders' association."),
        ("The Pell bridge may reopen in March after the repairs.", "The Pell bridge will reopen in March after the repairs."),
    ],
    "faithful": [
        ("Engineers said the Pell bridge could reopen in March.", "The Pell bridge could reopen in March, engineers said."),
        ("The company said the Darrow mine would create 400 jobs.", "The company said the Darrow mine would create 400 jobs."),
        ("The Lisk council plans to build a new swimming pool.", "The Lisk council plans to build a new swimming pool."),
        ("The Arden hospital wing is due to open in May.", "The Arden hospital wing is expected to open in May."),
        ("The Pell bridge reopened in March.", "The Pell bridge reopened in March after repairs."),
        ("Prices at the Tarn market rose in June, traders said.",
         "Prices at the Tarn market rose sharply in June, according to the traders' association."),
        ("The Orra museum expects 20,000 visitors this year.", "The Orra museum expects about 20,000 visitors this year."),
        ("Insurance plans start at 20 euros a month.", "Our insurance plans start at 20 euros a month."),
        ("The Lisk council built a new swimming pool in 2019.",
         "The Lisk council built a new swimming pool in 2019 and a library in 2021."),
        ("Union leaders hope the strike at the Kesk port will end on Friday.",
         "Union leaders hope the strike at the Kesk port will end on Friday."),
        ("Farmers could lose their crops, the association warned.",
         "The association warned that farmers could lose their crops."),
        ("Critics put the cost of the Lanmouth plant at 1.4 billion dollars.",
         "Critics in Lanmouth said the plant would cost 1.4 billion dollars."),
        ("The Velden council approved the tram extension.",
         "The Velden council approved the tram extension on Tuesday, its spokesperson said."),
    ],
}

FIGURE = {
    "distorted": [
        ("Electricity bills for households are expected to rise by about 6 percent from 2027.",
         "Water bills for households are expected to rise by about 6 percent from 2027. "
         "The plant will take 40 percent of its electricity from wind."),
        ("The tunnel will cost 2.4 million euros.", "The tunnel will cost 2.4 billion euros."),
        ("The tunnel will cost 2.4 billion euros.", "The tunnel will cost 2.4 billion kronor."),
        ("The Brask reservoir is 35 metres deep.", "The Brask reservoir is 35 percent full."),
        ("The Dorne port handled 30 percent more containers, while its fuel sales rose 5 percent.",
         "The Dorne port handled 5 percent more containers. Its fuel sales rose 30 percent."),
        ("The Oster wind farm supplies 40 percent of the town's heating.",
         "The Oster wind farm supplies 15 percent of the town's electricity. "
         "Heating costs for the town's schools fell 40 percent."),
        ("Debt at the Vire hospital trust reached 80 million pounds.",
         "Debt at the Vire hospital trust reached 80 million euros."),
        ("The Halvard project received a grant of 3 thousand crowns.",
         "The Halvard project received a grant of 3 million crowns."),
        ("Diesel prices at Kell stations rose 11 percent in April.",
         "Petrol prices at Kell stations rose 11 percent in April. Diesel sales fell 2 percent."),
        ("The repairs to the Sunder lock will take 6 months.", "The repairs to the Sunder lock will take 6 weeks."),
        ("School meals in Arby cost 4 euros, while bus tickets cost 2 euros.",
         "School meals in Arby cost 2 euros. Bus tickets in Arby cost 4 euros."),
    ],
    "faithful": [
        ("Water bills for households will rise by about 6 percent from 2027.",
         "Water bills for households are expected to rise by about 6 percent from 2027. "
         "The plant will take 40 percent of its electricity from wind."),
        ("The tunnel will cost 2.4 billion euros.", "The tunnel will cost 2.4 billion euros, the ministry said."),
        ("The tunnel will cost 2,400 million euros.", "The tunnel will cost 2.4 billion euros."),
        ("The Oster wind farm supplies 15 percent of the town's electricity.",
         "The Oster wind farm supplies 15 percent of the town's electricity. "
         "Heating costs for the town's schools fell 40 percent."),
        ("Petrol prices at Kell stations rose 11 percent in April.",
         "Petrol prices at Kell stations rose 11 percent in April. Diesel sales fell 2 percent."),
        ("The repairs to the Sunder lock will take six weeks.", "The repairs to the Sunder lock will take 6 weeks."),
        ("The Halvard project received 3 million crowns.",
         "The Halvard project received a grant of 3 million crowns from the Arts Council."),
        ("Rents in Osby rose 4 percent.", "House prices in Osby rose 9 percent. Rents in Osby rose 4 percent."),
        ("Debt at the Vire hospital trust reached €80 million.", "Debt at the Vire hospital trust reached 80 million euros."),
        ("School meals in Arby cost 2 euros.", "School meals in Arby cost 2 euros. Bus tickets in Arby cost 4 euros."),
        ("The Dorne port handled 5 percent more containers.",
         "The Dorne port handled 5 percent more containers. Its fuel sales rose 30 percent."),
    ],
}

ACTOR = {
    "distorted": [
        ("The port of Port Carrow is set to challenge the desalination plant in court.",
         "Shellfish farmers in the harbour are set to challenge the desalination plant in court. "
         "Port Carrow officials declined to comment."),
        ("The Velden council sued the Orra bus company.", "The Orra bus company sued the Velden council over unpaid fees."),
        ("Mell City beat the Tarrow Rovers 3-1.", "The Tarrow Rovers beat Mell City 3-1 on Saturday."),
        ("Hollin Bank fined the regulator 2 million pounds.", "The regulator fined Hollin Bank 2 million pounds."),
        ("The mayor criticised the transport minister over the tram delays.",
         "The transport minister criticised the mayor over the tram delays."),
        ("Salto Foods acquired the Brenner dairy group.", "The Brenner dairy group acquired Salto Foods for 90 million euros."),
        ("Nurses at the Kesk clinic were praised by the health minister.",
         "Nurses at the Kesk clinic praised the health minister for the new pay deal."),
        ("The Lindal union invited the employers to talks.", "The employers invited the Lindal union to talks on Monday."),
        ("Greta Holm defeated Ivo Marsh in the mayoral run-off.", "Ivo Marsh defeated Greta Holm in the mayoral run-off."),
        ("The Velden tenants' group blamed the landlord for the damp.",
         "The landlord blamed the Velden tenants' group for the damp."),
        ("Farmers in the valley are suing the water authority.",
         "The water authority is suing farmers in the valley over unpaid charges."),
    ],
    "faithful": [
        ("Shellfish farmers are set to challenge the desalination plant in court.",
         "Shellfish farmers in the harbour are set to challenge the desalination plant in court. "
         "Port Carrow officials declined to comment."),
        ("The Orra bus company sued the Velden council.", "The Orra bus company sued the Velden council over unpaid fees."),
        ("The Tarrow Rovers beat Mell City on Saturday.", "The Tarrow Rovers beat Mell City 3-1 on Saturday."),
        ("Hollin Bank was fined 2 million pounds by the regulator.", "The regulator fined Hollin Bank 2 million pounds."),
        ("The minister criticised the mayor.", "The transport minister criticised the mayor over the tram delays."),
        ("Salto Foods was acquired by the Brenner dairy group.",
         "The Brenner dairy group acquired Salto Foods for 90 million euros."),
        ("The employers invited the union to talks.", "The employers invited the Lindal union to talks on Monday."),
        ("It sued the council.", "The Orra bus company sued the Velden council over unpaid fees."),
        ("The Velden council approved the tram extension.",
         "The council in Velden approved the tram extension by nine votes."),
        ("Ivo Marsh defeated Greta Holm.", "Ivo Marsh defeated Greta Holm in the mayoral run-off."),
        ("Customer support is available all day.", "We offer customer support all day."),
    ],
}

TIME = {
    "distorted": [
        ("The Merrow board approved the pier extension in 2030.",
         "The Merrow board approved the pier extension on Tuesday. The pier is due to open in 2030."),
        ("The Tessa bridge will open on Friday.", "The Tessa bridge opened on Friday."),
        ("The new hospital wing opened in 2027.", "The new hospital wing will open in 2027."),
        ("Farmers will receive less irrigation water from Monday, the authority said.",
         "Farmers will receive less irrigation water from 1 August, the authority said on Monday."),
        ("The trial of the Lemmer brothers began on Monday.", "The trial of the Lemmer brothers will begin on Monday."),
        ("The Brenn council elected a new mayor on Thursday.",
         "The Brenn council met on Thursday. It will elect a new mayor next week."),
        ("Construction of the Olle tunnel started in 2024.",
         "The Olle tunnel was approved in 2024. Construction is due to start in 2026."),
        ("The Kallby school closed on Wednesday after the storm.",
         "The Kallby school will close on Wednesday, after the storm damaged its roof on Monday."),
        ("The minister resigned on Friday.",
         "The vote was held on Friday. The minister resigned on Saturday, a day after the vote."),
        ("Rail fares will rise in January, the operator said.",
         "Rail fares will rise in March, the operator said in January."),
        ("The Arno dam will be finished in 2031.", "The Arno dam was finished in 2031."),
    ],
    "faithful": [
        ("The Merrow board approved the pier extension on Tuesday.",
         "The Merrow board approved the pier extension on Tuesday. The pier is due to open in 2030."),
        ("The pier is due to open in 2030.",
         "The Merrow board approved the pier extension on Tuesday. The pier is due to open in 2030."),
        ("The Tessa bridge opened on Friday after two years of work.", "The Tessa bridge opened on Friday."),
        ("The hospital wing will open in 2027.", "The new hospital wing is expected to open in 2027."),
        ("The authority said on Monday that farmers will receive less irrigation water from 1 August.",
         "Farmers will receive less irrigation water from 1 August, the authority said on Monday."),
        ("The trial of the Lemmer brothers will begin on Monday.", "The Lemmer brothers' trial is set to begin on Monday."),
        ("Construction of the Olle tunnel is due to start in 2026.",
         "The Olle tunnel was approved in 2024. Construction is due to start in 2026."),
        ("The minister resigned on Saturday.",
         "The vote was held on Friday. The minister resigned on Saturday, a day after the vote."),
        ("Rail fares will rise in March.", "Rail fares will rise in March, the operator said in January."),
        ("The Brenn council will elect a new mayor next week.",
         "The Brenn council met on Thursday. It will elect a new mayor next week."),
        ("The Arno dam was finished in 2031.", "The Arno dam was finished in 2031 after a decade of work."),
    ],
}

TABLES = [(changed_direction, DIRECTION), (changed_hedge, HEDGE), (moved_figure, FIGURE), (swapped_actor, ACTOR),
          (shifted_time, TIME)]
CASES = [pytest.param(rule, claim, source, kind == "distorted", id=f"{rule.__name__}-{kind}-{i}")
         for rule, table in TABLES for kind, pairs in table.items() for i, (claim, source) in enumerate(pairs)]


def test_each_rule_has_at_least_ten_distorted_and_ten_faithful_pairs():
    for _, table in TABLES:
        assert len(table["distorted"]) >= 10 and len(table["faithful"]) >= 10


@pytest.mark.parametrize("rule,claim,source,distorted", CASES)
def test_rule_table(rule, claim, source, distorted):
    found = rule(claim, source)
    assert bool(found) == distorted, [f.message for f in found]
    for f in found:  # spans point into the texts they name
        a, b = f.claim_span
        c, d = f.source_span
        assert 0 <= a < b <= len(claim) and 0 <= c < d <= len(source)
        assert claim[a:b].strip() and source[c:d].strip()


@pytest.mark.parametrize("claim,source", [
    ("El ayuntamiento rechazó el plan de tranvía el martes.", "El ayuntamiento aprobó el plan de tranvía el martes."),
    ("Las facturas de agua bajarán un 6 por ciento en 2027.", "Las facturas de agua subirán un 6 por ciento en 2027."),
    ("Der Stadtrat hat den Plan am Dienstag abgelehnt.", "Der Stadtrat hat den Plan am Dienstag genehmigt."),
    ("Le conseil a approuvé le projet en 2029.", "Le conseil a approuvé le projet mardi; il ouvrira en 2029."),
])
def test_other_languages_get_no_findings_rather_than_false_ones(claim, source):
    assert meaning_changes(claim, source) == []


@pytest.mark.parametrize("candidate,ok", [
    ("Saal said the 35 percent cut would cost growers about 80 million crowns.", True),
    ("Saal said the cut would cost growers about 80 million crowns.", False),  # a number dropped
    ("the 35 percent cut this summer would cost growers about 80 million crowns.", False),  # attribution dropped
    ("Saal said the 35 percent cut this summer cost growers about 80 million crowns.", False),  # modal dropped
    ("Saal said the 35 percent cut this summer will cost growers about 80 million crowns.", False),  # not a deletion
    ("Saal said growers about 80 million crowns the 35 percent cut.", False),  # out of order
    ("Saal said the 35 percent cut would cost growers about 80 crowns.", False),  # the scale dropped
])
def test_faithful_compression_only_deletes_and_keeps_protected_tokens(candidate, ok):
    source = "Saal said the 35 percent cut this summer would cost growers about 80 million crowns in lost harvests."
    assert is_faithful_compression(candidate, source) is ok


def test_compression_errors_say_what_to_fix():
    source = "Saal said the 35 percent cut would cost growers about 80 million crowns."
    assert compression_errors("Saal said the 35 percent cut would cost growers about 80 million crowns.", source) == []
    assert "'about'" in compression_errors("Saal said the 35 percent cut would cost growers 80 million crowns.",
                                           source)[0]
    errors = compression_errors("Saal said the cut would cost growers about 80 million crowns.", source)
    assert [e.split("'")[1] for e in errors] == ["35", "percent"]
    assert "'will'" in compression_errors("Saal said the cut will cost growers.", source)[0]


def test_compression_keeps_negation_and_names():
    source = "The Kelby utility did not raise tariffs in Osby this year, director Ana Veld said."
    assert is_faithful_compression("The Kelby utility did not raise tariffs in Osby, director Ana Veld said.", source)
    assert not is_faithful_compression("The Kelby utility did raise tariffs in Osby, director Ana Veld said.", source)
    assert not is_faithful_compression("The utility did not raise tariffs in Osby, Ana Veld said.", source)


def test_meaning_preserved_names_what_changed():
    (finding,) = meaning_preserved("Water bills will fall by about 6 percent.",
                                   "Water bills are expected to rise by about 6 percent, officials said.")[:1]
    assert finding.kind == "direction" and "fall" in finding.message


# --- issue #14's distortions against the project's own example sources, through `brief check --sources` ---
ISSUE_14 = [
    ("harbor-desalination", "The new offshore wind connection is expected to reduce electricity bills by 6 percent.",
     {"direction", "figure-moved"}),
    ("harbor-desalination", "The Merrow Coast Water Authority approved a seawater desalination plant in 2029.",
     {"time-shifted"}),
    ("harbor-desalination", "The water authority has asked for independent monitoring of brine discharge.",
     {"actor-swapped"}),
    ("harbor-desalination", "The plant will cost 1.2 million crowns, authority chair Elin Vasquez told reporters.",
     {"figure-moved"}),
    ("valley-water-rationing", "The regional parliament is considering a binding irrigation share.",
     {"hedge-dropped"}),
    ("valley-water-rationing", "The 35 percent cut this summer will cost growers about 80 million crowns in lost harvests.",
     {"hedge-dropped"}),
]
FAITHFUL_14 = [
    ("harbor-desalination", "Water bills for households are expected to rise by about 6 percent from 2027 to help pay "
                            "for the project."),
    ("harbor-desalination", "The Merrow Coast Water Authority on Tuesday approved a seawater desalination plant for "
                            "Port Carrow."),
    ("harbor-desalination", "Shellfish growers in the harbour have asked for independent monitoring of brine discharge."),
    ("valley-water-rationing", "The association has asked the regional parliament to add a binding irrigation share to "
                               "the water security law it is due to debate."),
    ("valley-water-rationing", "Saal said the 35 percent cut this summer would cost growers about 80 million crowns in "
                               "lost harvests."),
]


def _check(tmp_path: Path, folder: str, sentences: list[str]) -> dict:
    draft = tmp_path / f"{folder}.md"
    draft.write_text("\n\n".join(sentences) + "\n")
    cfg = tmp_path / "test.toml"
    cfg.write_text('[embeddings]\nbackend = "hashing"\n')
    proc = subprocess.run([sys.executable, "-m", "agent.cli", "check", str(draft), "--sources",
                           str(ROOT / "examples" / folder), "--json", "--config", str(cfg)],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode in (0, 6), proc.stderr
    return json.loads(proc.stdout)


def _kinds(report: dict, sentence: str, offsets: dict[str, int]) -> set[str]:
    a = offsets[sentence]
    return {re.match(r"[\w-]+", v["message"]).group(0) for v in report["violations"]
            if v["code"] == "meaning-changed" and a <= v["start"] < a + len(sentence)}


@pytest.mark.parametrize("folder", ["harbor-desalination", "valley-water-rationing"])
def test_issue_14_distortions_are_caught_by_brief_check_and_faithful_sentences_are_not(tmp_path, folder):
    bad = [(s, kinds) for f, s, kinds in ISSUE_14 if f == folder]
    good = [s for f, s in FAITHFUL_14 if f == folder]
    sentences = [s for s, _ in bad] + good
    text = "\n\n".join(sentences) + "\n"
    offsets = {s: text.index(s) for s in sentences}
    report = _check(tmp_path, folder, sentences)
    assert report["status"] == "fail"
    for sentence, kinds in bad:
        assert kinds <= _kinds(report, sentence, offsets), sentence
    for sentence in good:
        assert not _kinds(report, sentence, offsets), sentence
    changed = [v for v in report["violations"] if v["code"] == "meaning-changed"]
    assert all(v["severity"] == "error" and v["evidence"] and v["evidence"][0]["quote"] for v in changed)


# --- wired into the claim check -----------------------------------------------------------------
def test_meaning_changed_is_an_error_with_the_source_span_of_the_right_passage():
    from agent.checks.claims import check_claims
    from agent.schema import Passage, Sentence

    first = "The Osby library reopened on Monday after repairs."
    second = "Water bills in Osby are expected to rise by about 6 percent next year, the council said."
    passages = {"S1:1": Passage(id="S1:1", source_id="a", text=first, start=100, end=100 + len(first)),
                "S2:3": Passage(id="S2:3", source_id="b", text=second, start=40, end=40 + len(second))}
    sentence = Sentence(text="The council said water bills in Osby are expected to fall by about 6 percent next year.",
                        citations=["S1:1", "S2:3"])
    violations, (verdict,) = check_claims("body", [sentence], passages)
    (v,) = [v for v in violations if v.code == "meaning-changed"]
    assert v.severity == "error" and v.message.startswith("direction:") and sentence.text[v.start:v.end] == "fall"
    (ev,) = v.evidence
    assert ev.passage == "S2:3" and "rise" in ev.quote and second[ev.start - 40:ev.end - 40] == ev.quote
    assert not verdict.supported and verdict.layer == "deterministic" and verdict.unsupported == "fall"


def test_computed_sentences_are_not_read_for_meaning():
    from agent.checks.claims import check_claims
    from agent.schema import Passage, Sentence

    text = "Bills will rise by 6 percent, the council said."
    passages = {"S1:1": Passage(id="S1:1", source_id="a", text=text, start=0, end=len(text))}
    computed = Sentence(text="Sources disagree: one says bills fall by 6 percent.", citations=["S1:1"], kind="computed")
    violations, _ = check_claims("body", [computed], passages)
    assert [v.code for v in violations] == []


def test_one_dropped_attribution_is_one_finding_however_many_clauses_carry_it():
    source = "The Osby reservoir stood at 41 percent on Sunday, down from 63 percent a year earlier, officials said."
    claim = "The Osby reservoir stood at 41 percent on Sunday, down from 63 percent a year earlier."
    assert [f.kind for f in meaning_changes(claim, source)] == ["hedge-dropped"]
    assert meaning_changes(claim + " Officials said so.", source) == []


def test_tokens_keep_grouped_figures_and_possessives_whole():
    # Why meaning has its own tokenizer: agent.text.words would give "4", "200" and "town", "s".
    assert protected_tokens("The fund lost 4,200 crowns, the town's mayor said.")[0] == "4,200"
    assert is_faithful_compression("The town's fund lost 4,200 crowns.", "The town's fund lost 4,200 crowns last spring.")
    assert not is_faithful_compression("The town's fund lost 200 crowns.", "The town's fund lost 4,200 crowns last spring.")
