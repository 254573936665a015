"""Build the example notebooks from the cells below, run them, and save them WITH outputs.

Run ``python examples/make_notebooks.py`` after editing a cell: the notebooks
are generated so that their source stays reviewable here, and executed so that
their figures and printed results show on a repository's web view.
``tests/test_notebooks.py`` checks that the committed files have this script's
cells and that re-running them gives the stored outputs. Each notebook opens in
Colab (badge + an install cell that keeps Colab's own torch and jax) and ends
with exercises whose solutions are folded away.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
GITHUB_REPO = "mlplab/mlplab"  # where the repository is published (the Colab badge opens it)
KERNEL = "python3"


def colab_header(name: str) -> list:
    """The link that opens ``name`` in Colab, and a cell installing mlplab there.

    mlplab is installed without its ``torch``/``jax`` extras, so Colab's own
    PyTorch and JAX stay as they are; outside Colab the cell does nothing.
    """
    url = f"https://colab.research.google.com/github/{GITHUB_REPO}/blob/main/examples/{name}"
    # a text link, not the badge image: the docs site loads nothing from the network
    badge = f"[**▶ Open in Colab**]({url}): runs in the browser; the next cell installs mlplab."
    install = f"""
# On Colab: install mlplab (not its torch/jax extras: Colab's own PyTorch and JAX are kept)
import importlib.util
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("mlplab") is None:
    get_ipython().run_line_magic("pip", "install -q 'mlplab @ git+https://github.com/{GITHUB_REPO}'")
"""
    return [md(badge), code(install)]


def exercises(*items: tuple[str, str]) -> list:
    """An "Exercises" cell: each ``(question, solution)`` with the solution folded away."""
    parts = ["## Exercises"]
    for i, (question, solution) in enumerate(items, 1):
        parts.append(
            f"**{i}.** {question.strip()}\n\n<details><summary>Solution</summary>\n\n"
            f"{solution.strip()}\n\n</details>"
        )
    return [md("\n\n".join(parts))]


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
approximation built by hand, and what polynomials and MLPs do outside their data
(neither extrapolates).
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

The lecture's `f(x) = x³ − 2x² − x + 2` sampled at x = 0, 0.25, …, 1.75, with a
little noise. Outside the samples the polynomials leave for ±∞ and the tanh MLP
flattens to a constant: it stays bounded, but it does not follow the cubic
either. Neither model extrapolates; bounded is not the same as right.
"""),
    code("""
from mlplab.theory.linear import eval_polynomial, fit_polynomial


def cubic(x):
    return x**3 - 2 * x**2 - x + 2


x_train = np.arange(0, 2, 0.25)
x_wide = np.linspace(-5, 5, 401)
noise = np.random.default_rng(0).normal(0, 0.05, x_train.shape)  # a little measurement noise
targets = {"x³ − 2x² − x + 2": cubic, "sin(3x), no polynomial": lambda x: np.sin(3 * x)}
fits = {}
for name, g in targets.items():
    y_train = g(x_train) + noise
    polys = {m: eval_polynomial(fit_polynomial(x_train, y_train, m)[0], x_wide) for m in (3, 7)}
    net = ml.MLP(1, [16], 1, activation="tanh", seed=0, dtype="float64")
    ml.fit(net, x_train[:, None], y_train[:, None], lr=0.02, epochs=2000, verbose=0)
    mlp_wide = ml.to_numpy(net(x_wide[:, None])).ravel()
    fits[name] = (y_train, polys, mlp_wide)
    print(name)
    for m, p in polys.items():
        print(f"  degree-{m} polynomial: max |ŷ| on [-5, 5] = {np.abs(p).max():.3g}")
    print(f"  1-16-1 tanh MLP:       max |ŷ| on [-5, 5] = {np.abs(mlp_wide).max():.3g}")
    assert np.abs(mlp_wide).max() < 10 < min(np.abs(p).max() for p in polys.values())
"""),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, (name, (y_train, polys, mlp_wide)) in zip(axes, fits.items(), strict=True):
    ax.plot(x_wide, targets[name](x_wide), "k--", label="the target")
    for m, p in polys.items():
        ax.plot(x_wide, p, label=f"degree-{m} polynomial")
    ax.plot(x_wide, mlp_wide, label="1-16-1 tanh MLP")
    ax.scatter(x_train, y_train, color="red", zorder=3, label="training samples")
    span = 3 * np.abs(y_train).max()
    ax.set(title=f"{name}: neither model follows it", xlabel="x", ylabel="y",
           ylim=(-span, span))
    ax.legend(fontsize="small")
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
import importlib.util

import numpy as np

import mlplab as ml

HAVE_TORCH = importlib.util.find_spec("torch") is not None  # pip install mlplab[torch]
HAVE_JAX = importlib.util.find_spec("jax") is not None  # pip install mlplab[jax]

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

hand_flat = [grads_by_hand[0][0], grads_by_hand[0][1], grads_by_hand[1][0], grads_by_hand[1][1]]
for name, h in zip(["b1", "W1", "b2", "W2"], hand_flat, strict=True):
    print(f"∂L/∂{name}: by hand {np.round(h, 6).tolist()}  mlplab agrees")

