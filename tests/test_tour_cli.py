"""The lecture commands as a user runs them: subprocesses, exit codes, output, files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from mlplab.cli.main import build_parser

COMMANDS = [
    "tour",
    "gates",
    "xor-proof",
    "perceptron",
    "xor",
    "approx",
    "poly",
    "extrapolate",
    "backprop",
    "gradcheck",
    "digits",
    "mnist1d",
]


RUN = "import sys; from mlplab.cli.main import main; sys.exit(main(sys.argv[1:]))"


def mlplab(*args, cwd=None):
    env = dict(os.environ, COLUMNS="140", OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "-c", RUN, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


@pytest.fixture(scope="module")
def quick_tour(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour") / "tour-out"
    proc = mlplab("tour", "--quick", "--out", str(out))
    return proc, out


def test_tour_quick_end_to_end(quick_tour):
    proc, out = quick_tour
    assert proc.returncode == 0, proc.stderr
    assert "13/13 claims shown." in proc.stdout
    for cid in [f"L{i}" for i in range(1, 14)]:
        assert re.search(rf"^{cid}\s", proc.stdout, re.M), f"no terminal section for {cid}"
    assert "H(−1 + 1·0 + 1·1) = H(0) = 0" in proc.stdout
    assert "2θ₀ + θ₁ + θ₂" in proc.stdout
    assert "46,916,791,205,889" in proc.stdout


def test_tour_report_is_one_self_contained_page(quick_tour):
    _, out = quick_tour
    page = (out / "report.html").read_text(encoding="utf-8")
    for i in range(1, 14):
        assert f"<section id='L{i}' class='claim'>\n<h2><span class='cid'>L{i}</span>" in page
    assert page.count("<span class='mark'>✓ Shown:</span>") == 13
    assert "<meta name='viewport'" in page and "<nav aria-label='contents'>" in page
    assert page.count("<details>") == 13 and page.count("<math") >= 13
    assert "data:image/png;base64," in page
    assert not re.search(r"""(src|href)=["']https?:""", page)  # nothing fetched from outside
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert len(pngs) >= 10
    assert page.count("<img ") == len(pngs)


def test_tour_results_json(quick_tour):
    _, out = quick_tour
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["quick"] is True and data["seed"] == 0
    assert list(data["claims"]) == [f"L{i}" for i in range(1, 14)]
    assert all(c["shown"] for c in data["claims"].values())
    l2 = data["claims"]["L2"]["result"]
    assert l2["lecture_columns"] == 46_916_791_205_889 and l2["small_columns"] == 10
    assert data["claims"]["L6"]["result"]["separability"]["xor"]["lp_status"] == 2
    l13 = data["claims"]["L13"]["result"]
    assert l13["digits"]["test_accuracy"] >= 0.975 and l13["mnist1d"]["test_accuracy"] >= 0.68
    for names in data["figures"].values():
        assert all((out / n).is_file() for n in names)


def test_tour_without_torch_and_jax_says_not_run(tmp_path):
    """Missing optional frameworks: L11/L12 are "not run", not failed, and the exit is 0."""
    hide = (  # an import hook that finds neither framework, as on a NumPy-only install
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'jax', 'jaxlib'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Hide())\n"
    )
    env = dict(os.environ, COLUMNS="140", OMP_NUM_THREADS="1")
    out = tmp_path / "o"
    proc = subprocess.run(
        [sys.executable, "-c", hide + RUN, "tour", "--quick", "--only", "L7,L11,L12", "--out", out],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1/3 claims shown; not run: L11, L12 (install mlplab[torch,jax])." in proc.stdout
    assert proc.stdout.count("○ not run: install mlplab[torch,jax]") == 2
    assert "✗" not in proc.stdout and "no autodiff framework" not in proc.stdout
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [c["status"] for c in data["claims"].values()] == ["shown", "not run", "not run"]


def test_tour_only_and_unknown_claim(tmp_path):
    proc = mlplab("tour", "--only", "L5,L9", "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr
    assert "2/2 claims shown." in proc.stdout
    page = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert "id='L5'" in page and "id='L1'" not in page
    bad = mlplab("tour", "--only", "L99", "--out", str(tmp_path / "p"))
    assert bad.returncode == 2 and "unknown claim" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize("name", COMMANDS)
def test_help_has_an_example(name, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args([name, "--help"])
    assert exc.value.code == 0
    assert "Example" in capsys.readouterr().out


def test_gates_xor_proof_perceptron_xor():
    proc = mlplab("gates", "--gate", "and,or,nand")
    assert proc.returncode == 0
    assert "H(−1 + 1·0 + 1·1) = H(0) = 0" in proc.stdout  # AND
    assert "H(0 + 1·1 + 1·1) = H(2) = 1" in proc.stdout  # OR, correct arithmetic
    assert "H(1.5 − 1·1 − 1·1) = H(−0.5) = 0" in proc.stdout  # NAND
    proof = mlplab("xor-proof")
    assert proof.returncode == 0
    assert "2 (infeasible)" in proof.stdout and "none exists" in proof.stdout
    assert "Adding the positive rows (0,1) + (1,0): 2θ₀ + θ₁ + θ₂ > 0." in proof.stdout
    perc = mlplab("perceptron", "--gate", "and,xor")
    assert perc.returncode == 0 and "converged" in perc.stdout and "never converges" in perc.stdout
    xor = mlplab("xor")
    assert xor.returncode == 0 and "H(−0.5 + 1·1 − 2·1) = H(−1.5) = 0" in xor.stdout


def test_approx_poly_extrapolate(tmp_path):
    proc = mlplab(
        "approx",
        "--target",
        "sin(3*x)",
        "--interval=-1,1",
        "--steps",
        "4,16,64",
        "--out",
        str(tmp_path / "a.png"),
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "a.png").is_file() and "ε Heaviside" in proc.stdout
    bad = mlplab("approx", "--target", "__import__('os')")
    assert bad.returncode == 2 and bad.stderr.startswith("mlplab: error: the expression may not")
    assert "Traceback" not in bad.stderr
    poly = mlplab("poly", "--inputs", "65536", "--degree", "3")
    assert poly.returncode == 0 and "46,916,791,205,889" in poly.stdout
    assert "does NOT fit" in poly.stdout
    ext = mlplab("extrapolate", "--epochs", "200", "--out", str(tmp_path / "e.png"))
    assert ext.returncode == 0 and (tmp_path / "e.png").is_file()
    assert "polynomial degree 7" in ext.stdout and "bounded everywhere" in ext.stdout


def test_backprop_and_gradcheck():
    bp = mlplab("backprop")
    assert bp.returncode == 0 and "δ1 = ∂L/∂z1" in bp.stdout and "∂L/∂W2 = δ2ᵀ a1" in bp.stdout
    gc = mlplab("gradcheck", "--activation", "relu", "--loss", "softmax_cross_entropy")
    assert gc.returncode == 0 and "PASS" in gc.stdout
    assert "|explicit − torch|" in gc.stdout and "|explicit − jax|" in gc.stdout
    bad = mlplab("gradcheck", "--sizes", "3")
    assert bad.returncode == 2 and "at least two" in bad.stderr


def test_digits_and_mnist1d_commands(tmp_path):
    proc = mlplab("digits", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "digits" in proc.stdout and "✓" in proc.stdout
    assert (tmp_path / "digits_confusion.png").is_file()
    short = mlplab("mnist1d", "--epochs", "1")  # far too short: below the 68% bar
    assert short.returncode == 1 and "✗" in short.stdout
