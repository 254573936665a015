"""Model files and checkpoints: exact round trips, and a clear error for every bad file."""

from __future__ import annotations

import dataclasses
import json
import pickle
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest
from conftest import require_backend
from filebytes import join, split
from safetensors.numpy import save as st_save

from mlplab import MLP, ConfigError, DataError, ModelFileError, TrainState, fit, to_numpy
from mlplab.files.checkpoint import load_checkpoint, save_checkpoint
from mlplab.files.model import MAX_HEADER_BYTES, load_model, save_model
from mlplab.nn.optim import SGD, Adam

ACTS = ["tanh", {"name": "leaky_relu", "negative_slope": 0.2}, "gelu"]
EXTRA = {
    "task": "multiclass",
    "loss": "softmax_cross_entropy",
    "classes": ["cat", "dog", "emu"],
    "preprocessing": {"mean": [0.25, -1.5, 3.0], "std": [1.0, 2.0, 0.5], "features": ["a", "b"]},
    "metrics": {"accuracy": 0.975},
    "nested": [1, None, True, {"x": "y"}],
}


def make_model(backend="numpy", dtype="float32", seed=0) -> MLP:
    return MLP(3, [5, 4, 6], 3, activation=ACTS, seed=seed, backend=backend, dtype=dtype)


def assert_same_params(a: MLP, b: MLP) -> None:
    assert a.sizes == b.sizes
    assert [x.spec() for x in a.activations] == [x.spec() for x in b.activations]
    for (b1, W1), (b2, W2) in zip(a.numpy_params(), b.numpy_params(), strict=True):
        assert b1.dtype == b2.dtype and W1.dtype == W2.dtype
        # bitwise, not approximately
        assert b1.tobytes() == b2.tobytes() and W1.tobytes() == W2.tobytes()


# --- round trips -------------------------------------------------------------


def test_model_round_trip_is_exact(tmp_path, backend, dtype, rng):
    model = make_model(backend, dtype, seed=3)
    path = tmp_path / "model.safetensors"
    save_model(path, model, metadata=EXTRA)
    loaded, extra = load_model(path, backend=backend)
    assert extra == EXTRA
    assert loaded.backend.name == backend and loaded.backend.dtype == dtype
    assert_same_params(model, loaded)
    X = rng.normal(size=(17, 3))
    np.testing.assert_array_equal(to_numpy(model.predict(X)), to_numpy(loaded.predict(X)))
    # a file saved from any backend loads on NumPy with the same bits
    assert_same_params(model, load_model(path)[0])


def test_heaviside_surrogate_and_gates_round_trip(tmp_path):
    from mlplab import xor_network

    net = xor_network()
    save_model(tmp_path / "xor.safetensors", net)
    loaded, extra = load_model(tmp_path / "xor.safetensors")
    assert extra == {}
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    np.testing.assert_array_equal(loaded.predict(X)[:, 0], [0, 1, 1, 0])
    surrogate = MLP(
        2, [3], 1, activation={"name": "heaviside", "surrogate": "sigmoid", "slope": 7.5}
    )
    save_model(tmp_path / "s.safetensors", surrogate)
    assert load_model(tmp_path / "s.safetensors")[0].activations[0].spec() == {
        "name": "heaviside",
        "surrogate": "sigmoid",
        "slope": 7.5,
    }


def test_load_in_another_dtype(tmp_path):
    model = make_model(dtype="float64")
    save_model(tmp_path / "m.safetensors", model)
    loaded, _ = load_model(tmp_path / "m.safetensors", dtype="float32")
    assert loaded.backend.dtype == "float32"
    for (b1, W1), (b2, W2) in zip(model.numpy_params(), loaded.numpy_params(), strict=True):
        np.testing.assert_array_equal(W1.astype(np.float32), W2)
        np.testing.assert_array_equal(b1.astype(np.float32), b2)


OPTIMIZERS = [Adam(), SGD(momentum=0.9, nesterov=True), SGD()]
OPT_IDS = ["adam", "sgd-momentum", "sgd"]


