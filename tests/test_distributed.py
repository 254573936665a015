"""Data-parallel training on torch.distributed (gloo): 2 ranks give 1 process's numbers.

Two ranks are started as a launcher would (RANK, WORLD_SIZE, MASTER_ADDR,
MASTER_PORT) running tests/distributed_worker.py; the one-process runs happen
here. float64 must agree to 1e-12 relative, float32 to 1e-5, and both ranks
must hold bitwise the same weights.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
import torch.distributed  # noqa: E402

if not torch.distributed.is_available():
    pytest.skip("this PyTorch build has no torch.distributed", allow_module_level=True)

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import distributed_worker as worker  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(mode: str, out: Path, world: int = 2, timeout: float = 240, grace=60, **env_extra):
    """Start ``world`` ranks of the worker as torchrun would; return their results."""
    port = _free_port()
    src = str(Path(worker.__file__).resolve().parents[1] / "src")
    procs = []
    for rank in range(world):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
        env.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), OMP_NUM_THREADS="1")
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
        env.update(env_extra)
        cmd = [sys.executable, str(HERE / "distributed_worker.py"), mode, str(out)]
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    results = []
    try:
        for k, p in enumerate(procs):  # rank 0 first; a hung rank is ended once it is done
            stdout, stderr = p.communicate(timeout=timeout if k == 0 else grace)
            results.append((p.returncode, stdout.decode(), stderr.decode()))
    except subprocess.TimeoutExpired:
        if k == 0:
            raise
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return results


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("ranks")
    results = launch("train", out)
    for rank, (code, stdout, stderr) in enumerate(results):
        assert code == 0, f"rank {rank} failed:\n{stdout}\n{stderr[-3000:]}"
        for case in worker.CASES:  # the update split by layers where it should be
            split = "split" in case or case == "numpy64_in_place_adam"
            assert (f"{case}: split_runs=0" not in stdout) == split, (case, stdout)
    return [np.load(out / f"rank{r}.npz") for r in range(2)]


@pytest.mark.parametrize("case", list(worker.CASES))
def test_two_ranks_equal_one_process(two_ranks, case):
    train, val, weights, state = worker.run_case(case, distributed=False)
    tol = 1e-5 if worker.CASES[case][1] == "float32" else 1e-12
    rank0, rank1 = two_ranks
    np.testing.assert_array_equal(rank0[f"{case}/w"], rank1[f"{case}/w"])  # same on every rank
    assert len(rank0[f"{case}/train"]) == len(train)  # same epochs (early stopping agrees)
    np.testing.assert_allclose(rank0[f"{case}/train"], train, rtol=tol, atol=0)
    np.testing.assert_allclose(rank0[f"{case}/val"], val, rtol=tol, atol=0)
    np.testing.assert_allclose(rank0[f"{case}/w"], weights, rtol=tol, atol=tol * 1e-3)
    np.testing.assert_array_equal(rank0[f"{case}/state"], rank1[f"{case}/state"])
    np.testing.assert_allclose(rank0[f"{case}/state"], state, rtol=tol, atol=tol * 1e-3)


def test_three_ranks_split_the_update_and_equal_one_process(tmp_path):
    """3 ranks, 3 or 4 layers: owners of 1-2 layers each, uneven shares of every batch.

    float64: the losses to 1e-12; the weights and moments to 1e-8 relative, as each
    rank's scale W_r / W (11/32, 10/32) rounds and Adam's division by √v magnifies
    the rounding of near-zero gradients (an exact 1/2 with 2 ranks does not)."""
    from mlplab.train.buckets import owners

    assert owners([10, 50, 40, 5], 3) == [2, 0, 1, 2]  # largest first, to the least loaded
    assert owners([7], 3) == [0]
    results = launch("train3", tmp_path, world=3)
    for rank, (code, stdout, stderr) in enumerate(results):
        assert code == 0, f"rank {rank} failed:\n{stdout}\n{stderr[-3000:]}"
        assert "split_runs=0" not in stdout, stdout
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in range(3)]
    for case in worker.THREE_RANK_CASES:
        train, val, weights, state = worker.run_case(case, distributed=False)
        for other in ranks[1:]:
            np.testing.assert_array_equal(ranks[0][f"{case}/w"], other[f"{case}/w"])
            np.testing.assert_array_equal(ranks[0][f"{case}/state"], other[f"{case}/state"])
        np.testing.assert_allclose(ranks[0][f"{case}/train"], train, rtol=1e-12, atol=0)
        np.testing.assert_allclose(ranks[0][f"{case}/w"], weights, rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(ranks[0][f"{case}/state"], state, rtol=1e-8, atol=1e-15)


@pytest.fixture(scope="module")
def reduced(tmp_path_factory):
    out = tmp_path_factory.mktemp("reduce")
    results = launch("reduce", out)
    for rank, (code, stdout, stderr) in enumerate(results):
        assert code == 0, f"rank {rank} failed:\n{stdout}\n{stderr[-3000:]}"
    return [np.load(out / f"reduce{r}.npz") for r in range(2)]


@pytest.mark.parametrize("case", list(worker.REDUCE_CASES))
def test_the_reduction_is_the_weighted_mean_in_the_models_dtype(reduced, case):
    """Σ_r (W_r / W) g_r, scaled and summed in the model's dtype: the scale and each
    scaled term rounded (up to an ulp of the term), the sum rounded once (half an ulp),
    so bitwise the float64 sum rounded back for an even split of 2 ranks (W_r / W = 1/2)."""
    backend, dtype, _, _ = worker.REDUCE_CASES[case]
    inputs = [worker.reduce_inputs(case, r) for r in range(2)]
    weights = [len(rows) if w is None else float(np.sum(w.astype(dtype)))
               for _, _, rows, w in inputs]  # fmt: skip
    flat = [np.concatenate([a.astype(dtype).ravel() for layer in g for a in layer])
            for _, g, _, _ in inputs]  # fmt: skip
    terms = [w / sum(weights) * f.astype(np.float64) for w, f in zip(weights, flat, strict=True)]
    want = terms[0] + terms[1]
    values = [w * np.float64(np.asarray(v, dtype)) for w, (v, *_) in zip(weights, inputs,
              strict=True) if w]  # fmt: skip
    rank0, rank1 = reduced
    np.testing.assert_array_equal(rank0[f"{case}/grads"], rank1[f"{case}/grads"])
    assert set(rank0[f"{case}/dtypes"]) == {dtype}
    got = rank0[f"{case}/grads"]
    if case == "numpy32_even":
        np.testing.assert_array_equal(got, want.astype(dtype))
    ulp = [np.spacing(np.abs(a).astype(dtype)).astype(np.float64) for a in (*terms, want)]
    assert np.all(np.abs(got - want) <= ulp[0] + ulp[1] + 0.5 * ulp[2]), case
    value = float(rank0[f"{case}/value"])
    assert value == pytest.approx(sum(values) / sum(weights), rel=4 * float(np.finfo(dtype).eps))
    if backend == "numpy":
        assert bool(rank0[f"{case}/one_buffer"])


@pytest.mark.parametrize("mode", ["hang", "die"])
def test_a_lost_rank_stops_the_others_with_a_clear_message(tmp_path, mode):
    start = time.perf_counter()
    results = launch(mode, tmp_path, timeout=200, grace=1, MLPLAB_DIST_TIMEOUT="6")
    elapsed = time.perf_counter() - start
    code, stdout, stderr = results[0]
    assert code == 2, f"rank 0 did not fail cleanly:\n{stdout}\n{stderr[-3000:]}"
    assert "DistributedError" in stdout and "rank 0 of 2" in stdout, stdout
    assert "died or hung" in stdout
    assert elapsed < 150  # bounded: the 6 s timeout plus starting two PyTorch processes


def test_a_checkpoint_of_two_ranks_resumes_in_one_process(tmp_path):
    from mlplab import MLP, files, fit

    results = launch("interrupt", tmp_path)
    for rank, (code, stdout, stderr) in enumerate(results):
        assert code == 0, f"rank {rank} failed:\n{stdout}\n{stderr[-3000:]}"
        assert "interrupted=True step=7" in stdout  # rank 1 stopped with rank 0, at its step
    model, state, _, _ = files.load_checkpoint(tmp_path / "run.ckpt.safetensors", backend="torch")
    X, y, _ = worker.data("torch64")
    kw = dict(batch_size=32, lr=0.01, verbose=0)
    fit(model, X, y, epochs=3 - state.epoch, state=state, **kw)
    whole = MLP(5, (16,), 2, seed=1, backend="torch", dtype="float64")
    fit(whole, X, y, epochs=3, **kw)
    for (b1, W1), (b2, W2) in zip(model.numpy_params(), whole.numpy_params(), strict=True):
        np.testing.assert_allclose(W1, W2, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(b1, b2, rtol=1e-12, atol=1e-15)


def test_mlplab_train_under_torchrun_writes_one_model_equal_to_one_process(tmp_path):
    from mlplab import files

    src = str(Path(worker.__file__).resolve().parents[1] / "src")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    flags = ["moons", "--hidden", "8", "--epochs", "3", "--backend", "torch", "--dtype",
             "float64", "--validation-split", "0.2", "--no-plots", "--verbose", "0"]  # fmt: skip
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2"]
    launcher += ["--master-port", str(_free_port()), "-m", "mlplab", "train"]
    two = subprocess.run(
        [*launcher, *flags, "--out-dir", str(tmp_path / "two")],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert two.returncode == 0, two.stderr[-3000:]
    assert two.stdout.count("wrote ") == 1  # rank 0 alone prints and writes
    assert "data parallel: 2 ranks" in two.stdout
    one = subprocess.run(
        [sys.executable, "-m", "mlplab", "train", *flags, "--out-dir", str(tmp_path / "one")],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert one.returncode == 0, one.stderr[-3000:]
    m2, _ = files.load_model(tmp_path / "two" / "model.safetensors", dtype="float64")
    m1, _ = files.load_model(tmp_path / "one" / "model.safetensors", dtype="float64")
    for (b1, W1), (b2, W2) in zip(m1.numpy_params(), m2.numpy_params(), strict=True):
        np.testing.assert_allclose(W2, W1, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(b2, b1, rtol=1e-12, atol=1e-15)


def test_two_ranks_stream_their_own_row_groups_and_stay_identical(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3001, 3))
    columns = {f"x{i}": X[:, i] for i in range(3)} | {"label": (X[:, 0] > 0).astype(int)}
    pq.write_table(pa.table(columns), tmp_path / "t.parquet", row_group_size=250)  # 13 groups
    results = launch("stream", tmp_path)
    for rank, (code, stdout, stderr) in enumerate(results):
        assert code == 0, f"rank {rank} failed:\n{stdout}\n{stderr[-3000:]}"
    r0, r1 = (np.load(tmp_path / f"stream{r}.npz") for r in range(2))
    np.testing.assert_array_equal(r0["w"], r1["w"])  # one model on both ranks
    np.testing.assert_array_equal(r0["loss"], r1["loss"])  # the epoch loss is reduced
    assert int(r0["n"]) == int(r1["n"]) >= 2 * np.ceil(1501 / 16)  # same steps, uneven halves
    assert r0["loss"][1] < r0["loss"][0] < 0.69
    for key in ("val", "val_metric", "best", "w_val"):  # validation and early stopping agree
        np.testing.assert_array_equal(r0[key], r1[key])
    np.testing.assert_array_equal(r0["w_numpy"], r1["w_numpy"])  # in place, not split
    assert int(r0["split_runs"]) == int(r1["split_runs"]) == 0
    assert r0["val_metric"].max() > 0.9 and 1 <= int(r0["best"]) <= len(r0["val"])


def test_ctrl_c_on_torchrun_writes_one_checkpoint_from_rank_0(tmp_path):
    import signal

    from mlplab import files

    src = str(Path(worker.__file__).resolve().parents[1] / "src")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
           "--master-port", str(_free_port()), "-m", "mlplab", "train", "digits", "--backend",
           "torch", "--epochs", "1000", "--batch-size", "16", "--out-dir", str(tmp_path),
           "--no-plots", "--verbose", "0"]  # fmt: skip
    out = tmp_path / "out.txt"
    with open(out, "w") as sink:
        launcher = subprocess.Popen(cmd, env=env, stdout=sink, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 180
            while "data parallel" not in out.read_text() and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(3)  # some steps in
            launcher.send_signal(signal.SIGINT)
            launcher.wait(timeout=120)
        finally:
            if launcher.poll() is None:
                launcher.kill()
    text = out.read_text()
    assert text.count("checkpoint saved to") == 1, text
    ckpt = tmp_path / "model.ckpt.safetensors"
    _, state, _, _ = files.load_checkpoint(ckpt, backend="torch")
    assert 0 < state.step < 1000 * 90
    assert not (tmp_path / "model.safetensors").exists()  # interrupted: no final model


def test_a_checkpoint_of_one_process_resumes_on_two_ranks(tmp_path):
    from mlplab import MLP, files, fit

    X, y, _ = worker.data("torch64")
    kw = dict(batch_size=32, lr=0.01, verbose=0)
    part = MLP(5, (16,), 2, seed=1, backend="torch", dtype="float64")
    steps = iter(range(100))
    h = fit(part, X, y, epochs=3, should_stop=lambda: next(steps) >= 9, **kw)
    assert h.interrupted and h.state.step == 10
    files.save_checkpoint(tmp_path / "run.ckpt.safetensors", part, h.state, config={})
    results = launch("resume", tmp_path)
    for rank, (code, stdout, stderr) in enumerate(results):
        assert code == 0, f"rank {rank} failed:\n{stdout}\n{stderr[-3000:]}"
    whole = MLP(5, (16,), 2, seed=1, backend="torch", dtype="float64")
    fit(whole, X, y, epochs=3, **kw)
    expected = np.concatenate([np.ravel(a) for layer in whole.numpy_params() for a in layer])
    r0, r1 = (np.load(tmp_path / f"resumed{r}.npy") for r in range(2))
    np.testing.assert_array_equal(r0, r1)
    np.testing.assert_allclose(r0, expected, rtol=1e-12, atol=1e-15)


def test_only_rank_0_warns_and_prints_progress(tmp_path):
    (code0, _, err0), (code1, _, err1) = launch("warn", tmp_path)
    assert code0 == code1 == 0, err0[-2000:] + err1[-2000:]
    assert "every training target is the same" in err0 and "epoch 2:" in err0
    assert "every training target is the same" not in err1 and "epoch" not in err1
