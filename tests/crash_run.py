"""Run `brief draft` in a child process that dies (os._exit) when a given graph node starts.

The node before it has finished and been checkpointed, so this is "killed after that node".
Usage: python -m tests.crash_run NODE -- <brief draft arguments>
"""

import os
import sys

from agent import cli, nodes

node = sys.argv[1]
original = getattr(nodes, node)


def dying(state, deps):
    os._exit(137)


setattr(nodes, node, dying)
sys.argv = ["brief", "draft", *sys.argv[3:]]
cli.main()