def assert_same_state(state, state2) -> None:
    assert set(state2.opt_state) == set(state.opt_state)
    for name, layers in state.opt_state.items():
        for (b1, W1), (b2, W2) in zip(layers, state2.opt_state[name], strict=True):
            assert type(b2) is type(b1)
            assert to_numpy(b1).dtype == to_numpy(b2).dtype
            assert to_numpy(b1).tobytes() == to_numpy(b2).tobytes()
            assert to_numpy(W1).tobytes() == to_numpy(W2).tobytes()
    for f in dataclasses.fields(TrainState):
        if f.name != "opt_state":
            assert getattr(state2, f.name) == getattr(state, f.name)


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=OPT_IDS)
def test_checkpoint_round_trip_is_exact(tmp_path, backend, dtype, optimizer, rng):
    # three updates with random gradients (on NumPy, cheap), then moved to the backend
    host = make_model("numpy", dtype)
    params, opt_state = host.params, optimizer.init(host.params)
    for t in (1, 2, 3):
        grads = [(rng.normal(size=b.shape), rng.normal(size=W.shape)) for b, W in params]
        grads = [(b.astype(dtype), W.astype(dtype)) for b, W in grads]
        params, opt_state = optimizer.update(params, grads, opt_state, 0.01, t)
    model = make_model(backend, dtype)
    to_backend = model.backend.asarray
    params = [(to_backend(b), to_backend(W)) for b, W in params]
    opt_state = {k: [(to_backend(b), to_backend(W)) for b, W in v] for k, v in opt_state.items()}
    model.params = params
    state = TrainState(opt_state, step=3, epoch=1)
    state.batch_in_epoch = 2
    state.epoch_loss_sum, state.epoch_loss_weight = 0.1 + 0.2, 32.0  # a float that is not short
    config = {"optimizer": optimizer.name, "lr": 0.01, "batch_size": 16, "hidden": [5, 4, 6]}
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, model, state, config=config, extra={"classes": [0, 1, 2]})

    loaded, state2, config2, extra2 = load_checkpoint(path, backend=backend)
    assert config2 == config and extra2 == {"classes": [0, 1, 2]}
    assert loaded.backend.name == backend and loaded.backend.dtype == dtype
    assert_same_params(model, loaded)
    assert_same_state(state, state2)
    assert (
        len(state2.opt_state)
        == {"adam": 2, "sgd-momentum": 1, "sgd": 0}[OPT_IDS[OPTIMIZERS.index(optimizer)]]
    )


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=OPT_IDS)
def test_training_continues_exactly_from_a_checkpoint(tmp_path, optimizer, rng):
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 2] > 1)
    model = make_model(dtype="float64")
    common = dict(optimizer=optimizer, lr=0.01, batch_size=16, verbose=0, seed=1)
    state = fit(model, X, y, epochs=2, **common).state
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, model, state, config={})
    loaded, state2, _, _ = load_checkpoint(path)
    assert state2.step == 6 and state2.epoch == 2
    # continuing from the loaded checkpoint is continuing the original run, bit for bit
    fit(model, X, y, epochs=2, state=state, **common)
    fit(loaded, X, y, epochs=2, state=state2, **common)
    assert_same_params(model, loaded)


def test_training_continues_exactly_on_jax_and_torch(tmp_path, rng):
    X = rng.normal(size=(32, 3))
    y = (X[:, 0] > 0).astype(int)
    for backend in ("torch", "jax"):
        require_backend(backend)
        model = make_model(backend, "float32")
        common = dict(optimizer="adam", lr=0.01, verbose=0)
        state = fit(model, X, y, epochs=2, **common).state
        save_checkpoint(tmp_path / "c.safetensors", model, state, config={})
        loaded, state2, _, _ = load_checkpoint(tmp_path / "c.safetensors", backend=backend)
        fit(model, X, y, epochs=2, state=state, **common)
        fit(loaded, X, y, epochs=2, state=state2, **common)
        assert_same_params(model, loaded)


