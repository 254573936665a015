"""Built-in data sets, splitting and preprocessing, checked against their sources."""

from __future__ import annotations

import json
import random
import socket

import numpy as np
import pytest
import sklearn.datasets
from sklearn.preprocessing import StandardScaler

from mlplab.data import (
    DATASETS,
    Dataset,
    Preprocessor,
    Standardizer,
    cubic,
    load_dataset,
    train_test_split,
)

# name → (n_samples, n_features, task, n_classes)
EXPECTED = {
    "xor": (4, 2, "binary", 2),
    "and": (4, 2, "binary", 2),
    "or": (4, 2, "binary", 2),
    "moons": (200, 2, "binary", 2),
    "circles": (200, 2, "binary", 2),
    "spirals": (300, 2, "binary", 2),
    "blobs": (300, 2, "multiclass", 3),
    "sine": (200, 1, "regression", None),
    "cubic": (8, 1, "regression", None),
    "digits": (1797, 64, "multiclass", 10),
    "mnist1d": (4000, 40, "multiclass", 10),
    "iris": (150, 4, "multiclass", 3),
    "wine": (178, 13, "multiclass", 3),
    "breast-cancer": (569, 30, "binary", 2),
    "diabetes": (442, 10, "regression", None),
}


def test_expected_table_covers_every_dataset():
    assert set(EXPECTED) == set(DATASETS)


@pytest.mark.parametrize("name", DATASETS)
def test_every_dataset_loads_with_the_right_shapes(name):
    n, d, task, k = EXPECTED[name]
    ds = load_dataset(name)
    assert isinstance(ds, Dataset) and ds.name == name
    assert ds.X.shape == (n, d) and ds.X.dtype == np.float64
    assert len(ds.feature_names) == d
    assert ds.task == task and ds.n_classes == k
    assert np.all(np.isfinite(ds.X))
    if k is None:
        assert ds.classes is None and ds.y.dtype == np.float64 and ds.y.shape == (n,)
        assert ds.n_outputs == 1
    else:
        assert ds.y.dtype == np.int64 and ds.y.shape == (n,)
        assert set(np.unique(ds.y).tolist()) == set(range(k))  # every class present
        json.dumps(ds.classes)  # JSON-able
        assert ds.n_outputs == (1 if k == 2 else k)
    assert name in ds.describe() and str(n) in ds.describe()


@pytest.mark.parametrize("name", ["xor", "and", "or"])
def test_gates_are_the_truth_tables(name):
    ds = load_dataset(name)
    op = {"xor": lambda a, b: a ^ b, "and": lambda a, b: a & b, "or": lambda a, b: a | b}[name]
    assert ds.X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert ds.y.tolist() == [op(int(a), int(b)) for a, b in ds.X]


def test_noisy_xor_keeps_labels_of_the_nearest_corner():
    ds = load_dataset("xor", n_samples=400, noise=0.1, seed=3)
    assert ds.X.shape == (400, 2) and np.bincount(ds.y).tolist() == [200, 200]
    corner = np.round(ds.X).clip(0, 1).astype(int)
    assert np.mean((corner[:, 0] ^ corner[:, 1]) == ds.y) > 0.99


def test_cubic_is_the_lecture_samples():
    ds = load_dataset("cubic")
    np.testing.assert_allclose(ds.X[:, 0], [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75])
    x = ds.X[:, 0]
    np.testing.assert_allclose(ds.y, x**3 - 2 * x**2 - x + 2)
    assert ds.y[0] == 2.0 and ds.y[4] == 0.0 and ds.y[2] == 1.125
    assert cubic([-1.0, 1.0, 2.0]).tolist() == [0.0, 0.0, 0.0]  # the roots
    assert load_dataset("cubic", n_samples=50).X.shape == (50, 1)


def test_sine_without_noise_is_sin():
    ds = load_dataset("sine", noise=0.0, n_samples=64, seed=1)
    np.testing.assert_allclose(ds.y, np.sin(ds.X[:, 0]))
    assert ds.X.min() >= -np.pi and ds.X.max() <= np.pi
    assert np.all(np.diff(ds.X[:, 0]) >= 0)


def test_spirals_arms_alternate_and_stay_in_the_unit_disc():
    ds = load_dataset("spirals", noise=0.0, n_samples=100)
    r = np.hypot(ds.X[:, 0], ds.X[:, 1])
    assert np.all((r >= 0.05 - 1e-12) & (r <= 1 + 1e-12))
    # arm 1 is arm 0 rotated by π: angle − 3πr − π·label ≡ 0 (mod 2π)
    ang = np.arctan2(ds.X[:, 1], ds.X[:, 0]) - 3 * np.pi * r - np.pi * ds.y
    np.testing.assert_allclose(np.cos(ang), 1.0, atol=1e-9)


@pytest.mark.parametrize("name", ["moons", "circles", "spirals", "blobs", "sine"])
def test_generated_sets_are_seeded(name):
    a, b = load_dataset(name, seed=5), load_dataset(name, seed=5)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.X, load_dataset(name, seed=6).X)
    assert load_dataset(name, n_samples=40, seed=5).X.shape[0] == 40


def test_moons_match_sklearn():
    X, y = sklearn.datasets.make_moons(n_samples=120, noise=0.3, random_state=4)
    ds = load_dataset("moons", n_samples=120, noise=0.3, seed=4)
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.y, y)


