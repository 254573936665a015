"""Streaming benchmark: one epoch on a generated Parquet file, peak memory and rows/s.

    python -m benchmarks.stream [--gb 2] [--folder /tmp/mlplab-stream]

1. generates (once, kept in --folder) a Parquet file of about --gb GB: 32 float32
   features and a 10-class label from a fixed linear teacher, written row group
   by row group (the generator never holds the file either);
2. in a fresh process, ``mlplab train`` streams it: the preprocessing pass plus
   one epoch (MLP 32-64-10, batch 1024, NumPy float32), timed, with the
   process's peak RSS (``ru_maxrss``);
3. in another fresh process, the in-memory path (``mlplab.fit`` on arrays read
   with pyarrow) on the first --memory-rows rows, for rows/s beside it.

Prints one table; the figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

FEATURES, CLASSES, GROUP_ROWS = 32, 10, 262144


def generate(path: Path, gb: float) -> int:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows_per_byte = 1 / (4 * FEATURES + 8)
    total = int(gb * 1e9 * rows_per_byte)
    rng = np.random.default_rng(0)
    teacher = rng.normal(size=(FEATURES, CLASSES))
    schema = pa.schema([(f"x{i}", pa.float32()) for i in range(FEATURES)] + [("y", pa.int64())])
    tmp = path.with_suffix(".tmp")
    with pq.ParquetWriter(tmp, schema, compression="none", use_dictionary=False) as writer:
        for start in range(0, total, GROUP_ROWS):
            n = min(GROUP_ROWS, total - start)
            X = rng.normal(size=(n, FEATURES)).astype(np.float32)
            y = np.argmax(X @ teacher, axis=1)
            cols = [pa.array(X[:, i]) for i in range(FEATURES)] + [pa.array(y)]
            writer.write_table(pa.Table.from_arrays(cols, schema=schema))
    os.replace(tmp, path)
    return total


def _peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child_stream(path: str) -> dict:
    from mlplab import MLP
    from mlplab.data.stream import TableStream, scan_preprocessor
    from mlplab.train.streaming import fit_stream

    start = time.perf_counter()
    stream = TableStream(path, "y")
    prep = scan_preprocessor(stream)
    scanned = time.perf_counter()
    model = MLP(FEATURES, (64,), CLASSES, seed=0)
    h = fit_stream(model, stream, prep, epochs=1, batch_size=1024, lr=1e-3, verbose=0)
    done = time.perf_counter()
    rows = sum(stream.piece_rows())
    return {"rows": rows, "scan_s": scanned - start, "epoch_s": done - scanned,
            "loss": h.train_loss[-1], "peak_mib": _peak_mib()}  # fmt: skip


def child_memory(path: str, rows: int) -> dict:
    import numpy as np
    import pyarrow.parquet as pq

    from mlplab import MLP, fit
    from mlplab.data import Standardizer

    pf = pq.ParquetFile(path)
    groups = list(range(min(pf.num_row_groups, -(-rows // GROUP_ROWS))))
    table = pf.read_row_groups(groups).slice(0, rows)
    X = np.column_stack([table.column(f"x{i}").to_numpy() for i in range(FEATURES)])
    y = table.column("y").to_numpy()
    del table
    start = time.perf_counter()
    X = Standardizer().fit_transform(X.astype(np.float64)).astype(np.float32)
    model = MLP(FEATURES, (64,), CLASSES, seed=0)
    h = fit(model, X, y, epochs=1, batch_size=1024, lr=1e-3, verbose=0)
    done = time.perf_counter()
    return {"rows": len(y), "epoch_s": done - start, "loss": h.train_loss[-1],
            "peak_mib": _peak_mib()}  # fmt: skip


def _run_child(*args) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    done = subprocess.run([sys.executable, "-m", "benchmarks.stream", *args],
                          capture_output=True, text=True, env=env)  # fmt: skip
    if done.returncode:
        raise SystemExit(f"benchmark child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gb", type=float, default=2.0, help="file size to generate (default 2)")
    p.add_argument("--folder", default="/tmp/mlplab-stream", help="where the file is kept")
    p.add_argument("--memory-rows", type=int, default=1_000_000, help="rows of the in-memory run")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        kind, path, *rest = args.child
        out = child_stream(path) if kind == "stream" else child_memory(path, int(rest[0]))
        print(json.dumps(out))
        return 0
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench-{args.gb:g}gb.parquet"
    if not path.exists():
        t = time.perf_counter()
        print(f"generating {path} ...", flush=True)
        generate(path, args.gb)
        print(f"  {time.perf_counter() - t:.0f} s", flush=True)
    size = path.stat().st_size / 2**30
    s = _run_child("--child", "stream", str(path))
    m = _run_child("--child", "memory", str(path), str(args.memory_rows))
    print(
        f"\nfile {path.name}: {size:.2f} GiB, {s['rows']:,} rows, 32 float32 features, 10 classes"
    )
    print("MLP 32-64-10, batch 1024, NumPy float32, one epoch, OMP_NUM_THREADS=1")
    print(f"{'path':<12}{'rows':>12}{'rows/s':>12}{'peak RSS MiB':>14}{'loss':>8}")
    s_rate = s["rows"] / s["epoch_s"]
    m_rate = m["rows"] / m["epoch_s"]
    print(
        f"{'streamed':<12}{s['rows']:>12,}{s_rate:>12,.0f}{s['peak_mib']:>14.0f}{s['loss']:>8.3f}"
    )
    print(
        f"{'in memory':<12}{m['rows']:>12,}{m_rate:>12,.0f}{m['peak_mib']:>14.0f}{m['loss']:>8.3f}"
    )
    print(f"streamed / in memory: {s_rate / m_rate:.2f}x rows/s; the preprocessing pass took "
          f"{s['scan_s']:.1f} s more ({s['rows'] / s['scan_s']:,.0f} rows/s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
