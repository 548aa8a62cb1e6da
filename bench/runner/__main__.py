"""`python -m undertow.bench.runner ...`: the `undertow bench` commands, usable before
(and besides) the root CLI."""

from undertow.bench.bench_cli import bench_app

bench_app(prog_name="undertow bench")
