"""Every bad data input gets a clear mlplab error: exception type AND message are asserted.

The CSV cases are one table (``CSV_CASES``): an id, the file's bytes, the
``load_csv`` arguments, the expected error type and a regex its message must
match. Array, prediction and metadata cases follow as separate tests.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlplab.data import (
    Preprocessor,
    Standardizer,
    check_labels_known,
    check_X,
    check_X_y,
    encode_labels,
    load_csv,
    load_csv_for_prediction,
    load_dataset,
    train_test_split,
)
from mlplab.errors import ConfigError, DataError, MLPLabError, ModelFileError

BOM = b"\xef\xbb\xbf"
IDS = "".join(f"{i},{i % 2},user{i}\n" for i in range(300))

# (id, file bytes, load_csv kwargs, error type, message regex)
CSV_CASES = [
    (
        "empty file",
        b"",
        {},
        DataError,
        r"is empty \(0 bytes\); it needs a header row and data rows",
    ),
    ("blank lines only", b"\n\n  \n", {}, DataError, r"is empty \(only blank lines\)"),
    (
        "header only",
        b"a,b,label\n",
        {},
        DataError,
        r"has a header \('a', 'b', 'label'\) but no data rows; add at least one row",
    ),
    (
        "BOM + header only",
        BOM + b"a,b,label\n",
        {},
        DataError,
        r"has a header \('a', 'b', 'label'\) but no data rows",
    ),
    (
        "no header (numeric first row)",
        b"0,1,1\n1,0,1\n",
        {},
        DataError,
        r"has no header row: its first line is data \('0', '1', '1'\)\. Add a first line naming",
    ),
    (
        "missing target column",
        b"a,b,label\n1,2,x\n",
        {"target": "y"},
        DataError,
        r"target column 'y' is not in .*The columns are: 'a', 'b', 'label'\. Pass one of them "
        r"with --target",
    ),
    (
        "target column in the wrong case",
        b"a,b,Label\n1,2,x\n",
        {"target": "label"},
        DataError,
        r"target column 'label' is not in .*Did you mean 'Label'\?",
    ),
    (
        "no header, with text in the first row",
        b"5.1,3.5,setosa\n4.9,3.0,setosa\n",
        {"target": "species"},
        DataError,
        r"target column 'species' is not in .*Its first line looks like data: the file needs a "
        r"header row",
    ),
    (
        "non-numeric feature columns",
        b"age,city,job,label\n30,Paris,nurse,x\n40,Rome,cook,y\n",
        {},
        DataError,
        r"non-numeric feature columns: 'city' \('Paris' at line 2\), 'job' \('nurse' at line 2\)\. "
        r"Pass --one-hot \(one_hot=True\)",
    ),
    (
        "decimal commas with ';'",
        b"a;b;label\n1,5;2;x\n3,25;4;y\n",
        {},
        DataError,
        r"non-numeric feature column: 'a' \('1,5' at line 2\).*look like decimal commas",
    ),
    (
        "missing values",
        b"a,b,label\n1,2,x\n,3,y\n4,NA,x\n5,6,y\n",
        {},
        DataError,
        r"has 2 missing, NaN or infinite values: column 'a' at line 3; column 'b' at line 4\. "
        r"Pass --drop-missing \(drop_missing=True\).*--impute mean",
    ),
    (
        "NaN and inf values",
        b"a,b,label\n1,nan,x\n2,inf,y\n3,-Infinity,x\n",
        {},
        DataError,
        r"3 missing, NaN or infinite values: column 'b' at lines 2, 3, 4\. Pass --drop-missing",
    ),
    (
        "missing label",
        b"a,label\n1,x\n2,\n3,y\n",
        {},
        DataError,
        r"1 missing, NaN or infinite value: column 'label' at line 3\. Pass --drop-missing "
        r"\(drop_missing=True\) to drop those rows\.$",
    ),
    (
        "drop-missing leaves no rows",
        b"a,b,label\n1,,x\n,2,y\n",
        {"drop_missing": True},
        DataError,
        r"every row .* has a missing or non-finite value, so --drop-missing left no rows",
    ),
    (
        "impute cannot fill a missing target",
        b"a,label\n1,x\n2,\n3,y\n",
        {"impute": "mean"},
        DataError,
        r"target column 'label' has missing or non-finite values \(line 3\); targets are never "
        r"imputed\. Pass --drop-missing",
    ),
    (
        "impute on an all-missing column",
        b"a,b,label\n1,,x\n2,,y\n",
        {"impute": "mean"},
        DataError,
        r"column 'b' has no finite values to take the mean of",
    ),
    (
        "single class",
        b"a,label\n1,spam\n2,spam\n3,spam\n",
        {},
        DataError,
        r"target column 'label' .* has a single class \('spam'\) in all 3 rows; classification "
        r"needs at least 2 classes",
    ),
    (
        "regression target with strings",
        b"a,price\n1,10.5\n2,cheap\n3,12\n",
        {"target": "price", "task": "regression"},
        DataError,
        r"regression target 'price' .* has non-numeric values: 'cheap' \(line 3\)\. Pass a numeric "
        r"column, or --task classification",
    ),
    (
        "ragged row (too few fields)",
        b"a,b,label\n1,2,x\n3,4\n5,6,y\n",
        {},
        DataError,
        r"line 3 has 2 fields but the header has 3 columns \('a', 'b', 'label'\)\. Fix that row",
    ),
    (
        "ragged row (too many fields)",
        b"a,b,label\n1,2,x\n3,4,y\n5,6,7,y\n",
        {},
        DataError,
        r"line 4 has 4 fields but the header has 3 columns",
    ),
    (
        "unclosed quote",
        b'a,b,label\n1,"2,x\n3,4,y\n',
        {},
        DataError,
        r"line 2 has 2 fields .*an unclosed quote\?",
    ),
    (
        "undetectable delimiter",
        b"a b label\n1 2 x\n",
        {},
        DataError,
        r"could not detect the delimiter .* contains none of ',', ';', tab, '\|'\. Pass the "
        r"delimiter with --delimiter",
    ),
    (
        "binary file (NUL bytes)",
        b"\x08\x00\x00\x00\x00\x00\x00\x00{}",
        {},
        DataError,
        r"is a binary file \(it contains NUL bytes\), not CSV text",
    ),
    (
        "not UTF-8",
        b"a,b,label\n1,2,caf\xe9\n",
        {},
        DataError,
        r"is not UTF-8 text \(byte 0xe9 at offset \d+\).*Save it as UTF-8",
    ),
    (
        "duplicate column names",
        b"a,a,label\n1,2,x\n",
        {},
        DataError,
        r"header names column 'a' more than once",
    ),
    (
        "unnamed column",
        b"a,,label\n1,2,x\n",
        {},
        DataError,
        r"header column 2 has no name",
    ),
    (
        "only the target column",
        b"label\nx\ny\n",
        {},
        DataError,
        r"has no feature columns: its only columns are the target\(s\) 'label'\. Add input",
    ),
    (
        "no feature columns",
        b"label;other\nx;1\ny;2\n",
        {"target": ["label", "other"]},
        DataError,
        r"has no feature columns: its only columns are the target\(s\) 'label', 'other'",
    ),
    (
        "identifier column with --one-hot",
        b"id,label,name\n" + IDS.encode(),
        {"target": "label", "one_hot": True},
        DataError,
        r"column 'name' has 300 distinct values in 300 rows; one-hot encoding would add 300 "
        r"columns\. It looks like an identifier",
    ),
    (
        "--task binary with 3 classes",
        b"a,label\n1,x\n2,y\n3,z\n",
        {"task": "binary"},
        DataError,
        r"--task binary does not fit target 'label' .*: it has 3 classes \('x', 'y', 'z'\)",
    ),
    (
        "several targets for classification",
        b"a,u,v\n1,2,3\n",
        {"target": ["u", "v"], "task": "classification"},
        DataError,
        r"several target columns \('u', 'v'\) are only supported for regression",
    ),
    (
        "both --drop-missing and --impute",
        b"a,label\n1,x\n",
        {"drop_missing": True, "impute": "mean"},
        ConfigError,
        r"`drop_missing` and `impute` cannot both be set",
    ),
    (
        "unknown impute strategy",
        b"a,label\n1,x\n",
        {"impute": "median"},
        ConfigError,
        r"`impute` must be one of None, 'mean'; got 'median'",
    ),
    (
        "unknown task",
        b"a,label\n1,x\n",
        {"task": "clustering"},
        ConfigError,
        r"`task` must be one of .*'regression'; got 'clustering'",
    ),
    (
        "bad delimiter option",
        b"a,label\n1,x\n",
        {"delimiter": ",,"},
        ConfigError,
        r"`delimiter` must be a single character .* got ',,'",
    ),
    (
        "empty target name",
        b"a,label\n1,x\n",
        {"target": " "},
        ConfigError,
        r"`target` must name the target column \(--target COLUMN\); got ' '",
    ),
    (
        "file over max_bytes",
        b"a,label\n" + b"1,x\n" * 100,
        {"max_bytes": 100},
        DataError,
        r"is 408 bytes, more than the 100 bytes limit; it was not read",
    ),
]


@pytest.mark.parametrize(
    ("data", "kwargs", "error", "message"),
    [case[1:] for case in CSV_CASES],
    ids=[case[0] for case in CSV_CASES],
)
def test_bad_csv(tmp_path, data, kwargs, error, message):
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    kwargs = {"target": "label", **kwargs}
    with pytest.raises(error, match=message):
        load_csv(path, **kwargs)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"CSV file '.*nope\.csv' does not exist\. Check the path"):
        load_csv(tmp_path / "nope.csv", "label")


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(DataError, match=r"is not a file .*; pass a CSV file"):
        load_csv(tmp_path, "label")


def test_2gb_file_is_refused_with_its_size_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as f:
        f.write(b"a,label\n")
        f.truncate(2 * 2**30)  # sparse: instant, takes no disk space

    def no_open(*args, **kwargs):
        raise AssertionError("the huge file was opened")

    monkeypatch.setattr("mlplab.data.csvfile._open_text", no_open)
    with pytest.raises(
        DataError, match=r"is 2\.0 GiB, more than the [\d.]+ [KMG]iB limit; it was not read"
    ):
        load_csv(path, "label")


def test_many_missing_values_are_summarised(tmp_path):
    rows = "".join(f"{i},,{'' if i % 3 else 'x'}\n" for i in range(20))
    path = tmp_path / "m.csv"
    path.write_text("a,b,label\n" + rows)
    with pytest.raises(DataError, match=r"lines 2, 3, 4, 5, 6, … \(15 more\)"):
        load_csv(path, "label")


# ----------------------------------------------------------------------------- prediction


@pytest.fixture
def fitted(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("size,color,label\n1,red,a\n2,blue,b\n3,red,a\n")
    p = Preprocessor().fit(load_csv(path, "label", one_hot=True))
    return Preprocessor.from_dict(json.loads(json.dumps(p.to_dict())))


def _predict(tmp_path, fitted, text, **kw):
    path = tmp_path / "new.csv"
    path.write_text(text)
    return load_csv_for_prediction(path, fitted, **kw)


def test_prediction_missing_column(tmp_path, fitted):
    with pytest.raises(
        DataError, match=r"lacks the column\(s\) 'color' that the model was trained"
    ):
        _predict(tmp_path, fitted, "size,label\n1,a\n")


def test_prediction_extra_column(tmp_path, fitted):
    with pytest.raises(DataError, match=r"has column\(s\) the model was not trained on: 'weight'"):
        _predict(tmp_path, fitted, "size,color,weight\n1,red,3\n")
    X, _ = _predict(tmp_path, fitted, "size,color,weight\n1,red,3\n", ignore_extra=True)
    assert X.shape == (1, 3)


def test_prediction_unseen_category_is_all_zero_with_a_warning(tmp_path, fitted):
    from mlplab.errors import MLPLabWarning

    with pytest.warns(
        MLPLabWarning,
        match=r"1 of 2 rows have a category unseen at training time \(column 'color': 'green'; "
        r"first at line 3\); they are encoded as all zeros",
    ):
        X, _ = _predict(tmp_path, fitted, "size,color\n1,red\n2,green\n")
    assert X.shape[0] == 2 and np.isfinite(X).all()


def test_prediction_unseen_label(tmp_path, fitted):
    with pytest.raises(
        DataError,
        match=r"target column 'label' in .*new\.csv': `y` has 1 label\(s\) unseen at fit time: "
        r"'c'\. The model knows",
    ):
        _predict(tmp_path, fitted, "size,color,label\n1,red,a\n2,blue,c\n")


def test_prediction_text_in_a_numeric_column(tmp_path, fitted):
    with pytest.raises(DataError, match=r"column 'size' needs a number but has 'big' at line 2"):
        _predict(tmp_path, fitted, "size,color\nbig,red\n")


def test_prediction_missing_value_without_imputation(tmp_path, fitted):
    with pytest.raises(
        DataError, match=r"column 'size' at line 3\. The model was trained without imputation"
    ):
        _predict(tmp_path, fitted, "size,color\n1,red\n,blue\n")


def test_prediction_requested_target_missing(tmp_path, fitted):
    with pytest.raises(DataError, match=r"target column 'y' is not in"):
        _predict(tmp_path, fitted, "size,color\n1,red\n", target="y")
    with pytest.raises(DataError, match=r"target column 'label' is not in .*The columns are"):
        _predict(tmp_path, fitted, "size,color\n1,red\n", with_target=True)


def test_prediction_without_target_ignores_a_bad_label_column(tmp_path, fitted):
    X, y = _predict(tmp_path, fitted, "size,color,label\n1,red,zzz\n", with_target=False)
    assert y is None and X.shape == (1, 3)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(version=99), r"must be a dict with version 1; got 99"),
        (lambda d: d.update(columns="size"), r"field 'columns' must be a list of strings"),
        (lambda d: d["scaler"].update(mean=[1.0]), r"`mean` and `scale` must have the same"),
        (lambda d: d["scaler"].update(scale=[1.0, "x", 1, 1]), r"'scale' must be a list of finite"),
        (lambda d: d.update(feature_names=["size"]), r"expand to 3 features but 1 feature names"),
        (lambda d: d.update(task="ranking"), r"unknown task 'ranking'"),
        (lambda d: d.update(classes=["a"]), r"'classes' must be a list of at least 2 labels"),
        (lambda d: d.update(categories={"shape": ["x"]}), r"'categories' must map input columns"),
    ],
)
def test_corrupted_preprocessing_metadata(fitted, mutate, message):
    d = json.loads(json.dumps(fitted.to_dict()))
    mutate(d)
    with pytest.raises(ModelFileError, match=message):
        Preprocessor.from_dict(d)


def test_corrupted_preprocessing_metadata_not_a_dict():
    with pytest.raises(ModelFileError, match=r"must be a dict with version 1; got 'list'"):
        Preprocessor.from_dict([1, 2])


def test_standardizer_refuses_overflowing_columns():
    X = np.array([[1.0, 1e308], [2.0, -1e308]])
    with pytest.raises(DataError, match=r"column\(s\) \[1\] of `X` are too large to standardise"):
        Standardizer().fit(X)


def test_unfitted_preprocessor_and_standardizer():
    with pytest.raises(ConfigError, match=r"Preprocessor is not fitted yet; call fit\(dataset\)"):
        Preprocessor().transform(np.zeros((1, 2)))
    with pytest.raises(ConfigError, match=r"Standardizer is not fitted yet; call fit\(X\)"):
        Standardizer().transform(np.zeros((1, 2)))


# ----------------------------------------------------------------------------- arrays


@pytest.mark.parametrize(
    ("X", "kwargs", "message"),
    [
        (
            np.zeros(3),
            {},
            r"`X` must be 2-D \(n_samples, n_features\); got 1-D with shape \(3,\)\. ",
        ),
        (np.zeros((2, 2, 2)), {}, r"must be 2-D .* got 3-D with shape \(2, 2, 2\)"),
        (np.float64(1.0), {}, r"got 0-D with shape \(\)"),
        (np.array([["a", "b"]]), {}, r"`X` holds strings \(dtype <U1, e\.g\. 'a'\), not numbers"),
        (
            np.array([[1, "x"]], dtype=object),
            {},
            r"holds Python objects \(dtype object, e\.g\. 'x'",
        ),
        ([[1.0, 2.0], [3.0]], {}, r"`X` is not a rectangular array: its rows have different"),
        (np.ones((2, 2), dtype=complex), {}, r"`X` has complex dtype complex128"),
        (np.zeros((0, 3)), {}, r"`X` is empty: shape \(0, 3\) has 0 samples"),
        (np.zeros((3, 0)), {}, r"`X` has 0 features \(shape \(3, 0\)\)"),
        (
            np.zeros((2, 3)),
            {"n_features": 4},
            r"expected 4 features, got 3\. Pass the same columns",
        ),
        (
            np.array([[1.0, np.nan], [np.inf, 0.0]]),
            {},
            r"`X` contains 2 NaN or infinite value\(s\) at \(row, column\) \(0, 1\), \(1, 0\)",
        ),
        ([[1, 2]], {"name": "X_test", "n_features": 3}, r"`X_test` has the wrong number of"),
    ],
    ids=[
        "1-D",
        "3-D",
        "0-D",
        "strings",
        "objects",
        "ragged lists",
        "complex",
        "no rows",
        "no columns",
        "feature count",
        "nan/inf",
        "named array",
    ],
)
def test_check_X_bad(X, kwargs, message):
    with pytest.raises(DataError, match=message):
        check_X(X, **kwargs)


def test_check_X_accepts_numbers_and_converts():
    out = check_X([[1, 2], [3, 4]])
    assert out.dtype == np.float64 and out.shape == (2, 2)
    assert check_X(np.array([[1, 2]], dtype=object)).tolist() == [[1.0, 2.0]]
    assert check_X(np.array([[True, False]])).tolist() == [[1.0, 0.0]]


def test_check_X_takes_every_backends_arrays(backend):
    from mlplab.backend.arrays import get_backend

    X = get_backend(backend, dtype="float32").asarray(np.arange(6.0).reshape(2, 3))
    out = check_X(X, n_features=3)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    assert out.tolist() == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(DataError, match=r"expected 2 features, got 3"):
        check_X(X, n_features=2)


def test_check_X_y_mismatched_lengths():
    with pytest.raises(DataError, match=r"`X` and `y` have different numbers of samples: X has 3"):
        check_X_y(np.zeros((3, 2)), [0, 1])


def test_check_X_y_bad_y():
    with pytest.raises(DataError, match=r"`y` must be 1-D \(n,\) or 2-D \(n, t\); got 3-D"):
        check_X_y(np.zeros((2, 2)), np.zeros((2, 1, 1)))
    with pytest.raises(DataError, match=r"`y` must hold numbers for regression; got dtype <U1"):
        check_X_y(np.zeros((2, 2)), ["a", "b"], y_numeric=True)
    with pytest.raises(DataError, match=r"`y` contains NaN or infinite values at rows \[1\]"):
        check_X_y(np.zeros((2, 2)), [0.0, np.nan], y_numeric=True)


def test_encode_labels_and_its_errors():
    idx, classes = encode_labels(np.array(["b", "a", "b"]))
    assert idx.tolist() == [1, 0, 1] and classes == ["a", "b"]
    assert encode_labels([2.0, 0.0])[1] == [0, 2]
    with pytest.raises(DataError, match=r"`y` has a single class \(7\); classification needs"):
        encode_labels([7, 7, 7])
    with pytest.raises(DataError, match=r"non-integer float values \(e\.g\. 0\.5\)"):
        encode_labels([0.5, 1.0])
    with pytest.raises(DataError, match=r"NaN or infinite labels at rows \[1\]"):
        encode_labels([0.0, np.nan])
    with pytest.raises(DataError, match=r"`y` is empty \(0 labels\)"):
        encode_labels([])
    with pytest.raises(DataError, match=r"class labels must be 1-D \(n,\); got shape \(2, 2\)"):
        encode_labels(np.eye(2))


def test_labels_unseen_at_fit_time_are_named():
    assert check_labels_known(["1", 0, 2.0], [0, 1, 2]).tolist() == [1, 0, 2]
    with pytest.raises(
        DataError,
        match=r"`y` has 2 label\(s\) unseen at fit time: 'cat', 7\. The model knows the classes "
        r"'a', 'b'",
    ):
        check_labels_known(np.array(["a", "cat", 7, "b"], dtype=object), ["a", "b"])


def test_unknown_dataset_name_lists_the_names_and_csv_hint():
    with pytest.raises(
        DataError,
        match=r"unknown data set 'moon'\. Did you mean 'moons'\? The built-in data sets are: "
        r"xor, and, or, .*diabetes\. To use a CSV file, pass its path and the target column with "
        r"--target COLUMN",
    ):
        load_dataset("moon")
    with pytest.raises(DataError, match=r"unknown data set 'data\.csv'\..*--target COLUMN"):
        load_dataset("data.csv")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "iris", "n_samples": 10}, r"'iris' is a fixed set .*Leave them unset"),
        ({"name": "moons", "n_samples": 0}, r"`n_samples` must be >= 1; got 0"),
        ({"name": "moons", "noise": -0.1}, r"`noise` must be >= 0; got -0\.1"),
        ({"name": "moons", "seed": -1}, r"`seed` must be >= 0; got -1"),
        ({"name": "mnist1d", "noise": 0.1}, r"`noise` does not apply to 'mnist1d'"),
        ({"name": "mnist1d", "n_samples": 5}, r"`n_samples` for 'mnist1d' must be >= 20 .*; got 5"),
    ],
)
def test_dataset_options_are_range_checked(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        load_dataset(**kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((np.zeros((4, 1)), np.zeros(4)), {"test_size": 1.5}, ConfigError, r"`test_size` must be"),
        ((np.zeros((4, 1)), np.zeros(3)), {}, DataError, r"X has 4 rows, y has 3"),
        ((np.zeros((2, 1)), np.zeros(2)), {"test_size": 0.1}, DataError, r"gives 0 test rows"),
        ((np.zeros((4, 1)), np.zeros(4)), {"stratify": [0, 1]}, DataError, r"has 2 labels for 4"),
    ],
)
def test_train_test_split_bad_inputs(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        train_test_split(*args, **kwargs)


def test_every_error_is_an_mlplab_error():
    for kind in (DataError, ConfigError, ModelFileError):
        assert issubclass(kind, MLPLabError)


# ----------------------------------------------------------------------------- fuzz

_FUZZ_BASE = b"x1,x2,color,label\n0,1,red,a\n1,0,blue,b\n1,1,red,a\n0,0,blue,b\n"
_FUZZ_PIECES = [b",", b";", b"\t", b'"', b"\n", b"\r", b" ", b"0", b"1.5", b"-inf", b"NA", b"?"]
_FUZZ_PIECES += [b"\xef\xbb\xbf", b"\x00", b"\xe9", "é".encode(), b"x", b"label"]


@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(_FUZZ_BASE)),
            st.integers(0, 3),
            st.sampled_from(_FUZZ_PIECES) | st.binary(max_size=3),
        ),
        max_size=6,
    ),
    options=st.sampled_from(
        [{}, {"one_hot": True}, {"one_hot": True, "impute": "mean"}, {"drop_missing": True}]
    ),
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_csv_gives_a_dataset_or_an_mlplab_error(tmp_path_factory, edits, options):
    data = bytearray(_FUZZ_BASE)
    for at, n_deleted, piece in edits:  # delete a few bytes, insert a piece
        at = min(at, len(data))
        data[at : at + n_deleted] = piece
    path = tmp_path_factory.mktemp("fuzz") / "f.csv"
    path.write_bytes(bytes(data))
    try:
        ds = load_csv(path, "label", **options)
    except MLPLabError:
        return
    assert ds.X.dtype == np.float64 and np.all(np.isfinite(ds.X)) and len(ds.y) == len(ds.X)
