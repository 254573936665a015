"""Build the example notebooks from the cells below (saved without outputs).

Run ``python examples/make_notebooks.py`` after editing a cell; the notebooks
are generated so that their source stays reviewable here. ``tests/test_notebooks.py``
executes every notebook and checks that the committed files match this script.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def code(text: str):
    return new_code_cell(text.strip("\n"))


# --- 01: the lecture, in order ------------------------------------------------------

LECTURE = [
    md("""
# The lecture "Neural Networks", in order

Every claim of the lecture, computed with `mlplab`: a neuron, the logic gates,
why XOR needs more than one neuron (a proof), the XOR network, universal
approximation built by hand, and why an MLP extrapolates better than a polynomial.
"""),
    code("""
import matplotlib.pyplot as plt
import numpy as np

import mlplab as ml
from mlplab.nn.gates import TRUTH_INPUTS, TRUTH_TABLES
"""),
    md("""
## 1. A neuron is the linear model with an activation

`f(x, θ) = σ(θ₀ + Σᵢ xᵢ θᵢ) = σ(b + w·x)`, here with the Heaviside step
`H(z) = 1 if z > 0 else 0` (so `H(0) = 0`).
"""),
    code("""
theta = np.array([-1.0, 1.0, 1.0])  # the lecture's AND neuron: bias -1, weights 1, 1
for x in TRUTH_INPUTS:
    z = theta[0] + x @ theta[1:]
    out = ml.neuron(x[None, :], theta, "heaviside")[0]
    print(f"H({theta[0]:g} + 1·{x[0]:g} + 1·{x[1]:g}) = H({z:g}) = {out:g}")
"""),
    md("""
## 2. Gates: AND with θ = [−1, 1, 1], OR with θ = [0, 1, 1]
"""),
    code("""
for name, net in [("AND", ml.and_gate()), ("OR", ml.or_gate())]:
    out = ml.to_numpy(net(TRUTH_INPUTS)).ravel().astype(int)
    print(f"{name:>3}: {out.tolist()}  expected {TRUTH_TABLES[name.lower()].tolist()}")
    assert np.array_equal(out, TRUTH_TABLES[name.lower()])
"""),
    md("""
## 3. XOR is not linearly separable: a proof, not a failed search

One Heaviside neuron computes labels y exactly when `θ₀ + θ·x ≥ 1` on the
positives and `≤ 0` on the negatives has a solution. A linear program decides
it; for XOR it is infeasible, and Farkas' lemma gives a certificate we can read.
"""),
    code("""
from mlplab.theory.separability import check_gate

print("AND separable:", check_gate("and").separable, "with θ =", check_gate("and").theta)
xor = check_gate("xor")
print("XOR separable:", xor.separable, "| certificate verified:", xor.verified)
print(xor.certificate.text())
"""),
    md("""
## 4. XOR with a deep and wide network

`θ = [[−0.5, 1, 1], [−1.5, 1, 1], [−0.5, 1, −2]]`: hidden neuron 1 is OR,
hidden neuron 2 is AND, the output fires for "OR and not AND".
"""),
    code("""
xor_net = ml.xor_network()
out, caches = xor_net.forward(TRUTH_INPUTS)
hidden = ml.to_numpy(caches[0].a)
for x, h, y in zip(TRUTH_INPUTS, hidden, ml.to_numpy(out), strict=True):
    print(f"x = {x.astype(int)}  hidden (OR, AND) = {h.astype(int)}  XOR = {int(y[0])}")
assert np.array_equal(ml.to_numpy(out).ravel(), TRUTH_TABLES["xor"])
print(xor_net, "| parameter matrices:", xor_net.shapes)
"""),
    md("""
The same function can be *learned*: a 2-8-1 tanh network trained by gradient
descent from random weights finds its own XOR boundary.
"""),
    code("""
learned = ml.MLP(2, [8], 1, activation="tanh", seed=0)
ml.fit(learned, TRUTH_INPUTS, TRUTH_TABLES["xor"], optimizer="sgd", lr=0.5, steps=2000, verbose=0)
assert np.array_equal(learned.predict_class(TRUTH_INPUTS), TRUTH_TABLES["xor"])

