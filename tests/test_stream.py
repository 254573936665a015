"""Streaming a Parquet / CSV file with pyarrow: preprocessing in one pass, bounded memory,
seeded row-group order, each rank its own row groups, and `mlplab train data.parquet`."""

from __future__ import annotations

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
import pyarrow.csv as pcsv  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from mlplab import MLP  # noqa: E402
from mlplab.cli.main import main  # noqa: E402
from mlplab.data import Preprocessor  # noqa: E402
from mlplab.data.stream import TableStream, scan_preprocessor  # noqa: E402
from mlplab.train.streaming import _Buffer, evaluate_stream, fit_stream  # noqa: E402


def table(n=6000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)) * [1.0, 3.0, 0.1, 20.0] + [0.0, 5.0, -2.0, 1e3]
    label = np.where(X[:, 0] + (X[:, 1] - 5) / 3 > 0, "yes", "no")
    value = X[:, 0] * 2.0 + 7.0
    return X, label, value


@pytest.fixture(scope="module")
def parquet(tmp_path_factory):
    X, label, value = table()
    folder = tmp_path_factory.mktemp("stream")
    features = {f"x{i}": X[:, i] for i in range(4)}
    pq.write_table(pa.table(features | {"value": value}), folder / "r.parquet", row_group_size=500)
    path = folder / "t.parquet"
    pq.write_table(pa.table(features | {"label": label}), path, row_group_size=500)  # 12 groups
    return path


def test_one_streaming_pass_gives_the_in_memory_preprocessing(parquet):
    X, label, value = table()
    prep = scan_preprocessor(TableStream(parquet, "label"))
    np.testing.assert_allclose(prep.scaler.mean, X.mean(0), rtol=1e-12)
    np.testing.assert_allclose(prep.scaler.scale, X.std(0), rtol=1e-12)
    assert prep.classes == ["no", "yes"] and prep.task == "binary"
    again = Preprocessor.from_dict(prep.to_dict())  # saved in the model file as today
    np.testing.assert_array_equal(again.scaler.mean, prep.scaler.mean)
    reg = scan_preprocessor(TableStream(parquet.with_name("r.parquet"), "value"))
    assert reg.task == "regression"
    np.testing.assert_allclose(reg.target_scaler.mean, [value.mean()], rtol=1e-12)


def test_every_row_group_once_per_epoch_split_between_ranks_in_a_seeded_order(parquet):
    stream = TableStream(parquet, "label")
    orders = []
    for epoch in range(3):
        shares = [stream.my_pieces(7, epoch, rank, 3) for rank in range(3)]
        assert sorted(g for share in shares for g in share) == list(range(12))
        assert shares == [stream.my_pieces(7, epoch, rank, 3) for rank in range(3)]  # seeded
        orders.append(sum(shares, []))
    assert orders[0] != orders[1]  # reshuffled each epoch


def test_the_shuffle_buffer_is_bounded_and_loses_no_row():
    buffer = _Buffer(np.random.default_rng(0), capacity=100, batch=16, d=1)
    seen, most = [], 0
    for start in range(0, 1000, 37):
        rows = np.arange(start, min(start + 37, 1000))
        X, y, batches = buffer.add(rows[:, None].astype(float), rows)
        most = max(most, buffer.n)
        seen += [int(i) for b in batches for i in y[b]]
        assert all(len(b) == 16 for b in batches)
    X, y, batches = buffer.drain()
    seen += [int(i) for b in batches for i in y[b]]
    assert sorted(seen) == list(range(1000)) and most < 100 + 37


def test_fit_stream_learns_and_is_seeded(parquet):
    stream = TableStream(parquet, "label")
    prep = scan_preprocessor(stream)
    runs = []
    for _ in range(2):
        model = MLP(4, (8,), 1, seed=0, dtype="float64")
        h = fit_stream(model, stream, prep, epochs=3, batch_size=32, lr=0.01,
                       shuffle_rows=1000, verbose=0)  # fmt: skip
        runs.append((h.train_loss, model.numpy_params()[0][1]))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert h.n_steps == 3 * int(np.ceil(6000 / 32)) and h.train_loss[-1] < h.train_loss[0]
    assert evaluate_stream(model, stream, prep, "bce")["accuracy"] > 0.95


def test_mlplab_train_streams_parquet_and_csv_and_predict_reads_the_model(parquet, tmp_path):
    out = tmp_path / "run"
    regression = str(parquet.with_name("r.parquet"))
    code = main(["train", regression, "--target", "value", "--hidden", "8", "--epochs", "2",
                 "--out-dir", str(out), "--no-plots", "--lr", "0.01"])  # fmt: skip
    assert code == 0
    X, _, value = table()
    csv = tmp_path / "few.csv"
    few = {f"x{i}": X[:50, i] for i in range(4)} | {"value": value[:50]}
    pcsv.write_csv(pa.table(few), csv)
    assert main(["evaluate", str(out / "model.safetensors"), str(csv)]) == 0
    code = main(["train", str(csv), "--stream", "--target", "value", "--epochs", "1",
                 "--out-dir", str(tmp_path / "csv"), "--no-plots"])  # fmt: skip
    assert code == 0 and (tmp_path / "csv" / "model.safetensors").is_file()


def test_in_memory_only_settings_are_refused_in_one_line(parquet, capsys, tmp_path):
    flags = ["--test-split", "0.2"]
    assert main(["train", str(parquet), "--target", "label", *flags,
                 "--out-dir", str(tmp_path)]) != 0  # fmt: skip
    assert "apply to data loaded in memory" in capsys.readouterr().err
    assert main(["train", str(parquet), "--target", "nope", "--out-dir", str(tmp_path)]) != 0
    assert "has no column 'nope'" in capsys.readouterr().err