@pytest.mark.parametrize(
    ("name", "loader"),
    [
        ("digits", "load_digits"),
        ("iris", "load_iris"),
        ("wine", "load_wine"),
        ("breast-cancer", "load_breast_cancer"),
        ("diabetes", "load_diabetes"),
    ],
)
def test_bundled_sets_are_sklearns(name, loader):
    bunch = getattr(sklearn.datasets, loader)()
    ds = load_dataset(name)
    np.testing.assert_array_equal(ds.X, bunch.data)
    np.testing.assert_array_equal(ds.y, bunch.target)
    if name in ("iris", "wine", "breast-cancer"):
        assert ds.classes == list(bunch.target_names)


def test_mnist1d_is_generated_locally_and_matches_the_package(tmp_path, monkeypatch):
    from mnist1d.data import get_dataset_args, make_dataset

    def no_network(*args, **kwargs):
        raise AssertionError("mnist1d tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.chdir(tmp_path)
    np.random.seed(123)  # noqa: NPY002 - the global state must survive the generator
    random.seed(123)
    before = (np.random.random(), random.random())  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    random.seed(123)
    ds = load_dataset("mnist1d")
    after = (np.random.random(), random.random())  # noqa: NPY002
    assert before == after
    assert list(tmp_path.iterdir()) == []  # nothing written (no pickle cache)

    assert ds.X.shape == (4000, 40) and ds.X_test.shape == (1000, 40)
    assert ds.y.shape == (4000,) and ds.y_test.shape == (1000,)
    assert ds.classes == list(range(10)) and ds.task == "multiclass"
    ref = make_dataset(get_dataset_args())
    np.testing.assert_array_equal(ds.X, ref["x"])
    np.testing.assert_array_equal(ds.y_test, ref["y_test"])
    assert np.bincount(ds.y, minlength=10).min() > 300
    # callers get their own copies
    ds.X[:] = 0
    assert load_dataset("mnist1d").X.std() > 0.5


def test_mnist1d_n_samples_keeps_the_80_20_split():
    ds = load_dataset("mnist1d", n_samples=200)
    assert ds.X.shape == (160, 40) and ds.X_test.shape == (40, 40)
    assert set(ds.y.tolist()) | set(ds.y_test.tolist()) == set(range(10))


def test_train_test_split_is_seeded_disjoint_and_complete():
    X = np.arange(40, dtype=float).reshape(20, 2)
    y = np.arange(20)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, seed=1)
    assert len(Xte) == 5 and len(Xtr) == 15
    assert sorted(ytr.tolist() + yte.tolist()) == list(range(20))
    np.testing.assert_array_equal(Xte[:, 0], 2 * yte)  # rows stay with their labels
    again = train_test_split(X, y, test_size=0.25, seed=1)
    np.testing.assert_array_equal(again[3], yte)
    assert not np.array_equal(train_test_split(X, y, test_size=0.25, seed=2)[3], yte)
    assert len(train_test_split(X, y, test_size=3)[1]) == 3


def test_stratified_split_keeps_class_proportions():
    ds = load_dataset("digits")
    Xtr, Xte, ytr, yte = train_test_split(ds.X, ds.y, test_size=0.25, seed=0, stratify=ds.y)
    assert len(yte) == round(0.25 * len(ds.y))
    quota = 0.25 * np.bincount(ds.y)
    assert np.all(np.abs(np.bincount(yte, minlength=10) - quota) < 1)
    assert len(ytr) + len(yte) == len(ds.y)


def test_standardizer_matches_sklearn_and_round_trips(rng):
    X = rng.normal(3.0, 2.0, size=(50, 4))
    X[:, 2] = 7.0  # constant column
    s = Standardizer().fit(X)
    ref = StandardScaler().fit(X)
    np.testing.assert_allclose(s.transform(X), ref.transform(X), atol=1e-12)
    assert s.scale[2] == 1.0 and np.all(s.transform(X)[:, 2] == 0)
    np.testing.assert_allclose(s.inverse_transform(s.transform(X)), X, atol=1e-12)
    s2 = Standardizer.from_dict(json.loads(json.dumps(s.to_dict())))
    np.testing.assert_array_equal(s2.transform(X), s.transform(X))


def test_preprocessor_round_trips_through_json_for_builtin_sets():
    ds = load_dataset("diabetes")
    p = Preprocessor().fit(ds)
    Z = p.transform(ds.X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1, atol=1e-12)
    q = Preprocessor.from_dict(json.loads(json.dumps(p.to_dict())))
    np.testing.assert_array_equal(q.transform(ds.X), Z)
    np.testing.assert_array_equal(q.apply(ds.X.tolist()), Z)
    zt = q.transform_target(ds.y)
    assert abs(zt.mean()) < 1e-12 and abs(zt.std() - 1) < 1e-12
    np.testing.assert_allclose(q.inverse_transform_target(zt), ds.y)


def test_preprocessor_without_standardisation_is_identity():
    ds = load_dataset("xor")
    p = Preprocessor(standardize=False).fit(ds)
    np.testing.assert_array_equal(p.transform(ds.X), ds.X)
    assert p.decode_labels([1, 0]) == [1, 0]
    np.testing.assert_array_equal(p.transform_target(ds.y), ds.y)