if HAVE_TORCH:  # torch.autograd
    import torch

    tp = [torch.tensor(p, requires_grad=True) for p in (b1, W1, b2, W2)]
    t_out = torch.sigmoid(torch.sigmoid(torch.tensor(x) @ tp[1].T + tp[0]) @ tp[3].T + tp[2])
    ((t_out - torch.tensor(y)) ** 2).mean().backward()
    for p, h in zip(tp, hand_flat, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), h, rtol=1e-10)
    print("torch.autograd agrees")
else:
    print("PyTorch is not installed: its check is skipped (pip install mlplab[torch])")

if HAVE_JAX:  # jax.grad
    import jax
    import jax.numpy as jnp

    def loss_fn(params):
        c1, V1, c2, V2 = params
        out = jax.nn.sigmoid(jax.nn.sigmoid(x @ V1.T + c1) @ V2.T + c2)
        return jnp.mean((out - y) ** 2)

    jax_grads = jax.grad(loss_fn)([jnp.asarray(p) for p in (b1, W1, b2, W2)])
    for j, h in zip(jax_grads, hand_flat, strict=True):
        np.testing.assert_allclose(np.asarray(j), h, rtol=1e-5)
    print("jax.grad agrees")
else:
    print("JAX is not installed: its check is skipped (pip install mlplab[jax])")
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
import importlib.util

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import mlplab as ml

BACKENDS = [b for b in ("torch", "jax") if importlib.util.find_spec(b) is not None]
if len(BACKENDS) < 2:
    print("PyTorch and JAX are not both installed (pip install mlplab[torch,jax]): "
          "comparing", ["numpy", *BACKENDS], "instead")
    BACKENDS = ["numpy", *BACKENDS]
if "torch" in BACKENDS:
    import torch

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
for backend in BACKENDS[:2]:
    net = ml.MLP(64, [64], 10, activation="relu", seed=0, backend=backend, dtype="float32")
    history = ml.fit(net, X_train, y_train, optimizer="adam", lr=3e-3, epochs=15,
                     batch_size=64, verbose=0)
    accuracy = net.score(X_test, y_test)
    results[backend] = (history, accuracy, None)
    print(f"{backend:>5}: test accuracy {accuracy:.3f}, final loss {history.train_loss[-1]:.4f}")

curves = [np.array(results[b][0].train_loss) for b in BACKENDS[:2]]
if len(curves) == 2:
    print(f"largest loss difference between {BACKENDS[0]} and {BACKENDS[1]}: "
          f"{np.abs(curves[0] - curves[1]).max():.1e}")
    np.testing.assert_allclose(curves[0], curves[1], rtol=1e-3)
else:
    print("only NumPy here: nothing to compare it with (pip install mlplab[torch,jax])")
assert min(r[1] for r in results.values()) > 0.9
"""),
    code("""
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
for backend, (history, accuracy, _) in results.items():
    ax1.plot(history.epoch, history.train_loss, label=f"{backend} (test acc {accuracy:.3f})")
ax1.set(title="Same seed, same loss curve", xlabel="epoch", ylabel="softmax cross-entropy")
ax1.legend()
epochs = results[BACKENDS[0]][0].epoch
if len(curves) == 2:
    ax2.semilogy(epochs, np.abs(curves[0] - curves[1]) + 1e-12, "o-",
                 label=f"|{BACKENDS[0]} − {BACKENDS[1]}|")
    ax2.legend()
ax2.set(title="Backends agree to float32 rounding", xlabel="epoch", ylabel="loss difference")
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
print(path.name, "-", path.stat().st_size, "bytes;", open(path).readline()[:80], "...")
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

# --- exercises (solutions folded away) ------------------------------------------------------

LECTURE += exercises(
    (
        "Find θ = [θ₀, θ₁, θ₂] for a NAND neuron (output 0 only for x = (1, 1)) and check "
        "it with `ml.neuron`.",
        """NAND is *not AND*: flip the signs of AND's θ and move the threshold,
θ = [1.5, −1, −1]. Rows: H(1.5) = 1, H(0.5) = 1, H(0.5) = 1, H(−0.5) = 0.

```python
ml.neuron(TRUTH_INPUTS, np.array([1.5, -1.0, -1.0]), "heaviside")  # [1, 1, 1, 0]
```""",
    ),
    (
        "Why does a 2-2-1 tanh network whose weights all start at zero never learn XOR?",
        """With W₁ = 0 every hidden neuron outputs tanh(0) = 0, and the blame sent back to
them is δ₁ = (δ₂ W₂) ⊙ tanh′(z₁) = 0 because W₂ = 0: the first layer gets no gradient.
Even with only the biases moving, both hidden neurons receive identical updates and
stay identical forever, so the network is no better than one hidden neuron, and one
neuron cannot compute XOR (section 3). Random initialisation breaks this symmetry.""",
    ),
    (
        "In section 6, where does the tanh MLP go as x → ∞, and is that the cubic's value?",
        """Each hidden neuron tanh(b + w x) tends to ±1, so f(x) tends to the constant
b₂ + Σⱼ W₂ⱼ sign(w₁ⱼ): bounded, but nowhere near f(x) = x³ − 2x² − x + 2, which goes
to +∞. Bounded is not extrapolating: `ml.to_numpy(net(np.array([[100.0]])))` is that
constant.""",
    ),
)

