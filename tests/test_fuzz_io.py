"""Fuzzing the model-file loader: a mutated file gives a ModelFileError or a valid model.

Hypothesis mutates valid model and checkpoint files: flips bytes, truncates,
rewrites the header length, splices random JSON into the header and the
mlplab metadata, inserts bytes. Checkpoints written by ``mlplab train`` are also
resumed with crafted fields (outputs, history, train state, config): a clear
one-line error or a finished run, and nothing written outside their folder.
Whatever comes out of a load must be mlplab's own :class:`ModelFileError` or a
successful load of a well-formed model. Bounded by ``max_examples`` to a few
seconds (``MLPLAB_FUZZ_EXAMPLES`` raises it); ``tests/fuzz/fuzz_load.py`` runs
the same checks under atheris, coverage-guided.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import struct

import numpy as np
import pytest
from filebytes import join, split
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlplab import MLP, ModelFileError, TrainState
from mlplab.files.checkpoint import load_checkpoint, save_checkpoint
from mlplab.files.model import load_model, save_model
from mlplab.nn.optim import Adam

FUZZ = settings(
    # a few seconds in CI; MLPLAB_FUZZ_EXAMPLES=5000 for a longer hunt
    max_examples=int(os.environ.get("MLPLAB_FUZZ_EXAMPLES", "120")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The bytes of a valid model file and a valid checkpoint, and a scratch path."""
    folder = tmp_path_factory.mktemp("fuzz")
    model = MLP(3, [4, 2], 2, activation=["tanh", {"name": "leaky_relu", "negative_slope": 0.1}])
    save_model(folder / "m.safetensors", model, metadata={"classes": ["a", "b"], "mean": [0.5]})
    save_checkpoint(
        folder / "c.safetensors",
        model,
        TrainState(Adam().init(model.params), step=7, epoch=2),
        config={"lr": 0.01},
    )
    return {
        "model": (folder / "m.safetensors").read_bytes(),
        "checkpoint": (folder / "c.safetensors").read_bytes(),
        "scratch": folder / "fuzzed.safetensors",
    }


def check(files, data: bytes) -> None:
    """Load ``data`` both ways; only ModelFileError or a well-formed result may come out."""
    path = files["scratch"]
    path.write_bytes(data)
    try:
        model, extra = load_model(path)
    except ModelFileError as err:
        assert str(err)  # a message, always
    else:
        assert isinstance(extra, dict)
        assert_well_formed(model)
    try:
        model, state, config, extra = load_checkpoint(path)
    except ModelFileError as err:
        assert str(err)
    else:
        assert_well_formed(model)
        assert isinstance(config, dict) and isinstance(extra, dict)
        assert isinstance(state.step, int) and state.step >= 0
        for layers in state.opt_state.values():
            for (b, W), shapes in zip(layers, model.shapes, strict=True):
                assert (b.shape, W.shape) == shapes


def assert_well_formed(model: MLP) -> None:
    assert all(s >= 1 for s in model.sizes)
    assert model.shapes == [(b.shape, W.shape) for b, W in model.params]
    for b, W in model.numpy_params():
        assert np.all(np.isfinite(b)) and np.all(np.isfinite(W))
    out = model(np.zeros((2, model.n_inputs)))
    assert out.shape == (2, model.n_outputs)


kinds = st.sampled_from(["model", "checkpoint"])
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=8,
)


