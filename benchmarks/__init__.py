"""Side-by-side benchmarks: mlplab on each backend beside the tools people use.

Run ``python -m benchmarks`` (or ``make bench``); ``--quick`` is a seconds-long
smoke run. Each tool runs in its own worker process (float32, 2 threads,
subnormal-slowing OpenBLAS settings unset), the tools take turns repeat by
repeat, and the report gives medians, spread and the ratios mlplab / peer.
See ``docs/performance.md`` for the measured table and what it means.

Modules: :mod:`benchmarks.workloads` (data and settings of each workload),
:mod:`benchmarks.tools` (mlplab and the peers, each written the way its own
docs teach), :mod:`benchmarks.worker` (the per-tool process),
:mod:`benchmarks.runner` (scheduling, start-up timing, the table).
"""
