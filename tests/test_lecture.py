"""Each lecture claim's result object, against the numbers in LECTURE.md."""

from __future__ import annotations

import os

import numpy as np
import pytest

from mlplab.backend.arrays import available_backends
from mlplab.lecture import CLAIMS, backends, backprop, images, neurons, regression
from mlplab.lecture.tour import to_jsonable, verdict


def test_claims_cover_l1_to_l13():
    assert list(CLAIMS) == [f"L{i}" for i in range(1, 14)]
    for cid, claim in CLAIMS.items():
        assert claim.id == cid and claim.title and claim.statement and claim.command
        assert claim.statement.count("$") % 2 == 0, f"{cid}: unbalanced $ in the statement"


def test_a_new_claim_is_one_registration(monkeypatch, tmp_path):
    """Registering a claim is all it takes for the tour, the text and the report to show it."""
    import io

    from rich.console import Console

    from mlplab.lecture import registry
    from mlplab.lecture.report import write_report
    from mlplab.lecture.text import render
    from mlplab.lecture.tour import run_tour

    def figures(result, out):
        path = out / "l14.txt"
        path.write_text("a figure")
        return [registry.Figure(path, "what to notice")]

    claim = registry.Claim(
        id="L14",
        title="Two plus two is four.",
        statement="$2 + 2 = 4$.",
        explanation="Computed.",
        command="mlplab tour --only L14",
        run=lambda s: 2 + 2 + s.seed,
        verdict=lambda r: (r == 4, f"2 + 2 = {r}"),
        text=lambda con, r: con.print(f"the sum is {r}"),
        figures=figures,
    )
    monkeypatch.setitem(registry._REGISTRY, "L14", claim)
    assert list(registry.claims())[-2:] == ["L13", "L14"]
    tour = run_tour(claims=["L14"])
    assert tour.verdicts() == {"L14": (True, "2 + 2 = 4")}
    con = Console(record=True, file=io.StringIO(), width=100)
    render(con, "L14", tour.results["L14"])
    printed = con.export_text()
    assert "Two plus two is four." in printed and "the sum is 4" in printed
    files = write_report(tour, tmp_path)
    page = files.html.read_text(encoding="utf-8")
    assert "id='L14'" in page and "<math" in page and "what to notice" in page
    with pytest.raises(ValueError, match="twice"):
        registry.register(claim)


def test_l1_normal_equations():
    r = regression.linear_regression(seed=0)
    assert r.max_diff_reference < 1e-8 and r.max_diff_sklearn < 1e-8
    assert r.theta_solve.shape == (r.n_inputs + 1,)
    np.testing.assert_allclose(r.theta_solve, r.theta_true, atol=0.05)
    assert verdict("L1", r)[0]


def test_l2_polynomial_blowup():
    r = regression.polynomial_blowup()
    assert r.lecture_columns == 46_916_791_205_889 and r.small_columns == 10
    assert r.small_shape == (5, 10) and r.small_matches_sklearn
    assert r.refused and "46,916,791,205,889" in r.refusal_message
    assert r.refusal_peak_bytes < 5_000_000
    row = next(x for x in r.rows if (x["d"], x["m"]) == (65536, 3))
    assert row["columns"] == 46_916_791_205_889
    assert row["gram_bytes"] == 8 * 46_916_791_205_889**2
    assert verdict("L2", r)[0]


def test_l3_extrapolation():
    r = regression.extrapolation(epochs=800)
    np.testing.assert_array_equal(r.x_train, [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75])
    np.testing.assert_allclose(r.y_train, r.x_train**3 - 2 * r.x_train**2 - r.x_train + 2)
    assert r.at_ends["polynomial degree 3"] == pytest.approx((-168.0, 72.0), abs=1e-6)
    mlp = "tanh MLP 1-16-1"
    assert r.max_abs[mlp] <= r.mlp_bound
    assert r.train_rmse[mlp] < 0.2
    for name, value in r.max_abs.items():
        if name.startswith("polynomial"):
            assert value > 5 * np.abs(r.y_train).max()
    # beside the cubic, a target that is no polynomial: no fit follows it outside the data
    s = regression.extrapolation((3, 5, 7), epochs=800, target="sin")
    np.testing.assert_allclose(s.y_train, np.sin(3 * s.x_train))
    assert (
        s.max_abs["tanh MLP 1-16-1"]
        < 5
        < min(v for k, v in s.max_abs.items() if k.startswith("polynomial"))
    )
    ok, summary = verdict("L3", {"cubic": r, "sin": s})
    assert ok and "sin(3x)" in summary and "x³ − 2x² − x + 2" in summary


def test_l4_neuron_and_heaviside():
    r = neurons.neuron_demo()
    assert r.heaviside == [0, 0, 0, 1, 1]  # H(0) = 0
    assert max(r.max_diff.values()) < 1e-12


def test_l5_truth_tables_with_arithmetic():
    tables = neurons.gate_tables(("and", "or", "nand", "nor"))
    assert all(t.correct for t in tables.values())
    assert tables["and"].theta == [-1, 1, 1] and tables["or"].theta == [0, 1, 1]
    assert [r.arithmetic for r in tables["and"].rows] == [
        "H(−1 + 1·0 + 1·0) = H(−1) = 0",
        "H(−1 + 1·0 + 1·1) = H(0) = 0",
        "H(−1 + 1·1 + 1·0) = H(0) = 0",
        "H(−1 + 1·1 + 1·1) = H(1) = 1",
    ]
    assert [r.arithmetic for r in tables["or"].rows] == [
        "H(0 + 1·0 + 1·0) = H(0) = 0",
        "H(0 + 1·0 + 1·1) = H(1) = 1",
        "H(0 + 1·1 + 1·0) = H(1) = 1",
        "H(0 + 1·1 + 1·1) = H(2) = 1",
    ]
    assert [r.output for r in tables["or"].rows] == [0, 1, 1, 1]