@FUZZ
@given(
    kind=kinds,
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_flipped_bytes(files, kind, flips):
    data = bytearray(files[kind])
    for pos, value in flips:
        data[pos % len(data)] = value
    check(files, bytes(data))


@FUZZ
@given(kind=kinds, cut=st.integers(0, 10**6), extra=st.binary(max_size=16))
def test_truncated_or_extended(files, kind, cut, extra):
    data = files[kind]
    check(files, data[: cut % len(data)])
    check(files, data + extra)


@FUZZ
@given(
    kind=kinds,
    length=st.integers(0, 2**64 - 1) | st.integers(-64, 64),
)
def test_header_length(files, kind, length):
    data = files[kind]
    n = struct.unpack("<Q", data[:8])[0]
    new = length if length > 64 else max(0, n + length)
    check(files, struct.pack("<Q", new % 2**64) + data[8:])


def _paths(obj, prefix=()):
    """Every path to a value inside nested dicts and lists."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


def _replace(obj, path, value, delete: bool):
    if not path:
        return value
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return obj


@FUZZ
@given(
    kind=kinds,
    where=st.sampled_from(["header", "mlplab"]),
    pick=st.integers(0, 10**6),
    value=json_values,
    delete=st.booleans(),
)
def test_spliced_json(files, kind, where, pick, value, delete):
    header, body = split(files[kind])
    if where == "header":
        paths = [p for p in _paths(header) if p[:1] != ("__metadata__",)]
        path = paths[pick % len(paths)]
        header = _replace(header, path, value, delete and bool(path))
    else:
        meta = json.loads(header["__metadata__"]["mlplab"])
        paths = list(_paths(meta))
        path = paths[pick % len(paths)]
        meta = _replace(meta, path, value, delete and bool(path))
        header["__metadata__"]["mlplab"] = json.dumps(meta)
    check(files, join(header, body))


@FUZZ
@given(
    kind=kinds,
    pos=st.integers(0, 10**6),
    junk=st.binary(min_size=1, max_size=32),
    fix=st.booleans(),
)
def test_inserted_bytes_in_header(files, kind, pos, junk, fix):
    data = files[kind]
    n = struct.unpack("<Q", data[:8])[0]
    at = 8 + pos % n
    raw = data[8:at] + junk + data[at : 8 + n]
    length = len(raw) if fix else n
    check(files, struct.pack("<Q", length) + raw + data[8 + n :])


@FUZZ
@given(data=st.binary(max_size=256))
def test_random_bytes(files, data):
    check(files, data)


# --- checkpoints as `mlplab train --resume` reads them (issue 14) ------------------------


@pytest.fixture(scope="module")
def train_checkpoint(tmp_path_factory):
    """The bytes of a checkpoint written by `mlplab train` (stopped after one step)."""
    from mlplab.cli import _interrupt
    from mlplab.cli.main import main

    folder = tmp_path_factory.mktemp("resume")
    argv = ["train", "xor", "--hidden", "4", "--epochs", "3", "--verbose", "0", "--no-plots"]
    real = _interrupt.StopSignals.requested
    _interrupt.StopSignals.requested = lambda self: True
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            rc = main([*argv, "--out", str(folder / "m.safetensors")])
    finally:
        _interrupt.StopSignals.requested = real
    assert rc == 130
    return (folder / "m.ckpt.safetensors").read_bytes()


def resume(folder, data: bytes) -> tuple[int, str]:
    """`mlplab train --resume` on ``data`` inside ``folder``: (exit status, stderr)."""
    from mlplab.cli.main import main

    for p in folder.iterdir():
        p.unlink()
    path = folder / "c.safetensors"
    path.write_bytes(data)
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        rc = main(["train", "--resume", str(path)])
    return rc, err.getvalue()


@FUZZ
@given(
    field=st.sampled_from(["extra", "config", "train_state", "any"]),
    pick=st.integers(0, 10**6),
    value=json_values | st.text(max_size=40) | st.sampled_from(["/etc/passwd", "../x", ".."]),
    delete=st.booleans(),
)
def test_resume_of_a_crafted_checkpoint(train_checkpoint, tmp_path_factory, field, pick, value,
                                        delete):  # fmt: skip
    # Whatever the checkpoint holds: a clear error (exit 2) or a finished run (exit 0),
    # and nothing written outside the checkpoint's folder.
    header, body = split(train_checkpoint)
    meta = json.loads(header["__metadata__"]["mlplab"])
    root = meta if field == "any" else meta[field]
    paths = list(_paths(root))
    path = paths[pick % len(paths)]
    root = _replace(root, path, value, delete and bool(path))
    if field != "any":
        meta[field] = root
    else:
        meta = root
    header["__metadata__"]["mlplab"] = json.dumps(meta)
    base = tmp_path_factory.getbasetemp() / "resume-fuzz"
    folder = base / "run"
    folder.mkdir(parents=True, exist_ok=True)
    before = sorted(p.relative_to(base) for p in base.rglob("*"))
    rc, err = resume(folder, join(header, body))
    assert rc in (0, 2), err
    assert "internal error" not in err and "Traceback" not in err
    if rc == 2:
        assert err.startswith("mlplab: error: ") and err.count("\n") == 1, err
    outside = sorted(p.relative_to(base) for p in base.rglob("*") if folder not in p.parents)
    assert outside == [p for p in before if folder not in (base / p).parents], outside
