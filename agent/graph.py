"""Wiring only: retrieve -> add_disputes -> draft (sections) -> word_disputes -> draft_headline -> check
-> (revise -> check)* -> [fallback -> check] -> finalize. A node's name is the stage progress shows."""

from __future__ import annotations

from functools import partial

from langgraph.graph import END, START, StateGraph

from agent import nodes
from agent.state import BriefState, Deps

NODES = ("retrieve", "add_disputes", "draft", "word_disputes", "draft_headline", "check", "revise", "fallback",
         "finalize")  # functions of agent/nodes.py, looked up when the graph is built


def route_after_check(state: BriefState, deps: Deps) -> str:
    """Pass -> finalize; fail -> revise while rounds remain, then one fallback, then finalize."""
    if state.report is not None and state.report.status == "pass":
        return "finalize"
    if state.revision < deps.settings.draft.max_revisions:
        return "revise"
    if not state.fell_back and deps.settings.draft.fallback == "extract":
        return "fallback"
    return "finalize"


def build_graph(deps: Deps, checkpointer=None):
    """Compile the brief graph with its dependencies bound into each node."""
    graph = StateGraph(BriefState)
    for name in NODES:
        graph.add_node(name, partial(getattr(nodes, name), deps=deps))
    graph.add_edge(START, "retrieve")
    graph.add_edge("retrieve", "add_disputes")
    graph.add_edge("add_disputes", "draft")
    graph.add_edge("draft", "word_disputes")
    graph.add_edge("word_disputes", "draft_headline")
    graph.add_edge("draft_headline", "check")
    graph.add_conditional_edges(
        "check", partial(route_after_check, deps=deps), ["finalize", "revise", "fallback"]
    )
    graph.add_edge("revise", "check")
    graph.add_edge("fallback", "check")
    graph.add_edge("finalize", END)
    return graph.compile(checkpointer=checkpointer)
