"""Good CSV files load correctly: delimiters, BOM, one-hot, missing values, tasks, prediction."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from mlplab.data import (
    Preprocessor,
    csv_columns,
    load_csv,
    load_csv_for_prediction,
    load_dataset,
)
from mlplab.errors import DataError, ModelFileError


def write(tmp_path, text: str, name: str = "data.csv", *, bom: bool = False, newline="\n"):
    path = tmp_path / name
    data = text.replace("\n", newline).encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


GOOD = "x1,x2,label\n0,0,no\n0,1,yes\n1,0,yes\n1,1,no\n"


def test_basic_csv(tmp_path):
    ds = load_csv(write(tmp_path, GOOD), "label")
    assert ds.X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and ds.X.dtype == np.float64
    assert ds.y.tolist() == [0, 1, 1, 0] and ds.y.dtype == np.int64
    assert ds.classes == ["no", "yes"] and ds.task == "binary"
    assert ds.feature_names == ["x1", "x2"] and ds.target_name == "label"
    assert ds.name == "data" and ds.categories == {} and ds.impute is None


def test_target_column_can_be_anywhere(tmp_path):
    ds = load_csv(write(tmp_path, "label,x1,x2\nno,0,0\nyes,0,1\nyes,1,0\n"), "label")
    assert ds.feature_names == ["x1", "x2"] and ds.y.tolist() == [0, 1, 1]


def test_utf8_bom_is_transparent(tmp_path):
    plain = load_csv(write(tmp_path, GOOD), "label")
    bom = load_csv(write(tmp_path, GOOD, "bom.csv", bom=True), "label")
    assert bom.feature_names == ["x1", "x2"]  # not "\ufeffx1"
    np.testing.assert_array_equal(bom.X, plain.X)
    np.testing.assert_array_equal(bom.y, plain.y)


@pytest.mark.parametrize("delim", [";", "\t", "|"])
def test_other_delimiters_are_detected(tmp_path, delim):
    ds = load_csv(write(tmp_path, GOOD.replace(",", delim)), "label")
    assert ds.X.shape == (4, 2) and ds.y.tolist() == [0, 1, 1, 0]


def test_semicolon_with_decimal_commas_in_text_column_is_detected(tmp_path):
    # ';' splits every line into 3 fields; ',' would split inconsistently.
    text = "name;x;label\n'a,b';1;0\n'c';2;1\n'd,e';3;1\n"
    ds = load_csv(write(tmp_path, text), "label", one_hot=True)
    assert ds.columns == ["name", "x"] and ds.categories["name"] == ["'a,b'", "'c'", "'d,e'"]


def test_explicit_delimiter(tmp_path):
    ds = load_csv(write(tmp_path, GOOD.replace(",", ":")), "label", delimiter=":")
    assert ds.X.shape == (4, 2)


def test_quotes_whitespace_crlf_and_blank_lines(tmp_path):
    text = ' "x 1" , x2 ,label\n "1,5" ,2, a \n\n3,4,b\n\n'
    ds = load_csv(write(tmp_path, text.replace('"1,5"', '"1.5"'), newline="\r\n"), "label")
    assert ds.feature_names == ["x 1", "x2"]
    assert ds.X.tolist() == [[1.5, 2.0], [3.0, 4.0]] and ds.classes == ["a", "b"]


def test_csv_written_by_the_csv_module_round_trips(tmp_path, rng):
    X = rng.normal(size=(30, 3))
    y = (X[:, 0] > 0).astype(int)
    path = tmp_path / "w.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "b", "c", "target"])
        w.writerows([[*map(repr, row), int(t)] for row, t in zip(X.tolist(), y, strict=True)])
    ds = load_csv(path, "target")
    np.testing.assert_array_equal(ds.X, X)  # repr round-trips floats exactly
    np.testing.assert_array_equal(ds.y, y)


def test_one_hot_expands_categories_in_place(tmp_path):
    text = "size,color,w,label\n1,red,0.5,a\n2,blue,0.1,b\n3,red,0.2,a\n4,green,0.3,b\n"
    ds = load_csv(write(tmp_path, text), "label", one_hot=True)
    assert ds.feature_names == ["size", "color=blue", "color=green", "color=red", "w"]
    assert ds.categories == {"color": ["blue", "green", "red"]}
    assert ds.columns == ["size", "color", "w"]
    np.testing.assert_array_equal(ds.X[:, 1:4], [[0, 0, 1], [1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert np.all(ds.X[:, 1:4].sum(axis=1) == 1)


def test_drop_missing_drops_exactly_the_bad_rows(tmp_path):
    text = "a,b,label\n1,2,x\n,3,y\n4,nan,x\n5,inf,y\n6,7,y\n8,9,NA\n"
    ds = load_csv(write(tmp_path, text), "label", drop_missing=True)
    assert ds.X.tolist() == [[1, 2], [6, 7]] and ds.y.tolist() == [0, 1]


def test_impute_mean_fills_with_the_column_mean(tmp_path):
    text = "a,b,label\n1,2,x\n,4,y\n3,-inf,x\n5,N/A,y\n"
    ds = load_csv(write(tmp_path, text), "label", impute="mean")
    assert ds.X[:, 0].tolist() == [1, 3, 3, 5]  # mean of 1, 3, 5
    assert ds.X[:, 1].tolist() == [2, 4, 3, 3]  # mean of 2, 4
    assert ds.impute == "mean"


def test_impute_leaves_missing_category_as_all_zero(tmp_path):
    text = "c,v,label\nred,1,x\n,2,y\nblue,3,x\n"
    ds = load_csv(write(tmp_path, text), "label", one_hot=True, impute="mean")
    assert ds.X[:, :2].tolist() == [[0, 1], [0, 0], [1, 0]]


@pytest.mark.parametrize(
    ("values", "task", "classes", "labels"),
    [
        (["0", "1", "0", "1"], "binary", [0, 1], [0, 1, 0, 1]),
        (["3", "1", "2", "2", "1", "3"], "multiclass", [1, 2, 3], [3, 1, 2, 2, 1, 3]),
        (["3", "1", "2", "5"], "regression", None, None),  # all distinct: not labels
        (["1.0", "0.0", "1.0", "0.0"], "binary", [0, 1], [1, 0, 1, 0]),
        (
            ["true", "false", "true", "true"],
            "binary",
            ["false", "true"],
            ["true", "false", "true", "true"],
        ),
        (["0.5", "1.25", "3", "4"], "regression", None, None),
    ],
)
def test_task_is_inferred_from_the_target(tmp_path, values, task, classes, labels):
    text = "x,t\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values))
    ds = load_csv(write(tmp_path, text), "t")
    assert ds.task == task and ds.classes == classes
    if classes is None:
        assert ds.y.tolist() == [float(v) for v in values]
    else:
        assert [ds.classes[i] for i in ds.y] == labels


def test_many_integer_values_are_regression_and_task_overrides(tmp_path):
    text = "x,t\n" + "".join(f"{i},{i * 7}\n" for i in range(30))
    path = write(tmp_path, text)
    assert load_csv(path, "t").task == "regression"
    forced = load_csv(path, "t", task="classification")
    assert forced.task == "multiclass" and forced.n_classes == 30
    small = write(tmp_path, "x,t\n1,0\n2,1\n3,1\n", "small.csv")
    reg = load_csv(small, "t", task="regression")
    assert reg.task == "regression" and reg.y.dtype == np.float64 and reg.y.tolist() == [0, 1, 1]


def test_several_regression_targets(tmp_path):
    text = "x,u,v\n1,2,3\n4,5,6\n"
    ds = load_csv(write(tmp_path, text), ["u", "v"])
    assert ds.task == "regression" and ds.y.shape == (2, 2) and ds.target_name == "u,v"
    assert ds.y.tolist() == [[2, 3], [5, 6]] and ds.n_outputs == 2
    assert ds.targets == ["u", "v"]
    # a Dataset built by hand names several targets in target_name, comma-joined
    from mlplab.data import Dataset

    by_hand = Dataset(ds.X, ds.y, "regression", ["x"], target_name="u,v")
    assert by_hand.targets == ["u", "v"]
    assert Preprocessor().fit(by_hand).targets == ["u", "v"]
    with pytest.raises(DataError, match=r"2 target column\(s\) in y but 1 target names"):
        Dataset(ds.X, ds.y, "regression", ["x"], targets=["u"])
    meta = Preprocessor().fit(ds).to_dict()
    meta["targets"] = ["u"]
    with pytest.raises(ModelFileError, match=r"names 1 target\(s\) \['u'\] for 2 target value"):
        Preprocessor.from_dict(meta)


def test_prediction_csv_goes_through_the_saved_preprocessor(tmp_path):
    train = "size,color,label\n1,red,a\n2,blue,b\n3,red,a\n4,green,b\n"
    ds = load_csv(write(tmp_path, train), "label", one_hot=True)
    p = Preprocessor().fit(ds)
    meta = json.loads(json.dumps(p.to_dict()))  # what the model file stores
    q = Preprocessor.from_dict(meta)
    # columns in another order, target present: X and y come back
    X, y = load_csv_for_prediction(write(tmp_path, "label,color,size\nb,blue,2\na,red,3\n"), q)
    np.testing.assert_allclose(X, p.transform(ds.X[[1, 2]]))
    assert y.tolist() == [1, 0]
    # one-hot columns stay 0/1, the numeric column is standardised
    assert X[:, 1:].tolist() == [[1, 0, 0], [0, 0, 1]]
    mu, sd = 2.5, np.std([1, 2, 3, 4])
    np.testing.assert_allclose(X[:, 0], [(2 - mu) / sd, (3 - mu) / sd])
    # without the target: y is None
    X2, y2 = load_csv_for_prediction(write(tmp_path, "size,color\n2,blue\n", "p.csv"), q)
    assert y2 is None and X2.shape == (1, 4)
    # raw rows give the same inputs as the CSV
    np.testing.assert_allclose(q.apply([["2", "blue"], ["3", "red"]]), X)
    np.testing.assert_allclose(q.apply([{"size": 2, "color": "blue"}]), X[:1])
    assert q.decode_labels(y) == ["b", "a"]


def test_prediction_imputes_with_training_means(tmp_path):
    ds = load_csv(write(tmp_path, "a,b,t\n1,10,0\n3,,1\n5,30,1\n"), "t", impute="mean")
    p = Preprocessor.from_dict(Preprocessor().fit(ds).to_dict())
    X, _ = load_csv_for_prediction(write(tmp_path, "a,b\n,20\n", "p.csv"), p)
    np.testing.assert_allclose(X, [[0.0, 0.0]], atol=1e-12)  # means standardise to 0


def test_prediction_csv_for_regression_returns_target_units(tmp_path):
    ds = load_dataset("cubic")
    p = Preprocessor().fit(ds)
    path = write(tmp_path, "x,y\n0.5,1.125\n2,0\n")
    X, y = load_csv_for_prediction(path, p)
    assert y.tolist() == [1.125, 0.0]
    np.testing.assert_allclose(X, p.transform([[0.5], [2.0]]))


def test_numeric_looking_categories_stay_text_at_prediction(tmp_path):
    train = "size,grade,label\n1,1,a\n2,2,b\n3,A,a\n"
    ds = load_csv(write(tmp_path, train), "label", one_hot=True)
    assert ds.categories == {"grade": ["1", "2", "A"]}
    p = Preprocessor.from_dict(Preprocessor().fit(ds).to_dict())
    # the new file's 'grade' holds only numbers, but it is still the categorical column
    X, _ = load_csv_for_prediction(write(tmp_path, "size,grade\n1,2\n2,1\n", "p.csv"), p)
    assert X[:, 1:].tolist() == [[0, 1, 0], [1, 0, 0]]


def test_csv_columns_reads_only_the_header(tmp_path):
    path = write(tmp_path, "a;b c;label\n1;2;x\n", bom=True)
    assert csv_columns(path) == ["a", "b c", "label"]
