"""Runs on a Ray cluster: each (task, optimizer, seed) run is one Ray task.

    undertow bench run ... --executor ray                      # a local Ray instance
    undertow bench run ... --executor ray --ray-address HOST:6379   # an existing cluster

The runner hands `run_one(out, run_id)` (strings only) to `submit`; the task runs it
on whichever node Ray picks, and it reads the config and writes checkpoints and
records under `out`. So `out` must be a path every node reaches (a shared file
system mounted at the same path), exactly as for resume. Results are the same as with
the local executor: a run depends only on its config, seed and the LLM's replies.
Needs the `[ray]` extra.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from undertow.bench.runner.errors import BenchError


def _call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return fn(*args, **kwargs)


class RayExecutor(Executor):
    """A `concurrent.futures.Executor` over Ray tasks (one CPU each).

    Args:
        address: a running cluster (`ray://...` or `HOST:PORT`); None starts a local
            instance for this sweep and stops it on `shutdown`.
        workers: CPUs of the local instance (ignored with an address: the cluster's
            size decides how many runs go at once).
    """

    def __init__(self, address: str | None = None, workers: int = 1) -> None:
        try:
            import ray
        except ImportError:
            raise BenchError("--executor ray needs Ray: pip install 'undertow[ray]'") from None
        self._ray = ray
        self._owns = False
        if not ray.is_initialized():
            try:
                if address:
                    ray.init(address=address, log_to_driver=False)
                else:
                    ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False)
                    self._owns = True
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = f"the Ray cluster at {address}" if address else "a local Ray instance"
                raise BenchError(f"cannot start or reach {where} ({str(exc).splitlines()[0]}); "
                                 "check --ray-address (`ray status` on the head node)") from None
        self._task = ray.remote(num_cpus=1, max_retries=0)(_call)
        self._refs: list[Any] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        ref = self._task.remote(fn, args, kwargs)
        self._refs.append(ref)
        future: Future[Any] = ref.future()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures:
            for ref in self._refs:
                try:
                    self._ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - already finished
                    pass
        elif wait and self._refs:
            self._ray.wait(self._refs, num_returns=len(self._refs))
        self._refs = []
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
            self._owns = False
