"""undertow.agents: ready, trainable agent workflows written with the engine.

- `ChainOfThoughtQA`: a trainable instruction and answer extractor around one LLM call.
- `ReActAgent`: tool use with traced tool calls and a trainable system prompt.
- `CodeAgent`: one function whose source is a `code` parameter.
- `BattleshipPlayer`: a trainable Battleship policy.
- `TreeSearchAgent`: test-time tree search, one tree per item, scored in batch.
- `RoutedQA`: one trainable system prompt per kind of question, picked by a fixed router.
- `DagModel`: the float inputs of a numeric DAG problem (Trace's numeric task).
- `SignalController`: two trainable integer green times of a traffic signal.
"""

from undertow.agents.battleship import BattleshipPlayer
from undertow.agents.code_agent import CodeAgent
from undertow.agents.cot_qa import ChainOfThoughtQA
from undertow.agents.numeric import DagModel
from undertow.agents.react import ReActAgent
from undertow.agents.routed_qa import RoutedQA
from undertow.agents.signal_controller import SignalController
from undertow.agents.tree_agent import TreeSearchAgent

__all__ = ["BattleshipPlayer", "ChainOfThoughtQA", "CodeAgent", "DagModel", "ReActAgent", "RoutedQA", "SignalController",
           "TreeSearchAgent"]