g1, g2 = np.meshgrid(np.linspace(-0.5, 1.5, 201), np.linspace(-0.5, 1.5, 201))
p = learned.predict_proba(np.column_stack([g1.ravel(), g2.ravel()]))[:, 1].reshape(g1.shape)
fig, ax = plt.subplots(figsize=(4.5, 4))
ax.contourf(g1, g2, p, levels=[0, 0.5, 1], colors=["#cfe2f3", "#f4cccc"], alpha=0.8)
ax.contour(g1, g2, p, levels=[0.5], colors="k")
for label, color in [(0, "tab:blue"), (1, "tab:red")]:
    pts = TRUTH_INPUTS[TRUTH_TABLES["xor"] == label]
    ax.scatter(pts[:, 0], pts[:, 1], s=120, color=color, edgecolor="k", label=f"XOR = {label}")
ax.set(title="Decision boundary of a trained 2-8-1 MLP", xlabel="x₁", ylabel="x₂")
ax.legend(loc="center")
"""),
    md("""
## 5. Universal approximation, built by hand

`f(x) = θ₂,₀ + θ₂,₁ Σⱼ H(θ₁,₀ + θ₁,ⱼ x)`: each hidden step neuron switches on at
one point `cⱼ` of the interval and adds the jump `g(cⱼ) − g(cⱼ₋₁)`. The
weights are written down, not trained, with `MLP.from_params`; the error ε
shrinks as the network widens.
"""),
    code("""
def g(x):
    return np.sin(2 * x) + 0.3 * x  # any continuous function on [0, 3]


def heaviside_sum(n_steps, lo=0.0, hi=3.0):
    edges = np.linspace(lo, hi, n_steps + 1)
    centers = (edges[:-1] + edges[1:]) / 2  # where each step switches on
    levels = g(centers)
    jumps = np.diff(levels, prepend=0.0)  # jump j adds levels[j] - levels[j-1]
    W1 = np.ones((n_steps, 1))  # (n_steps, 1): neuron j computes H(x - t_j)
    b1 = -np.concatenate([[lo - 1.0], edges[1:-1]])  # the first step is always on
    W2 = jumps[None, :]  # (1, n_steps)
    b2 = np.zeros(1)
    return ml.MLP.from_params([(b1, W1), (b2, W2)], ["heaviside", "identity"], dtype="float64")


x = np.linspace(0, 3, 2001)[:, None]
widths = [4, 16, 64, 256]
errors = []
for n in widths:
    f = ml.to_numpy(heaviside_sum(n)(x)).ravel()
    errors.append(np.abs(f - g(x.ravel())).max())
    print(f"width {n:>3}: max |g - f| = {errors[-1]:.4f}")
assert all(a > b for a, b in zip(errors, errors[1:]))  # ε shrinks as the layer widens
"""),
    code("""
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
ax1.plot(x, g(x), "k", lw=2, label="g(x) = sin 2x + 0.3x")
for n in (4, 16):
    ax1.plot(x, ml.to_numpy(heaviside_sum(n)(x)), label=f"Heaviside sum, {n} neurons")
ax1.set(title="Heaviside sums approximate g", xlabel="x", ylabel="y")
ax1.legend()
ax2.loglog(widths, errors, "o-", label="max |g − f| on [0, 3]")
ax2.set(title="Error shrinks with width", xlabel="hidden neurons", ylabel="max error ε")
ax2.legend()
plt.tight_layout()
"""),
    md("""
## 6. Polynomials tend to ±∞ outside the data; an MLP stays bounded

The lecture's `f(x) = x³ − 2x² − x + 2` sampled at x = 0, 0.25, …, 1.75.
"""),
    code("""
from mlplab.theory.linear import eval_polynomial, fit_polynomial


def cubic(x):
    return x**3 - 2 * x**2 - x + 2


x_train = np.arange(0, 2, 0.25)
noise = np.random.default_rng(0).normal(0, 0.05, x_train.shape)  # a little measurement noise
y_train = cubic(x_train) + noise
x_wide = np.linspace(-5, 5, 401)

polys = {m: eval_polynomial(fit_polynomial(x_train, y_train, m)[0], x_wide) for m in (3, 7)}
net = ml.MLP(1, [16], 1, activation="tanh", seed=0, dtype="float64")
ml.fit(net, x_train[:, None], y_train[:, None], lr=0.02, epochs=2000, verbose=0)
mlp_wide = ml.to_numpy(net(x_wide[:, None])).ravel()
for m, p in polys.items():
    print(f"degree-{m} polynomial: max |ŷ| on [-5, 5] = {np.abs(p).max():.3g}")
