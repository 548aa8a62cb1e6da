"""Finding 5 of issue 12: copies of nodes, LLM clients and optimizers.

A deep-copied node is a new leaf with the same value (not its history); an LLM
client copies into a second handle sharing its connection pool, cache and budget;
an optimizer copies into an independent one (over copied parameters), and what
cannot be copied says to use `state_dict()`.
"""

from __future__ import annotations

import copy
import threading

import pytest

from undertow.engine import ErrorNode, Node, Parameter, capture, op
from undertow.engine.llm import make_llm
from undertow.optimizers import OptoPrime, TextGrad


@op
def double(x: float) -> float:
    return x * 2


@op
def fail(x: float) -> float:
    return x / 0


def test_deepcopy_of_a_node_is_a_detached_leaf_with_the_same_value() -> None:
    x = Parameter(1.5, name="x")
    y = double(double(x))
    z = copy.deepcopy(y)
    assert z.value == y.value == 6.0 and z.parents == () and z.op is None and z.is_leaf
    assert z.id != y.id and y.parents[0].parents == (x,)  # the original keeps its history
    shallow = copy.copy(y)
    assert shallow.is_leaf and shallow.value == 6.0
    err = capture(fail, x)
    err_copy = copy.deepcopy(err)
    assert isinstance(err_copy, ErrorNode) and err_copy.is_leaf and err_copy.value == err.value


def test_deepcopy_of_a_parameter_is_independent_and_keeps_constraints() -> None:
    p = Parameter(0.5, bounds=(0.0, 1.0), name="rate")
    q = copy.deepcopy(p)
    assert isinstance(q, Parameter) and q is not p and q.bounds == (0.0, 1.0) and q.name == "rate"
    q.value = 0.9
    assert p.value == 0.5
    with pytest.raises(ValueError):
        q.value = 2.0


def test_deepcopy_of_an_llm_client_shares_pool_cache_and_budget() -> None:
    llm = make_llm("sim")
    twin = copy.deepcopy(llm)
    assert twin is not llm
    assert twin.backend is llm.backend and twin.accounting is llm.accounting and twin.cache is llm.cache
    twin.defaults["temperature"] = 0.7
    assert llm.defaults["temperature"] != 0.7
    assert twin.complete("What is 2 + 2?").text == llm.complete("What is 2 + 2?").text


def test_deepcopy_of_an_optimizer_is_independent() -> None:
    llm = make_llm("sim")
    for cls in (OptoPrime, TextGrad):
        p = Parameter("Be brief.", name="prompt")
        opt = cls([p], llm=llm)
        twin = copy.deepcopy(opt)
        assert twin.parameters[0] is not p and twin.parameters[0].value == p.value
        assert twin.state_dict()["parameters"] == {"prompt": "Be brief."}
        twin.propose(twin.parameters[0], "Be thorough.")
        assert p.value == "Be brief." and opt.log == [] and twin.log[0].parameter == "prompt"


def test_optimizer_copy_with_its_module_uses_the_module_copies() -> None:
    llm = make_llm("sim")
    p = Parameter("Be brief.", name="prompt")
    opt = OptoPrime([p], llm=llm)
    p2, opt2 = copy.deepcopy((p, opt))
    assert opt2.parameters[0] is p2


def test_uncopyable_optimizer_state_names_state_dict() -> None:
    llm = make_llm("sim")
    opt = OptoPrime([Parameter("x", name="x")], llm=llm)
    opt.lock = threading.Lock()  # something that cannot be copied
    with pytest.raises(TypeError, match=r"state_dict\(\)"):
        copy.deepcopy(opt)


def test_plain_node_copy_has_fresh_identity() -> None:
    n = Node([1, 2], name="n")
    m = copy.deepcopy(n)
    assert m.value == [1, 2] and m.value is not n.value and m.name == "n"


def test_experience_optimizers_copy_and_share_their_store(tmp_path) -> None:
    from undertow.optimizers import ExperienceOptimizer, ExperienceStore

    llm = make_llm("sim")
    with ExperienceStore(tmp_path / "lib.db") as store:
        opt = ExperienceOptimizer([Parameter("Be brief.", name="prompt")], llm=llm, store=store)
        twin = copy.deepcopy(opt)
        assert twin.store is store and twin.parameters[0] is not opt.parameters[0]