def test_load_model_reads_the_model_of_a_checkpoint(tmp_path):
    model = make_model()
    save_checkpoint(tmp_path / "c.safetensors", model, TrainState({}, 5, 1), config={"a": 1})
    loaded, extra = load_model(tmp_path / "c.safetensors")
    assert_same_params(model, loaded)
    assert extra == {}


def test_numpy_metadata_is_converted(tmp_path):
    meta = {"mean": np.array([1.5, 2.0]), "n": np.int64(3), "f": np.float32(0.5)}
    save_model(tmp_path / "m.safetensors", make_model(), metadata=meta)
    assert load_model(tmp_path / "m.safetensors")[1] == {"mean": [1.5, 2.0], "n": 3, "f": 0.5}


# --- what the file holds: safetensors, nothing executable --------------------


def test_file_is_header_plus_raw_tensor_bytes(tmp_path):
    model = make_model(dtype="float64")
    path = tmp_path / "m.safetensors"
    save_model(path, model, metadata=EXTRA)
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    meta = json.loads(header.pop("__metadata__")["mlplab"])
    assert meta["format"] == "mlplab-model" and meta["format_version"] == 1
    assert meta["sizes"] == [3, 5, 4, 6, 3] and meta["dtype"] == "float64"
    assert meta["activations"] == [a.spec() for a in model.activations]
    assert meta["extra"] == EXTRA
    expected = {}
    for i, (b, W) in enumerate(model.numpy_params()):
        expected[f"layers.{i}.b"], expected[f"layers.{i}.W"] = b, W
    assert set(header) == set(expected)
    # the rest of the file is exactly the raw little-endian tensor bytes, nothing else
    body = data[8 + n :]
    covered = 0
    for key, entry in header.items():
        start, end = entry["data_offsets"]
        assert entry["dtype"] == "F64" and entry["shape"] == list(expected[key].shape)
        assert body[start:end] == expected[key].astype("<f8").tobytes()
        covered += end - start
    assert covered == len(body)
    assert not data.startswith(b"\x80") and b"PK\x03\x04" not in data
    with pytest.raises(Exception):  # noqa: B017 - any unpickling error: it is no pickle
        pickle.loads(data)


def test_loading_never_unpickles(tmp_path, monkeypatch):
    save_checkpoint(tmp_path / "c.safetensors", make_model(), TrainState({}), config={})

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle used while loading")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    monkeypatch.setattr(np, "load", forbidden)
    load_model(tmp_path / "c.safetensors")
    load_checkpoint(tmp_path / "c.safetensors")


# --- saving refuses what it could not load back ------------------------------


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"x": float("nan")}, r"non-finite number nan at metadata\['x'\]"),
        ({"x": [1.0, float("inf")]}, r"non-finite number inf at metadata\['x'\]\[1\]"),
        ({"x": {1, 2}}, r"holds a set at metadata\['x'\], which JSON cannot store"),
        ({"x": object()}, r"holds a object at metadata\['x'\]"),
        ({1: "a"}, r"must have string keys to be saved as JSON; got key 1"),
        (["a"], r"`metadata` must be a dict; got list"),
    ],
)
def test_save_rejects_bad_metadata(tmp_path, metadata, message):
    path = tmp_path / "m.safetensors"
    with pytest.raises(ConfigError, match=message):
        save_model(path, make_model(), metadata=metadata)
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_save_rejects_non_finite_weights(tmp_path):
    model = make_model(dtype="float64")
    b, W = model.params[1]
    model.params[1] = (b, np.where(W > 0, np.nan, W))
    with pytest.raises(DataError, match=r"tensor 'layers.1.W' holds NaN or infinite values"):
        save_model(tmp_path / "m.safetensors", model)


def test_save_checkpoint_rejects_bad_state(tmp_path):
    model = make_model()
    with pytest.raises(ConfigError, match="`state` must be a TrainState; got dict"):
        save_checkpoint(tmp_path / "c", model, {"step": 1}, config={})
    with pytest.raises(ConfigError, match="optimizer states that are dicts"):
        save_checkpoint(tmp_path / "c", model, TrainState([1, 2]), config={})
    bad = TrainState({"m": Adam().init(model.params)["m"][:2]})
    with pytest.raises(ConfigError, match=r"one \(b, W\) pair per layer \(4\)"):
        save_checkpoint(tmp_path / "c", model, bad, config={})
    with pytest.raises(ConfigError, match=r"`config` holds the non-finite number nan"):
        save_checkpoint(tmp_path / "c", model, TrainState({}), config={"lr": float("nan")})