print(f"1-16-1 tanh MLP:       max |ŷ| on [-5, 5] = {np.abs(mlp_wide).max():.3g}")
assert np.abs(mlp_wide).max() < 10 < min(np.abs(p).max() for p in polys.values())
"""),
    code("""
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(x_wide, cubic(x_wide), "k--", label="true f(x)")
for m, p in polys.items():
    ax.plot(x_wide, p, label=f"degree-{m} polynomial")
ax.plot(x_wide, mlp_wide, label="1-16-1 tanh MLP")
ax.scatter(x_train, y_train, color="red", zorder=3, label="training samples")
ax.set(title="Extrapolation outside the samples", xlabel="x", ylabel="y", ylim=(-60, 60))
ax.legend()
"""),
]

# --- 02: backprop by hand --------------------------------------------------------------

BACKPROP = [
    md("""
# Backpropagation by hand, checked against autodiff

One gradient-descent step on a 2-2-1 sigmoid network and one sample, with
every delta written out: the "fault" each neuron is assigned. The same
numbers come from mlplab's explicit backward pass, `torch.autograd` and `jax.grad`.
"""),
    code("""
import jax
import jax.numpy as jnp
import numpy as np
import torch

import mlplab as ml

b1, W1 = np.array([0.1, -0.2]), np.array([[0.5, -0.4], [0.8, 0.2]])  # (2,), (2, 2)
b2, W2 = np.array([0.05]), np.array([[1.0, -1.5]])  # (1,), (1, 2)
x, y = np.array([[1.0, 2.0]]), np.array([[1.0]])  # one sample (1, 2) and its target
net = ml.MLP.from_params([(b1, W1), (b2, W2)], ["sigmoid", "sigmoid"], dtype="float64")


def sigmoid(z):
    return 1 / (1 + np.exp(-z))
"""),
    md("""
## Forward pass

`z₁ = b₁ + W₁x`, `a₁ = σ(z₁)`, `z₂ = b₂ + W₂a₁`, `ŷ = σ(z₂)`,
loss `L = (ŷ − y)²` (mean squared error of one sample).
"""),
    code("""
z1 = b1 + x @ W1.T  # (1, 2) @ (2, 2) -> (1, 2)
a1 = sigmoid(z1)
z2 = b2 + a1 @ W2.T  # (1, 2) @ (2, 1) -> (1, 1)
y_hat = sigmoid(z2)
L = float(((y_hat - y) ** 2).mean())
print("z1 =", z1, " a1 =", a1)
print("z2 =", z2, " ŷ =", y_hat, " L =", L)
"""),
    md("""
## Backward pass: the deltas

`δ₂ = ∂L/∂z₂ = 2(ŷ − y) · σ'(z₂)` with `σ' = a(1 − a)`; then the blame is passed
down through the weights: `δ₁ = (δ₂ W₂) ⊙ σ'(z₁)`. Gradients:
`∂L/∂W_ℓ = δ_ℓᵀ a_{ℓ−1}`, `∂L/∂b_ℓ = Σ δ_ℓ`.
"""),
    code("""
delta2 = 2 * (y_hat - y) * y_hat * (1 - y_hat)  # (1, 1)
delta1 = (delta2 @ W2) * a1 * (1 - a1)  # (1, 1) @ (1, 2) -> (1, 2)
grads_by_hand = [(delta1.sum(0), delta1.T @ x), (delta2.sum(0), delta2.T @ a1)]
print("δ2 =", delta2, "\\nδ1 =", delta1)
for i, (gb, gW) in enumerate(grads_by_hand, 1):
    print(f"layer {i}: ∂L/∂b = {gb}, ∂L/∂W = {gW.tolist()}")
"""),
    md("""
## The same from mlplab, torch.autograd and jax.grad
"""),
    code("""
value, back = net.gradients(x, y, "mse")
np.testing.assert_allclose(value, L, rtol=1e-12)
for mine, hand in zip(back.deltas, [delta1, delta2], strict=True):
    np.testing.assert_allclose(ml.to_numpy(mine), hand, rtol=1e-12)
for (gb, gW), (hb, hW) in zip(back.grads, grads_by_hand, strict=True):
    np.testing.assert_allclose(ml.to_numpy(gW), hW, rtol=1e-12)
    np.testing.assert_allclose(ml.to_numpy(gb), hb, rtol=1e-12)

# torch.autograd
tp = [torch.tensor(p, requires_grad=True) for p in (b1, W1, b2, W2)]
t_out = torch.sigmoid(torch.sigmoid(torch.tensor(x) @ tp[1].T + tp[0]) @ tp[3].T + tp[2])
((t_out - torch.tensor(y)) ** 2).mean().backward()
torch_grads = [p.grad.numpy() for p in tp]


