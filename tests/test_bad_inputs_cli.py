"""Every bad input a CLI user can make gets one clear line, exit code 2, no traceback.

Most cases call the CLI's entry point ``main(argv)`` in this process (the same
code a subprocess runs, without paying the imports each time); a few run as
real subprocesses to prove the end-to-end behaviour. Each case asserts the
exit code, the one-line message and the absence of a traceback. A failed run
never leaves a half-written or clobbered output file.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mlplab.cli.main import main
from mlplab.config import TrainConfig
from mlplab.errors import ConfigError

FAST = ["--hidden", "3", "--epochs", "2", "--verbose", "0", "--no-plots"]


def cli(capsys, *args) -> str:
    """Run ``mlplab ARGS``; assert exit code 2 and one error line; return that line."""
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, (code, captured.out, captured.err)
    assert "Traceback" not in captured.err
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("mlplab: error: ")
    return lines[0]


@pytest.fixture
def files(tmp_path, monkeypatch):
    """A folder of small CSV files, good and bad; the current directory during the test."""
    monkeypatch.chdir(tmp_path)
    data = {
        "good.csv": "a,b,label\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n0.1,0.9,1\n0.9,0.1,1\n",
        "empty.csv": "",
        "header.csv": "a,b,label\n",
        "nohead.csv": "1,2,0\n3,4,1\n",
        "text.csv": "a,color,label\n1,red,0\n2,blue,1\n3,red,0\n",
        "nan.csv": "a,b,label\n1,2,0\n3,nan,1\n5,,0\n7,8,1\n",
        "single.csv": "a,b,label\n1,2,0\n3,4,0\n",
        "regstr.csv": "a,b,y\n1,2,high\n3,4,low\n",
        "ragged.csv": "a,b,label\n1,2,0\n3,4\n5,6,1\n",
        "semi.csv": "a;b;label\n0;0;0\n0;1;1\n1;0;1\n1;1;0\n",
        "bom.csv": "\ufeffa,b,label\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n",
        "three.csv": "a,b,c,label\n1,2,3,0\n",
        "unseen.csv": "a,b,label\n0,0,0\n1,1,7\n0,1,cat\n",
    }
    for name, text in data.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


@pytest.fixture
def model(files, capsys):
    """A model trained on good.csv (columns a, b; labels 0/1)."""
    assert main(["train", "good.csv", "--target", "label", *FAST, "--out", "m.safetensors"]) == 0
    capsys.readouterr()
    return files / "m.safetensors"


# --- CSV files -----------------------------------------------------------------

CSV_CASES = [
    (["missing.csv", "--target", "label"], ["'missing.csv' does not exist"]),
    (["empty.csv", "--target", "label"], ["'empty.csv' is empty (0 bytes)"]),
    (["header.csv", "--target", "label"], ["has a header", "but no data rows"]),
    (["nohead.csv", "--target", "label"], ["has no header row"]),
    (["good.csv", "--target", "nope"], ["target column 'nope'", "'a', 'b', 'label'"]),
    (["good.csv"], ["pass --target COLUMN", "'a', 'b', 'label'"]),
    (["text.csv", "--target", "label"], ["non-numeric feature column: 'color'", "--one-hot"]),
    (["nan.csv", "--target", "label"], ["column 'b' at lines 3, 4", "--drop-missing", "--impute"]),
    (["single.csv", "--target", "label"], ["single class (0)", "at least 2 classes"]),
    (["regstr.csv", "--target", "y", "--task", "regression"], ["non-numeric values: 'high'"]),
    (["ragged.csv", "--target", "label"], ["line 3 has 2 fields but the header has 3"]),
    (["semi.csv", "--target", "label", "--delimiter", ","], ["The columns are: 'a;b;label'"]),
    (["moon"], ["unknown data set 'moon'", "Did you mean 'moons'?"]),
    (["xor", "--target", "label"], ["--target apply to CSV files"]),
]


@pytest.mark.parametrize(("args", "expected"), CSV_CASES, ids=[c[0][0] for c in CSV_CASES])
def test_bad_csv(files, capsys, args, expected):
    line = cli(capsys, "train", *args, *FAST)
    for text in expected:
        assert text in line


@pytest.mark.parametrize("name", ["semi.csv", "bom.csv"])
def test_semicolons_and_byte_order_mark_just_work(files, capsys, name):
    assert main(["train", name, "--target", "label", *FAST, "--out", "x.safetensors"]) == 0
    assert "data: " + name[:-4] + " (2 features, binary" in capsys.readouterr().out


def test_two_gigabyte_csv_is_refused_by_size_without_reading(files, capsys):
    big = files / "big.csv"
    with open(big, "wb") as f:
        f.write(b"a,b,label\n")
        f.truncate(2 * 2**30)  # sparse: 2 GiB on paper, no disk used
    line = cli(capsys, "train", "big.csv", "--target", "label", *FAST)
    assert "is 2.0 GiB, more than the" in line and "limit" in line


def test_missing_values_can_be_dropped_or_imputed(files, capsys):
    for flag in (["--drop-missing"], ["--impute", "mean"]):
        assert main(["train", "nan.csv", "--target", "label", *flag, *FAST]) == 0
    out = capsys.readouterr().out
    assert "train 2" in out and "train 4" in out  # 2 rows dropped; all 4 kept


# --- hyperparameters -------------------------------------------------------------

RANGE_CASES = [
    ("--lr", "-1", "`--lr` must be > 0; got -1.0."),
    ("--lr", "0", "`--lr` must be > 0; got 0.0."),
    ("--lr", "nan", "`--lr` must be a number; got nan."),
    ("--epochs", "0", "`--epochs` must be >= 1; got 0."),
    ("--batch-size", "0", "`--batch-size` must be >= 1; got 0."),
    ("--hidden", "4,0", "`--hidden` width #2 must be >= 1; got 0."),
    ("--validation-split", "1", "`--validation-split` must be < 1; got 1.0."),
    ("--validation-split", "-0.1", "`--validation-split` must be >= 0; got -0.1."),
    ("--test-split", "1.5", "`--test-split` must be < 1; got 1.5."),
    ("--patience", "0", "`--patience` must be >= 1; got 0."),
    ("--l2", "-1", "`--l2` must be >= 0; got -1.0."),
    ("--momentum", "1", "`--momentum` must be < 1; got 1.0."),
    ("--seed", "-1", "`--seed` must be >= 0; got -1."),
    ("--n-samples", "0", "`--n-samples` must be >= 1; got 0."),
    ("--noise", "-1", "`--noise` must be >= 0; got -1.0."),
    ("--activation", "sine", "`--activation` must be one of"),
    ("--optimizer", "lbfgs", "`--optimizer` must be one of 'sgd', 'adam', 'adamw'"),
    ("--backend", "tpu", "`--backend` must be one of 'numpy', 'torch', 'jax'; got 'tpu'."),
    ("--dtype", "float16", "`--dtype` must be one of 'float32', 'float64'; got 'float16'."),
    ("--epochs", "1.5", "argument --epochs: invalid int value: '1.5'"),
]


@pytest.mark.parametrize(("flag", "value", "message"), RANGE_CASES)
def test_every_hyperparameter_is_range_checked_by_name(files, capsys, flag, value, message):
    extra = ["--optimizer", "sgd"] if flag == "--momentum" else []
    args = ["train", "xor", "--verbose", "0", *extra, flag, value]
    if "invalid" in message:  # argparse's own type errors: usage line + one error line
        with pytest.raises(SystemExit) as exc:
            main(args)
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
        return
    line = cli(capsys, *args)
    assert message in line


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lr", -1, "`lr` must be > 0; got -1."),
        ("epochs", 0, "`epochs` must be >= 1; got 0."),
        ("batch_size", 0, "`batch_size` must be >= 1; got 0."),
        ("hidden", (8, 0), "`hidden[1]` must be >= 1; got 0."),
        ("validation_split", 1.0, "`validation_split` must be < 1; got 1.0."),
        ("patience", 0, "`patience` must be >= 1; got 0."),
        ("l2", -0.5, "`l2` must be >= 0; got -0.5."),
        ("seed", 1.5, "`seed` must be an integer; got 1.5."),
        ("epochs", True, "`epochs` must be an integer; got True."),
    ],
)
def test_train_config_validates_every_field(field, value, message):
    with pytest.raises(ConfigError) as exc:
        TrainConfig(**{field: value})
    assert str(exc.value).startswith(message)


def test_train_config_round_trips_and_rejects_unknown_keys():
    cfg = TrainConfig(
        data="moons", hidden=(16, 8), lr=0.01, validation_split=0.2, early_stopping=True
    )
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="unknown training config keys: learning_rate"):
        TrainConfig.from_dict({**cfg.to_dict(), "learning_rate": 0.1})
    with pytest.raises(ConfigError, match="needs validation data"):
        TrainConfig(early_stopping=True)


# --- model files and prediction ----------------------------------------------------


def test_wrong_feature_count_at_predict_time(model, capsys):
    line = cli(capsys, "predict", model, "three.csv")  # a, b, c: one column too many
    assert "column(s) the model was not trained on: 'c'" in line and "uses 'a', 'b'" in line
    (model.parent / "one.csv").write_text("a\n1\n")  # one column too few
    line = cli(capsys, "predict", model, "one.csv")
    assert "lacks the column(s) 'b'" in line and "needs 'a', 'b'" in line
    line = cli(capsys, "predict", model, "iris")
    assert "has 4 features but the model expects 2 (a, b)" in line
    line = cli(capsys, "explain", model, "--input", "1,2,3")
    assert "--input has 3 values but the model expects 2 inputs" in line


def test_unseen_labels_at_evaluate(model, capsys):
    line = cli(capsys, "evaluate", model, "unseen.csv")
    assert "unseen at fit time" in line and "7" in line and "'cat'" in line


def test_evaluate_needs_the_target_column(model, files, capsys):
    (files / "features.csv").write_text("a,b\n0,1\n")
    line = cli(capsys, "evaluate", model, "features.csv")
    assert "target column 'label'" in line and "'a', 'b'" in line


@pytest.mark.parametrize("damage", ["truncated", "flipped", "foreign", "empty"])
def test_corrupted_model_file(model, files, capsys, damage):
    data = model.read_bytes()
    bad = files / "bad.safetensors"
    if damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "flipped":
        bad.write_bytes(data[:8] + b"#" + data[9:])  # the header's first byte
    elif damage == "foreign":
        bad.write_bytes(b"\x80\x04\x95" + b"\x00" * 40)  # a pickle
    else:
        bad.write_bytes(b"")
    line = cli(capsys, "predict", bad, "good.csv")
    assert repr(str(bad)) in line or "bad.safetensors" in line
    expected = {
        "truncated": "truncated",
        "flipped": "not a safetensors file",
        "foreign": "looks like a Python pickle",
        "empty": "is empty (0 bytes)",
    }[damage]
    assert expected in line


def test_nonexistent_model_file(files, capsys):
    line = cli(capsys, "predict", "nope.safetensors", "good.csv")
    assert "model file 'nope.safetensors' does not exist" in line


def test_resume_with_a_foreign_file(model, files, capsys):
    line = cli(capsys, "train", "--resume", "good.csv")
    assert "not a safetensors file" in line
    line = cli(capsys, "train", "--resume", model)
    assert "is an mlplab model file, not a checkpoint" in line


# --- failed runs leave files alone -------------------------------------------------


def test_failed_run_never_clobbers_an_existing_output(model, files, capsys):
    before = model.read_bytes()
    listing = sorted(os.listdir(files))
    out = ["--out", str(model)]
    cli(capsys, "train", "nan.csv", "--target", "label", *FAST, *out)  # bad data
    cli(capsys, "train", "good.csv", "--target", "label", *FAST, "--lr", "-1", *out)  # bad lr
    cli(capsys, "train", "good.csv", "--target", "nope", *FAST, *out)  # bad column
    cli(capsys, "predict", model, "nan.csv", "--out", str(model))  # a failed predict
    assert model.read_bytes() == before
    assert sorted(os.listdir(files)) == listing  # and no temporary files left behind


# --- end to end, as a user's shell sees it ------------------------------------------


def test_errors_in_a_real_process_are_one_line_without_traceback(files):
    command = [
        sys.executable,
        "-c",
        "import sys; from mlplab.cli.main import main; sys.exit(main())",
    ]
    for args, text in [
        (["train", "missing.csv", "--target", "y"], "does not exist"),
        (["train", "xor", "--batch-size", "0"], "`--batch-size` must be >= 1; got 0."),
        (["predict", "good.csv", "xor"], "not a safetensors file"),
    ]:
        res = subprocess.run([*command, *args], capture_output=True, text=True, cwd=files)
        assert res.returncode == 2
        assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
        assert res.stderr.startswith("mlplab: error: ") and text in res.stderr


# --- review fixes: outputs never replace inputs or a model the user had ----------


def test_out_that_names_an_input_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.csv").write_text("a,b,label\n0,0,0\n1,1,1\n0,1,1\n1,0,0\n")
    before = (tmp_path / "g.csv").read_bytes()
    err = cli(capsys, "train", "g.csv", "--target", "label", "--out", "g.csv", "--no-plots")
    assert "is also an input of this run" in err
    assert (tmp_path / "g.csv").read_bytes() == before
    assert main(["train", "xor", "--epochs", "1", "--no-plots", "--out", "m.safetensors"]) == 0
    model = (tmp_path / "m.safetensors").read_bytes()
    err = cli(capsys, "predict", "m.safetensors", "xor", "--out", "m.safetensors")
    assert "is also an input of this command" in err
    assert (tmp_path / "m.safetensors").read_bytes() == model


def test_a_diverging_run_keeps_the_model_the_user_had(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "sine", "--epochs", "2", "--no-plots", "--out", "m.safetensors"]) == 0
    model = (tmp_path / "m.safetensors").read_bytes()
    err = cli(capsys, "train", "sine", "--optimizer", "sgd", "--lr", "1e6", "--epochs", "20",
              "--no-plots", "--out", "m.safetensors")  # fmt: skip
    assert "saved to m.diverged.safetensors" in err
    assert (tmp_path / "m.safetensors").read_bytes() == model
    assert main(["predict", "m.diverged.safetensors", "sine"]) == 0
    assert "holds the last good weights of a run that diverged" in capsys.readouterr().err


def test_output_folders_and_figure_paths_are_checked_before_any_write(tmp_path, monkeypatch,
                                                                      capsys):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.csv").write_text("x\n")
    err = cli(capsys, "train", "xor", "--no-plots", "--out-dir", "a.csv/sub")
    assert "cannot create the output folder 'a.csv/sub'" in err
    (tmp_path / "pl" / "m_loss.png").mkdir(parents=True)
    err = cli(capsys, "train", "moons", "--epochs", "1", "--out", "pl/m.safetensors")
    assert "output 'pl/m_loss.png' is a folder" in err
    assert not (tmp_path / "pl" / "m.safetensors").exists()
    cli(capsys, "train", "nosuch", "--out-dir", "new/a")
    assert not (tmp_path / "new").exists()


def test_weights_that_overflow_on_the_last_step_are_reported_as_divergence(tmp_path, monkeypatch,
                                                                           capsys):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    err = cli(capsys, "train", "xor", "--optimizer", "sgd", "--lr", "1e40", "--epochs", "1",
              "--no-plots", "--out", "q.safetensors")  # fmt: skip
    assert "training diverged at step 1" in err and "--lr 1e+39" in err


def test_imputation_is_learnt_from_the_training_rows_only(tmp_path, monkeypatch, capsys):
    from mlplab import load_model

    monkeypatch.chdir(tmp_path)
    rows = ["a,b,label"] + [f"{i},{'' if i % 5 == 0 else i % 7},{i % 2}" for i in range(40)]
    (tmp_path / "imp.csv").write_text("\n".join(rows) + "\n")
    code = main(["train", "imp.csv", "--target", "label", "--impute", "mean", "--test-split",
                 "0.5", "--epochs", "1", "--no-plots", "--out", "imp.safetensors"])  # fmt: skip
    assert code == 0
    _, meta = load_model("imp.safetensors")
    all_rows_mean = sum(i % 7 for i in range(40) if i % 5) / 32
    fill = meta["preprocessor"]["fill_values"][1]
    assert fill != pytest.approx(all_rows_mean)  # not leaked from the test rows
    assert fill == pytest.approx(2.6)  # the mean of the b values in the 20 training rows


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "xor", "--loss", "mse"], "`--loss` 'mse' does not fit a binary target"),
        (
            ["train", "moons", "--validation-split", "0.5", "--test-split", "0.5"],
            "`--validation-split` + `--test-split` must be < 1; got 0.5 + 0.5",
        ),  # fmt: skip
        (["train", "moons", "--early-stopping"], "`--early-stopping` needs validation data"),
        (
            ["train", "xor", "--n-samples", "100000000000"],
            "`--n-samples` = 100,000,000,000 rows of 'xor' need about",
        ),
        (["tour", "--quick", "--only", "L1", "--out", "f.txt"], "--out 'f.txt' is a file"),
    ],
)
def test_more_one_line_errors(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.txt").write_text("x")
    assert message in cli(capsys, *args, *(["--no-plots"] if args[0] == "train" else []))


def test_poly_prints_sizes_beyond_float_range(capsys):
    assert main(["poly", "--inputs", "100000000", "--degree", "50"]) == 0
    out = capsys.readouterr().out
    assert "10^339" in out.replace("\n", "") and "does NOT fit" in out.replace("\n", " ")