BACKPROP += exercises(
    (
        "Show that ∂L/∂b_ℓ is the sum over the batch of the rows of δ_ℓ.",
        """z_ℓ = b_ℓ + W_ℓ a_{ℓ−1} for each example, so ∂z_ℓ/∂b_ℓ is the identity for every
example; the loss sums over the examples, so the chain rule gives
∂L/∂b_ℓ = Σ_examples δ_ℓ: `delta.sum(0)` in the code.""",
    ),
    (
        "Why does the gradient check use central differences (L(θ + ε) − L(θ − ε)) / 2ε "
        "and not (L(θ + ε) − L(θ)) / ε?",
        """Taylor: the one-sided quotient has error O(ε) (the L″ term), the central one
O(ε²) because the L″ terms cancel. With ε = 1e−6 that is ~1e−12 instead of ~1e−6,
far below the rounding noise of float64 divided by ε.""",
    ),
    (
        "For a sigmoid output with binary cross-entropy, what is δ at the output?",
        """L = −y log ŷ − (1 − y) log(1 − ŷ) and ŷ = σ(z) with σ′ = ŷ(1 − ŷ), so
δ = ∂L/∂z = (ŷ − y): the σ′ factor cancels, which is why this pairing trains faster
than the squared error used here, whose δ = 2(ŷ − y) ŷ(1 − ŷ) vanishes when σ saturates.""",
    ),
)

DIGITS += exercises(
    (
        "Which digit does the MLP confuse with which most often on the test set?",
        """Count the off-diagonal cells of the confusion matrix:

```python
from mlplab.nn.metrics import confusion_matrix

net = ml.MLP(64, [64], 10, activation="relu", seed=0)
ml.fit(net, X_train, y_train, lr=3e-3, epochs=15, batch_size=64, verbose=0)
C = confusion_matrix(y_test, net.predict_class(X_test), 10)
np.fill_diagonal(C, 0)
print(np.unravel_index(C.argmax(), C.shape))  # (true digit, predicted digit)
```""",
    ),
    (
        "Remove the hidden layer (`ml.MLP(64, [], 10)`): how far does accuracy fall?",
        """Without a hidden layer the model is multinomial logistic regression, a linear
classifier: on these digits it reaches about 95-96% (the tour's L13 shows it beside the
MLP), a few points below the MLP.""",
    ),
)

CSV += exercises(
    (
        "Why is the `StandardScaler` inside the pipeline rather than fitted once on all "
        "the data before cross-validation?",
        """Scaling statistics computed on all rows use the validation folds' values, which
leaks information from them into training: the cross-validation score would be
optimistic. Inside the pipeline the scaler is re-fitted on each training fold only.""",
    ),
    (
        "What does `alpha` change in the grid search, and which way should it go when the "
        "training accuracy is far above the cross-validation accuracy?",
        """`alpha` is the L2 penalty on the weights (added to the loss as
α/2 Σ W²). A large gap between training and validation accuracy is overfitting:
increase `alpha` (or shrink the hidden layer).""",
    ),
)


NOTEBOOKS = {
    "01_lecture.ipynb": LECTURE,
    "02_backprop_by_hand.ipynb": BACKPROP,
    "03_digits_backends.ipynb": DIGITS,
    "04_csv_pipeline.ipynb": CSV,
}


def _shows_figures(cell) -> bool:
    return cell.cell_type == "code" and re.search(r"(?<![\w.])(plt|fig|ax\d?)\.", cell.source)


def build(name: str):
    """The notebook ``name`` as an ``nbformat`` node (no outputs).

    Cells that draw end with ``plt.show()``, so no ``<matplotlib…>`` repr is printed.
    """
    cells = colab_header(name) + NOTEBOOKS[name]
    for cell in cells:
        if _shows_figures(cell) and not cell.source.rstrip().endswith("plt.show()"):
            cell.source = cell.source.rstrip() + "\nplt.show()"
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell.id = f"{Path(name).stem[:2]}-{i:02d}"  # stable ids: regenerating changes nothing
    return nb


def execute(nb, folder) -> None:
    """Run ``nb`` in place (outputs filled in), with ``folder`` as its working directory."""
    from nbclient import NotebookClient

    NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=300,
        record_timing=False,
        resources={"metadata": {"path": str(folder)}},
    ).execute()
    nb.metadata.pop("widgets", None)


def render(name: str) -> str:
    """The notebook without outputs (what the cells above say)."""
    return nbformat.writes(build(name)) + "\n"


def main(argv=None) -> int:
    import tempfile

    for name in argv or NOTEBOOKS:
        nb = build(name)
        with tempfile.TemporaryDirectory() as tmp:
            execute(nb, tmp)
        (HERE / name).write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        print("wrote", HERE / name, "(with outputs)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