# jax.grad
def loss_fn(params):
    c1, V1, c2, V2 = params
    out = jax.nn.sigmoid(jax.nn.sigmoid(x @ V1.T + c1) @ V2.T + c2)
    return jnp.mean((out - y) ** 2)


jax_grads = jax.grad(loss_fn)([jnp.asarray(p) for p in (b1, W1, b2, W2)])
hand_flat = [grads_by_hand[0][0], grads_by_hand[0][1], grads_by_hand[1][0], grads_by_hand[1][1]]
for name, h, t, j in zip(["b1", "W1", "b2", "W2"], hand_flat, torch_grads, jax_grads, strict=True):
    np.testing.assert_allclose(t, h, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(j), h, rtol=1e-5)
    print(f"∂L/∂{name}: by hand {np.round(h, 6).tolist()}  torch and jax agree")
"""),
    md("""
## One gradient-descent step: `θ ← θ − lr · ∂L/∂θ`
"""),
    code("""
lr = 0.5
pairs = zip(net.numpy_params(), grads_by_hand, strict=True)
stepped = [(b - lr * gb, W - lr * gW) for (b, W), (gb, gW) in pairs]
after = ml.MLP.from_params(stepped, ["sigmoid", "sigmoid"], dtype="float64")
L_after = float(((ml.to_numpy(after(x)) - y) ** 2).mean())
print(f"loss before {L:.6f} -> after one step {L_after:.6f}")
assert L_after < L

# mlplab.fit with plain SGD takes exactly the same step
trained = ml.MLP.from_params([(b1, W1), (b2, W2)], ["sigmoid", "sigmoid"], dtype="float64")
ml.fit(trained, x, y, loss="mse", optimizer="sgd", lr=lr, steps=1, verbose=0)
for (b, W), (sb, sW) in zip(trained.numpy_params(), stepped, strict=True):
    np.testing.assert_allclose(W, sW, rtol=1e-12)
    np.testing.assert_allclose(b, sb, rtol=1e-12)
"""),
]

# --- 03: digits on two backends ------------------------------------------------------------

DIGITS = [
    md("""
# Digits on PyTorch and JAX, side by side

The lecture's history slide: Rosenblatt's perceptron read a 20×20 grid of
photocells. Here an MLP reads scikit-learn's 8×8 digits. The same model and
seed run on PyTorch and on JAX (a compiled `lax.scan` loop); the loss curves
agree to float tolerance.
"""),
    code("""
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import mlplab as ml

# These matrices are tiny (64 × 64): one CPU thread is faster than a thread pool
# whose synchronisation costs more than the arithmetic (and is slow on a busy machine).
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixel intensities 0..16 -> 0..1
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)
print(X_train.shape, X_test.shape, "classes:", np.unique(y).tolist())
"""),
    code("""
results = {}
for backend in ["torch", "jax"]:
    net = ml.MLP(64, [64], 10, activation="relu", seed=0, backend=backend, dtype="float32")
    start = time.perf_counter()
    history = ml.fit(net, X_train, y_train, optimizer="adam", lr=3e-3, epochs=15,
                     batch_size=64, verbose=0)
    seconds = time.perf_counter() - start
    accuracy = net.score(X_test, y_test)
    results[backend] = (history, accuracy, seconds)
    print(f"{backend:>5}: test accuracy {accuracy:.3f}, final loss {history.train_loss[-1]:.4f}, "
          f"{seconds:.2f} s ({ml.get_backend(backend).describe()})")

torch_curve = np.array(results["torch"][0].train_loss)
jax_curve = np.array(results["jax"][0].train_loss)
print("largest loss difference between backends:", np.abs(torch_curve - jax_curve).max())
np.testing.assert_allclose(torch_curve, jax_curve, rtol=1e-3)
assert min(r[1] for r in results.values()) > 0.9
"""),
    code("""
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
for backend, (history, accuracy, _) in results.items():
    ax1.plot(history.epoch, history.train_loss, label=f"{backend} (test acc {accuracy:.3f})")
