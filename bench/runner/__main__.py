"""`python -m undertow.bench.runner ...`: the `undertow bench` commands, usable before
(and besides) the root CLI."""

from undertow.bench import bench_cli, interrupts

interrupts.OWNS_PROCESS = True
bench_cli.bench_app(prog_name="undertow bench")
