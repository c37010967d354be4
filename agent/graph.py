"""Wiring only: retrieve -> draft -> check -> (revise -> check)* -> [fallback -> check] -> finalize."""

from __future__ import annotations

from functools import partial

from langgraph.graph import END, START, StateGraph

from agent import nodes
from agent.nodes import BriefState, Deps


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
    for name in ("retrieve", "draft", "check", "revise", "fallback", "finalize"):
        graph.add_node(name, partial(getattr(nodes, name), deps=deps))
    graph.add_edge(START, "retrieve")
    graph.add_edge("retrieve", "draft")
    graph.add_edge("draft", "check")
    graph.add_conditional_edges(
        "check", partial(route_after_check, deps=deps), ["finalize", "revise", "fallback"]
    )
    graph.add_edge("revise", "check")
    graph.add_edge("fallback", "check")
    graph.add_edge("finalize", END)
    return graph.compile(checkpointer=checkpointer)