ax1.set(title="Same seed, same loss curve", xlabel="epoch", ylabel="softmax cross-entropy")
ax1.legend()
epochs = results["torch"][0].epoch
ax2.semilogy(epochs, np.abs(torch_curve - jax_curve) + 1e-12, "o-", label="|torch − jax|")
ax2.set(title="Backends agree to float32 rounding", xlabel="epoch", ylabel="loss difference")
ax2.legend()
plt.tight_layout()
"""),
]

# --- 04: CSV workflow with the scikit-learn estimator ---------------------------------------

CSV = [
    md("""
# A CSV workflow with `mlplab.sklearn.MLPClassifier` in a scikit-learn pipeline

Write a CSV file (scikit-learn's wine data, with text labels) to a temporary
folder, read it back with `mlplab.data.load_csv`, and fit a
`StandardScaler` + `MLPClassifier` pipeline: cross-validation, a small grid
search, held-out accuracy and the confusion matrix.
"""),
    code("""
import csv
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlplab.data import load_csv
from mlplab.nn.metrics import confusion_matrix
from mlplab.sklearn import MLPClassifier

wine = load_wine()
folder = Path(tempfile.mkdtemp())
path = folder / "wine.csv"
with open(path, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow([*wine.feature_names, "cultivar"])
    for row, label in zip(wine.data, wine.target, strict=True):
        writer.writerow([*row, wine.target_names[label]])
print(path, "-", path.stat().st_size, "bytes;", open(path).readline()[:80], "...")
"""),
    code("""
data = load_csv(path, target="cultivar")
print(data.task, data.X.shape, "classes:", data.classes)
X_train, X_test, y_train, y_test = train_test_split(
    data.X, np.asarray(data.classes)[data.y], test_size=0.3, random_state=0, stratify=data.y
)
"""),
    code("""
# stop once the training loss improves by less than tol = 1e-3 for 10 epochs in a row
mlp = MLPClassifier((32,), learning_rate_init=0.01, tol=1e-3, max_iter=300, random_state=0)
pipe = make_pipeline(StandardScaler(), mlp)
scores = cross_val_score(pipe, X_train, y_train, cv=5)
print("5-fold accuracy:", scores.round(3), "mean", scores.mean().round(3))

grid = GridSearchCV(pipe, {"mlpclassifier__hidden_layer_sizes": [(8,), (32,)],
                           "mlpclassifier__alpha": [1e-4, 1e-1]}, cv=3)
grid.fit(X_train, y_train)
print("best:", grid.best_params_, "cv accuracy", round(grid.best_score_, 3))
test_accuracy = grid.score(X_test, y_test)
print("held-out accuracy:", round(test_accuracy, 3))
assert test_accuracy > 0.9
"""),
    code("""
clf = grid.best_estimator_[-1]
classes = list(clf.classes_)
pred = grid.predict(X_test)
cm = confusion_matrix([classes.index(c) for c in y_test], [classes.index(c) for c in pred],
                      n_classes=len(classes))
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
epochs = range(1, len(clf.loss_curve_) + 1)
ax1.plot(epochs, clf.loss_curve_, label="training loss (cross-entropy + L2)")
ax1.set(title="Loss curve of the best pipeline", xlabel="epoch", ylabel="loss")
ax1.legend()
im = ax2.imshow(cm, cmap="Blues")
for i in range(len(classes)):
    for j in range(len(classes)):
        shade = "white" if cm[i, j] > cm.max() / 2 else "black"  # readable on dark cells
        ax2.text(j, i, int(cm[i, j]), ha="center", va="center", color=shade)
ax2.set(title="Confusion matrix (held-out)", xlabel="predicted cultivar", ylabel="true cultivar",
        xticks=range(len(classes)), yticks=range(len(classes)),
        xticklabels=classes, yticklabels=classes)
fig.colorbar(im, ax=ax2, label="samples")
plt.tight_layout()
"""),
]

NOTEBOOKS = {
    "01_lecture.ipynb": LECTURE,
    "02_backprop_by_hand.ipynb": BACKPROP,
    "03_digits_backends.ipynb": DIGITS,
    "04_csv_pipeline.ipynb": CSV,
}


def build(name: str):
    """The notebook ``name`` as an ``nbformat`` node (no outputs)."""
    nb = new_notebook(cells=NOTEBOOKS[name])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell.id = f"{Path(name).stem[:2]}-{i:02d}"  # stable ids: regenerating changes nothing
    return nb


def render(name: str) -> str:
    return nbformat.writes(build(name)) + "\n"


def main(argv=None) -> int:
    for name in NOTEBOOKS:
        (HERE / name).write_text(render(name), encoding="utf-8")
        print("wrote", HERE / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