# --- every bad file gets its own clear ModelFileError -------------------------


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.safetensors"
    save_model(path, make_model(dtype="float64"), metadata={"task": "regression"})
    return path


def with_meta(path, change) -> bytes:
    """The file at ``path`` with its mlplab metadata dict changed by ``change(meta)``."""
    header, body = split(path.read_bytes())
    meta = json.loads(header["__metadata__"]["mlplab"])
    change(meta)
    header["__metadata__"]["mlplab"] = json.dumps(meta)
    return join(header, body)


def expect_error(tmp_path, data: bytes, message: str, loader=load_model):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    with pytest.raises(ModelFileError, match=message):
        loader(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ModelFileError, match=r"model file '.*nope.safetensors' does not exist"):
        load_model(tmp_path / "nope.safetensors")
    with pytest.raises(ModelFileError, match=r"is a directory; give the .safetensors file"):
        load_model(tmp_path)
    with pytest.raises(ModelFileError, match=r"`path` must be a file path"):
        load_model(None)


def test_empty_and_tiny_files(tmp_path):
    expect_error(tmp_path, b"", r"is empty \(0 bytes\)")
    expect_error(tmp_path, b"\x05\x00\x00", r"truncated or not a safetensors file: it has only 3")


def test_truncated_files(tmp_path, good_file):
    data = good_file.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    expect_error(tmp_path, data[:-1], r"is truncated: its header describes \d+ bytes of tensor")
    expect_error(tmp_path, data[: 8 + n + 10], r"is truncated: its header describes")
    expect_error(tmp_path, data[: 8 + n // 2], rf"header claims {n} bytes but only {n // 2} follow")


def test_oversized_header_is_refused_before_reading(tmp_path):
    # a sparse 300 MB file whose header claims 200 MB: refused from the first 8 bytes
    path = tmp_path / "huge.safetensors"
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", 200_000_000) + b"{")
        f.truncate(300_000_000)
    tracemalloc.start()
    with pytest.raises(ModelFileError, match=r"claims 200000000 bytes, more than the 100000000"):
        load_model(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1_000_000  # nothing of the file was read into memory
    assert MAX_HEADER_BYTES == 100_000_000
    expect_error(tmp_path, struct.pack("<Q", 2**63) + b"{}", r"claims 9223372036854775808 bytes")


def test_header_length_beyond_file(tmp_path, good_file):
    header, body = split(good_file.read_bytes())
    data = join(header, body)
    bigger = struct.pack("<Q", len(data)) + data[8:]
    expect_error(tmp_path, bigger, r"is truncated or not a safetensors file: its header claims")


def test_foreign_files(tmp_path):
    expect_error(
        tmp_path,
        pickle.dumps({"W": [1.0, 2.0]}, protocol=4),
        r"is not a safetensors file: it looks like a Python pickle.*never pickle",
    )
    zpath = tmp_path / "model.pt"
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"a": 1}))
    with pytest.raises(ModelFileError, match=r"it looks like a zip archive \(e.g. a torch.save"):
        load_model(zpath)
    expect_error(tmp_path, b"\x93NUMPY\x01\x00" + b"x" * 100, r"looks like a NumPy .npy file")
    expect_error(tmp_path, b"a,b,target\n1,2,3\n4,5,6\n", r"not a safetensors file")
    rng = np.random.default_rng(0)
    expect_error(tmp_path, rng.bytes(1000), r"not a safetensors file")
    # a header length that fits, but no JSON object after it
    expect_error(tmp_path, struct.pack("<Q", 4) + b"abcd", r"its header is not a JSON object")


def test_foreign_safetensors_file(tmp_path):
    plain = st_save({"weight": np.ones((2, 2), np.float32)})
    expect_error(tmp_path, plain, r"is a safetensors file but not an mlplab model.*tensors: weight")
    hf = st_save({"w": np.ones(3, np.float32)}, metadata={"format": "pt"})
    expect_error(tmp_path, hf, r"not an mlplab model: it has no 'mlplab' metadata")


def test_corrupted_json(tmp_path, good_file):
    data = bytearray(good_file.read_bytes())
    data[9] = ord("}")  # inside the header JSON
    expect_error(tmp_path, bytes(data), r"its safetensors header is not valid JSON")
    header, body = split(good_file.read_bytes())
    header["__metadata__"]["mlplab"] = '{"format": "mlplab-model",'
    expect_error(tmp_path, join(header, body), r"its mlplab metadata is not valid JSON")
    header["__metadata__"]["mlplab"] = '{"format": NaN}'
    expect_error(tmp_path, join(header, body), r"not valid JSON \(ValueError: non-finite number")
    header["__metadata__"]["mlplab"] = '{"extra": {"x": 1e400}}'
    expect_error(
        tmp_path, join(header, body), r"not valid JSON \(ValueError: non-finite number 1e400"
    )
    header["__metadata__"]["mlplab"] = '{"format": 1, "format": 2}'
    expect_error(tmp_path, join(header, body), r"duplicate key 'format'")
    header["__metadata__"]["mlplab"] = "[" * 100_000 + "]" * 100_000
    expect_error(tmp_path, join(header, body), r"its mlplab metadata is not valid JSON")
    header["__metadata__"]["mlplab"] = "[1, 2]"
    expect_error(tmp_path, join(header, body), r"its mlplab metadata is not a JSON object")
    header["__metadata__"] = {"mlplab": 5}
    expect_error(tmp_path, join(header, body), r"its __metadata__ is not a str -> str map")


def test_corrupted_tensor_values(tmp_path, good_file):
    header, body = split(good_file.read_bytes())
    start, _ = header["layers.1.W"]["data_offsets"]
    body = bytearray(body)
    body[start : start + 8] = np.array([np.nan]).tobytes()
    expect_error(tmp_path, join(header, bytes(body)), r"tensor 'layers.1.W' holds NaN or infinite")
    header["layers.0.b"]["data_offsets"][1] += 8  # offsets that overlap the next tensor
    expect_error(
        tmp_path, join(header, bytes(body)), r"is corrupted: tensor 'layers.0.b' declares 48 bytes"
    )


def test_newer_format_version(tmp_path, good_file):
    data = with_meta(good_file, lambda m: m.update(format_version=2))
    expect_error(
        tmp_path,
        data,
        r"written by a newer mlplab \(file format version 2; this mlplab reads version 1\)\. "
        r"Upgrade mlplab",
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(format="keras"), r"`format` must be 'mlplab-model' or"),
        (lambda m: m.update(format_version="1"), r"`format_version` must be an integer >= 1"),
        (lambda m: m.update(format_version=0), r"`format_version` must be an integer >= 1"),
        (lambda m: m.update(sizes=[3]), r"`sizes` must list at least 2 integers >= 1"),
        (lambda m: m.update(sizes=[3, 0, 4, 6, 3]), r"`sizes` must list"),
        (lambda m: m.update(sizes=[3, 5.0, 4, 6, 3]), r"`sizes` must list"),
        (lambda m: m.update(sizes=[3, 5, 4, 7, 3]), r"'layers.2.[bW]' has shape \[6.*; the arch"),
        (lambda m: m.update(sizes=[3, 5, 4, 6]), r"`activations` must list 3 activations"),
        (lambda m: m["activations"].__setitem__(1, "relu"), r"activation 1 must be a dict"),
        (
            lambda m: m["activations"].__setitem__(2, {"name": "swish"}),
            r"layer 2 has a bad activation: unknown activation 'swish'",
        ),
        (
            lambda m: m["activations"].__setitem__(1, {"name": "leaky_relu", "slope": 2}),
            r"layer 1 has a bad activation: bad settings",
        ),
        (
            lambda m: m["activations"].__setitem__(1, {"name": "leaky_relu", "negative_slope": -1}),
            r"layer 1 has a bad activation: `negative_slope` must be >= 0",
        ),
        (lambda m: m.update(dtype="float16"), r"`dtype` must be one of float32, float64"),
        (lambda m: m.update(dtype="float32"), r"has dtype 'F64'; the metadata says float32"),
        (lambda m: m.update(extra=[1]), r"`extra` must be a JSON object"),
        (lambda m: m.update(mlplab_version=1), r"`mlplab_version` must be a string"),
    ],
)
def test_invalid_metadata(tmp_path, good_file, change, message):
    expect_error(tmp_path, with_meta(good_file, change), message)


