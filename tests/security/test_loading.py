"""Loading never runs code in this process: a crafted Module file (issue #13, finding 3)."""

from __future__ import annotations

import json
import os

from undertow.engine import Module, Node, op


class Agent(Module):
    @op(trainable=True)
    def answer(self, x):
        return x + 1


def test_a_crafted_module_file_runs_its_code_in_the_sandbox_not_here(tmp_path):
    agent = Agent()
    path = agent.save(tmp_path / "agent.json")
    marker = tmp_path / "ran-in-host"
    doc = json.loads(path.read_text())
    # Top-level statements beside a function with the right signature: the old loader
    # accepted this, and the first call exec'd it in the host.
    doc["parameters"]["answer.code"]["value"] = (
        f"import os\ntry:\n    open({str(marker)!r}, 'w').write(str(os.getpid()))\nexcept OSError:\n    pass\n"
        "def answer(self, x):\n    import os\n    return [os.getpid(), x]\n")
    path.write_text(json.dumps(doc))
    try:
        agent.load(path)
        assert not marker.exists()                       # loading ran nothing
        pid, x = agent.answer(Node(5)).value             # calling runs it sandboxed
        assert pid != os.getpid() and x == 5
        assert not marker.exists()                       # the sandbox could not write here
    finally:
        Agent.answer.code.value = Agent.answer._own_source
