"""The Ray executor (a local Ray instance) gives the local executor's results row for row."""

from __future__ import annotations

import pytest

from undertow.bench.runner import collect, make_config, resume, start
from undertow.bench.runner.errors import BenchError
from undertow.bench.runner.executor import make_named_executor
from tests.runner.conftest import SMALL

ray = pytest.importorskip("ray", reason="extra [ray] not installed")


def _comparable(records):
    return [r.model_dump(exclude={"wall_s"}) for r in records]


@pytest.mark.slow
def test_ray_and_local_executors_give_identical_results_and_resume_works(tmp_path, quiet):
    config = make_config(["word_sorting", "numeric_dag"], ["none", "optoprime"], seeds=2, steps=2,
                         budget="calls=40", workers=2, **SMALL)
    local = start(config, tmp_path / "local", console=quiet)
    assert local.failed == {}
    on_ray = start(config, tmp_path / "ray", console=quiet, executor=make_named_executor("ray", 2))
    assert on_ray.failed == {} and not ray.is_initialized()  # the local instance is stopped
    assert len(on_ray.records) == len(local.records) > 0
    assert _comparable(on_ray.records) == _comparable(local.records)
    # resume through Ray of a finished run changes nothing
    again = resume(tmp_path / "ray", console=quiet, executor=make_named_executor("ray", 2))
    assert _comparable(collect(tmp_path / "ray")) == _comparable(again.records) == _comparable(local.records)


def test_executor_names_and_addresses_are_checked():
    with pytest.raises(BenchError, match="unknown executor 'dask'"):
        make_named_executor("dask", 2)
    with pytest.raises(BenchError, match="--ray-address needs --executor ray"):
        make_named_executor("local", 2, address="127.0.0.1:6379")