def test_l6_xor_impossibility():
    r = neurons.xor_impossibility()
    assert r.separability["xor"].lp_status == 2 and not r.separability["xor"].separable
    assert all(r.separability[g].separable for g in ("and", "or", "nand", "nor"))
    assert r.perceptron["and"].converged and r.perceptron["or"].converged
    assert r.perceptron["xor"].stop_reason == "cycle"
    assert verdict("L6", r)[0]


def test_l7_layer_is_its_neurons():
    r = neurons.wide_layer()
    assert r.output_shape == (8, 5)
    assert len(r.max_diff) == 4 * len(available_backends())
    assert max(r.max_diff.values()) < 1e-6


def test_l8_four_layers_four_matrices():
    r = neurons.deep_network()
    assert r.depth == 4 and r.n_matrices == 4
    assert [s[1] for s in r.shapes] == [(32, 64), (16, 32), (8, 16), (10, 8)]
    assert (
        r.n_params == r.n_params_counted == 64 * 32 + 32 + 32 * 16 + 16 + 16 * 8 + 8 + 8 * 10 + 10
    )
    assert r.composition_max_diff < 1e-12


def test_l9_xor_network():
    r = neurons.xor_network_table()
    assert r.thetas == [[-0.5, 1, 1], [-1.5, 1, 1], [-0.5, 1, -2]]
    assert [row.output for row in r.rows] == [0, 1, 1, 0]
    assert [row.hidden for row in r.rows] == [(0, 0), (1, 0), (1, 0), (1, 1)]  # (OR, AND)
    assert r.rows[3].output_arithmetic == "H(−0.5 + 1·1 − 2·1) = H(−1.5) = 0"
    assert r.correct and r.hidden_is_or_and


def test_l11_backprop_step():
    r = backprop.backprop_step()
    assert [d.shape for d in r.deltas] == [(4, 3), (4, 1)]
    assert [g[1].shape for g in r.grads] == [(3, 2), (1, 3)]
    assert r.by_hand_max_diff < 1e-12
    assert r.loss_after < r.loss_before
    assert r.check.max_fd_rel_err < 1e-5
    assert r.check.max_autodiff_abs_err < 1e-10
    assert verdict("L11", r)[0]


@pytest.mark.parametrize("activation,loss", [("relu", "softmax_cross_entropy"), ("sigmoid", "mse")])
def test_gradient_check_other_architectures(activation, loss):
    g = backprop.gradient_check((3, 4, 3), activation, loss, batch=5)
    assert g.max_fd_rel_err < 1e-4
    assert g.max_autodiff_abs_err < 1e-10
    assert [row.parameter for row in g.rows] == ["W1", "b1", "W2", "b2"]


def test_l12_backends_agree():
    r = backends.backend_agreement(epochs=5)
    assert r.backends == available_backends()
    assert max(r.max_loss_diff.values()) < 1e-8
    assert max(r.max_param_diff.values()) < 1e-8
    assert verdict("L12", r)[0]


@pytest.fixture(scope="module")
def image_results():
    return {name: images.train_images(name, seed=0) for name in ("digits", "mnist1d")}


def test_l13_digits(image_results):
    r = image_results["digits"]
    assert (r.n_train, r.n_test, r.n_features, r.n_classes) == (1347, 450, 64, 10)
    assert r.test_accuracy >= 0.975
    assert r.confusion.shape == (10, 10) and r.confusion.sum() == 450
    assert np.trace(r.confusion) / 450 == pytest.approx(r.test_accuracy)


def test_l13_mnist1d(image_results):
    r = image_results["mnist1d"]
    assert (r.n_train, r.n_test, r.n_features, r.n_classes) == (4000, 1000, 40, 10)
    assert r.test_accuracy >= 0.68
    assert r.baseline_accuracy < r.test_accuracy
    assert verdict("L13", image_results)[0]


def test_results_are_json_ready():
    import json

    r = neurons.xor_impossibility()
    data = json.loads(json.dumps(to_jsonable(r)))
    assert data["separability"]["xor"]["lp_status"] == 2
    assert data["separability"]["xor"]["certificate"]["multipliers"] == [1, 1, 1, 1]


def test_l12_is_not_shown_by_numpy_alone():
    # "runs on NumPy, PyTorch and JAX" needs the other two to have run
    r = backends.backend_agreement(epochs=2, backends=["numpy"])
    ok, _ = verdict("L12", r)
    assert not ok
    # ... and without them the claim is "not run", not failed
    assert CLAIMS["L12"].check(r) == ("not run", "not run: install mlplab[torch,jax]")
    r = backends.backend_agreement(epochs=2, backends=["numpy", "torch"])
    assert CLAIMS["L12"].check(r)[1] == "not run: install mlplab[jax]"


def test_l11_without_autodiff_is_not_run():
    r = backprop.backprop_step()
    r.check = backprop.gradient_check((2, 3, 1), "tanh", "mse", batch=4, frameworks=())
    assert CLAIMS["L11"].check(r) == ("not run", "not run: install mlplab[torch,jax]")


@pytest.mark.skipif(
    os.environ.get("MLPLAB_SLOW") != "1", reason="20 trainings (~2 min): set MLPLAB_SLOW=1"
)
def test_l13_digits_holds_on_every_seed():
    """The bar holds whatever the seed (each seed is also its own train/test split)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.l13_seeds import accuracies

    acc = accuracies("digits", 20)
    assert acc.min() >= images.DIGITS_THRESHOLD, acc.round(4).tolist()