def test_missing_and_extra_tensors(tmp_path, good_file):
    header, body = split(good_file.read_bytes())
    meta = header.pop("__metadata__")
    tensors = {k: np.zeros(v["shape"]) for k, v in header.items()}
    extra = st_save({**tensors, "layers.9.W": np.zeros((2, 2))}, metadata=meta)
    expect_error(tmp_path, extra, r"has tensors its architecture does not use: \['layers.9.W'\]")
    del tensors["layers.3.b"]
    expect_error(tmp_path, st_save(tensors, metadata=meta), r"missing tensors .*'layers.3.b'")


def test_checkpoint_errors(tmp_path, good_file):
    with pytest.raises(ModelFileError, match=r"is an mlplab model file, not a checkpoint"):
        load_checkpoint(good_file)
    model = make_model()
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model, TrainState(Adam().init(model.params), 4, 1), config={})

    def variant(change):
        return with_meta(path, change)

    expect_error(
        tmp_path,
        variant(lambda m: m["train_state"].update(lookahead=3)),
        r"fields \['lookahead'\] this mlplab does not know; .* Upgrade mlplab",
        load_checkpoint,
    )
    expect_error(
        tmp_path,
        variant(lambda m: m["train_state"].update(step=-1)),
        r"training state field 'step' must be an integer >= 0; got -1",
        load_checkpoint,
    )
    expect_error(
        tmp_path,
        variant(lambda m: m["train_state"].update(epoch_loss_weight=-2.0)),
        r"training state field 'epoch_loss_weight' must be a finite number >= 0; got -2.0",
        load_checkpoint,
    )
    expect_error(
        tmp_path,
        variant(lambda m: m["train_state"].update(epoch_loss_sum=10**400)),
        r"training state field .epoch_loss_sum. must be a finite number; got 1000+[.]{4}$",
        load_checkpoint,
    )
    expect_error(
        tmp_path,
        variant(lambda m: m["train_state"].update(epoch_loss_sum="1.5")),
        r"training state field 'epoch_loss_sum' must be a finite number; got '1.5'",
        load_checkpoint,
    )
    expect_error(
        tmp_path,
        variant(lambda m: m.update(optimizer_state=["m", "m"])),
        r"`optimizer_state` must list distinct names",
        load_checkpoint,
    )
    expect_error(
        tmp_path,
        variant(lambda m: m.update(optimizer_state=["m"])),
        r"has tensors its architecture does not use: \['opt.v.0.W'",
        load_checkpoint,
    )
    expect_error(
        tmp_path,
        variant(lambda m: m.update(config="lr=1")),
        r"`config` must be a JSON object",
        load_checkpoint,
    )


def test_header_length_that_looks_like_a_pickle_still_loads(tmp_path, good_file):
    # e.g. 640 = 0x0280: the file starts with 0x80 0x02, a pickle's protocol-2 marker
    header, body = split(good_file.read_bytes())
    raw = json.dumps(header).encode()
    n = min(k * 256 + 0x80 for k in (2, 3, 4, 5) if k * 256 + 0x80 >= len(raw))
    data = struct.pack("<Q", n) + raw.ljust(n) + body
    assert data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
    path = tmp_path / "m.safetensors"
    path.write_bytes(data)
    assert_same_params(load_model(good_file)[0], load_model(path)[0])
