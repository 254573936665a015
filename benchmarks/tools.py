"""mlplab and the peers, each training a :class:`~benchmarks.workloads.Spec` its own way.

Every tool has ``init(spec, seed) -> model`` (not timed), ``train(model, spec,
data, seed) -> (model, last_loss)`` (timed: from NumPy arrays to a trained
model, conversions included) and ``predict(model, X) -> labels or outputs``.
The peers are written the way their own documentation teaches:

* ``numpy``: a hand-written MLP with explicit backprop and in-place updates;
* ``torch``: eager PyTorch, ``nn.Sequential`` + ``torch.optim``, indexed minibatches;
* ``jax``: JAX + optax, a ``jax.jit``-ed update per step, batches from NumPy;
* ``jax-fused``: hand-written JAX, all steps in one ``jax.jit`` + ``lax.scan`` (full batch only);
* ``equinox``: ``eqx.nn.MLP`` + optax, ``eqx.filter_jit`` per step;
* ``sklearn``: ``MLPClassifier`` / ``MLPRegressor`` (no early stopping, no L2,
  ``tol=0`` and ``n_iter_no_change > max_iter`` so it runs every iteration).

Framework imports happen inside each tool, so a worker process loads only its own.
"""

from __future__ import annotations

import math

import numpy as np

from .workloads import Spec

# --- helpers shared by the hand-written peers --------------------------------


def _targets(spec: Spec, y: np.ndarray) -> np.ndarray:
    """Float32 targets: `(n, 1)` for bce/mse, one-hot `(n, k)` for softmax CE."""
    if spec.loss == "softmax_cross_entropy":
        return np.eye(spec.sizes[-1], dtype=np.float32)[y]
    return np.asarray(y, dtype=np.float32).reshape(len(y), -1)


def _labels(out: np.ndarray) -> np.ndarray:
    """Class labels from logits: argmax of several outputs, ``logit > 0`` of one."""
    return np.argmax(out, axis=1) if out.shape[1] > 1 else (out[:, 0] > 0).astype(np.int64)


def _epochs_and_batch(spec: Spec, n: int) -> tuple[int, int]:
    """(number of epochs, batch size): a full-batch run of ``steps`` is ``steps`` epochs."""
    if spec.steps is not None and spec.batch_size is None:
        return spec.steps, n
    if spec.steps is not None:  # minibatch steps (Scaling): enough epochs, cut at `steps`
        return math.ceil(spec.steps / math.ceil(n / spec.batch_size)), spec.batch_size
    return spec.epochs, min(spec.batch_size or n, n)


def _minibatches(spec: Spec, X, Y, permutation):
    """The ``(x, y)`` batches of a run: a fresh ``permutation(n)`` each epoch, cut at ``steps``.

    Full batch (``batch_size`` None or >= n) yields ``(X, Y)`` itself every step.
    """
    n = X.shape[0]
    epochs, B = _epochs_and_batch(spec, n)
    left = spec.steps or math.inf
    for _ in range(epochs):
        order = permutation(n) if B < n else None
        for start in range(0, n, B):
            if left <= 0:
                return
            left -= 1
            if order is None:
                yield X, Y
            else:
                idx = order[start : start + B]
                yield X[idx], Y[idx]


# --- mlplab -------------------------------------------------------------------


class Mlplab:
    """``mlplab.MLP`` + ``mlplab.fit(..., verbose=0)`` on one backend."""

    def __init__(self, backend: str):
        import mlplab

        self.ml = mlplab
        self.backend = backend

    def init(self, spec: Spec, seed: int):
        d_in, *hidden, d_out = spec.sizes
        return self.ml.MLP(
            d_in, hidden, d_out, activation=spec.activation, seed=seed, backend=self.backend
        )

    def train(self, model, spec: Spec, data: dict, seed: int):
        history = self.ml.fit(
            model,
            data["X"],
            data["y"],
            loss=spec.loss,
            optimizer=spec.optimizer,
            lr=spec.lr,
            batch_size=spec.batch_size,
            steps=spec.steps,
            epochs=spec.epochs,
            l2=spec.l2,
            seed=seed,
            verbose=0,
        )
        return model, history.train_loss[-1] if history.train_loss else float("nan")

    def predict(self, model, spec: Spec, X):
        return model.predict_class(X)


# --- hand-written NumPy -------------------------------------------------------


class NumpyMLP:
    """A hand-written NumPy MLP: forward, explicit backprop, SGD / Adam, all float32."""

    def init(self, spec: Spec, seed: int):
        rng = np.random.default_rng(seed)
        params = []
        for d_in, d_out in zip(spec.sizes[:-1], spec.sizes[1:], strict=True):
            if spec.activation == "relu":  # He
                W = rng.standard_normal((d_in, d_out)) * math.sqrt(2.0 / d_in)
            else:  # Glorot uniform
                limit = math.sqrt(6.0 / (d_in + d_out))
                W = rng.uniform(-limit, limit, (d_in, d_out))
            params.append([W.astype(np.float32), np.zeros(d_out, np.float32)])
        return params

    def train(self, params, spec: Spec, data: dict, seed: int):
        X, Y = data["X"], _targets(spec, data["y"])
        n = X.shape[0]
        epochs, B = _epochs_and_batch(spec, n)
        relu = spec.activation == "relu"
        adam = spec.optimizer == "adam"
        lr, b1, b2, eps = spec.lr, 0.9, 0.999, 1e-8
        m = [[np.zeros_like(p) for p in layer] for layer in params]
        v = [[np.zeros_like(p) for p in layer] for layer in params]
        rng = np.random.default_rng(seed)
        t, loss, max_steps = 0, float("nan"), spec.steps or math.inf
        for _ in range(epochs):
            order = rng.permutation(n) if B < n else None
            for start in range(0, n, B):
                if t >= max_steps:
                    break
                if order is None:
                    xb, yb = X, Y
                else:
                    idx = order[start : start + B]
                    xb, yb = X[idx], Y[idx]
                # forward: keep each layer's output
                hs = [xb]
                for W, b in params[:-1]:
                    z = hs[-1] @ W + b  # (batch, d_in) @ (d_in, d_out)
                    hs.append(np.maximum(z, 0) if relu else np.tanh(z))
                out = hs[-1] @ params[-1][0] + params[-1][1]
                # loss and dL/dout
                k = xb.shape[0]
                if spec.loss == "bce":
                    loss = np.mean(np.logaddexp(0, out) - yb * out)
                    g = (1 / (1 + np.exp(-out)) - yb) / k
                elif spec.loss == "mse":
                    diff = out - yb
                    loss = np.mean(diff * diff)
                    g = 2 * diff / diff.size
                else:
                    z = out - out.max(axis=1, keepdims=True)
                    e = np.exp(z)
                    s = e.sum(axis=1, keepdims=True)
                    loss = -np.mean(np.sum(yb * (z - np.log(s)), axis=1))
                    g = (e / s - yb) / k
                # backward
                grads = [None] * len(params)
                for i in reversed(range(len(params))):
                    W = params[i][0]
                    gW = hs[i].T @ g  # (d_in, batch) @ (batch, d_out)
                    if spec.l2:  # L2 penalty (l2 / 2) Σ‖W‖² on the weights
                        gW = gW + spec.l2 * W
                    grads[i] = (gW, g.sum(axis=0))
                    if i:
                        g = g @ W.T  # (batch, d_out) @ (d_out, d_in)
                        g = g * (hs[i] > 0) if relu else g * (1 - hs[i] * hs[i])
                # update, in place
                t += 1
                for layer, grad, ml, vl in zip(params, grads, m, v, strict=True):
                    for j in range(2):
                        if adam:
                            ml[j] *= b1
                            ml[j] += (1 - b1) * grad[j]
                            vl[j] *= b2
                            vl[j] += (1 - b2) * grad[j] * grad[j]
                            step = lr / (1 - b1**t)
                            denom = np.sqrt(vl[j]) / math.sqrt(1 - b2**t) + eps
                            layer[j] -= step * ml[j] / denom
                        else:
                            layer[j] -= lr * grad[j]
        return params, float(loss)

    def predict(self, params, spec: Spec, X):
        h = X
        for W, b in params[:-1]:
            h = h @ W + b  # (batch, d_in) @ (d_in, d_out)
            h = np.maximum(h, 0) if spec.activation == "relu" else np.tanh(h)
        return _labels(h @ params[-1][0] + params[-1][1])


# --- PyTorch eager ------------------------------------------------------------


class TorchEager:
    """``nn.Sequential`` + ``torch.optim`` + the matching ``nn`` loss, eager mode."""

    def __init__(self, threads: int = 2):
        import torch

        torch.set_num_threads(threads)
        self.torch = torch

    def init(self, spec: Spec, seed: int):
        torch, nn = self.torch, self.torch.nn
        torch.manual_seed(seed)
        layers = []
        for i, (d_in, d_out) in enumerate(zip(spec.sizes[:-1], spec.sizes[1:], strict=True)):
            layers.append(nn.Linear(d_in, d_out))
            if i < len(spec.sizes) - 2:
                layers.append(nn.ReLU() if spec.activation == "relu" else nn.Tanh())
        return nn.Sequential(*layers)

    def train(self, model, spec: Spec, data: dict, seed: int):
        torch, nn = self.torch, self.torch.nn
        X = torch.from_numpy(data["X"])
        if spec.loss == "softmax_cross_entropy":
            y, loss_fn = torch.from_numpy(data["y"]), nn.CrossEntropyLoss()
        else:
            y = torch.from_numpy(_targets(spec, data["y"]))
            loss_fn = nn.BCEWithLogitsLoss() if spec.loss == "bce" else nn.MSELoss()
        if spec.optimizer == "adam":  # weight_decay: torch's L2 (on biases too)
            opt = torch.optim.Adam(model.parameters(), lr=spec.lr, weight_decay=spec.l2)
        else:
            opt = torch.optim.SGD(model.parameters(), lr=spec.lr)
        gen = torch.Generator().manual_seed(seed)
        for xb, yb in _minibatches(spec, X, y, lambda n: torch.randperm(n, generator=gen)):
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        return model, float(loss.item())

    def predict(self, model, spec: Spec, X):
        with self.torch.no_grad():
            return _labels(model(self.torch.from_numpy(X)).numpy())


# --- JAX + optax ----------------------------------------------------------------


def _jax_loss(spec: Spec):
    import jax.numpy as jnp
    import optax

    if spec.loss == "bce":
        return lambda out, y: jnp.mean(optax.sigmoid_binary_cross_entropy(out, y))
    if spec.loss == "mse":
        return lambda out, y: jnp.mean((out - y) ** 2)
    return lambda out, y: jnp.mean(optax.softmax_cross_entropy_with_integer_labels(out, y))


def _optax_opt(spec: Spec):
    import optax

    opt = optax.adam(spec.lr) if spec.optimizer == "adam" else optax.sgd(spec.lr)
    if spec.l2:  # L2 as optax teaches it: add l2 · θ to the gradient (biases too)
        opt = optax.chain(optax.add_decayed_weights(spec.l2), opt)
    return opt


def _jax_targets(spec: Spec, y: np.ndarray) -> np.ndarray:
    return y if spec.loss == "softmax_cross_entropy" else _targets(spec, y)


class JaxOptax:
    """A pytree of ``(W, b)``, ``jax.value_and_grad`` + optax, one ``jax.jit``-ed step per batch."""

    def __init__(self):
        import jax

        self.jax = jax
        self._steps: dict = {}

    def init(self, spec: Spec, seed: int):
        jax = self.jax
        init = (
            jax.nn.initializers.he_normal()
            if spec.activation == "relu"
            else jax.nn.initializers.glorot_uniform()
        )
        keys = jax.random.split(jax.random.key(seed), len(spec.sizes) - 1)
        return [
            (init(k, (d_in, d_out)), jax.numpy.zeros(d_out))
            for k, d_in, d_out in zip(keys, spec.sizes[:-1], spec.sizes[1:], strict=True)
        ]

    def _forward(self, spec: Spec):
        jax = self.jax
        act = jax.nn.relu if spec.activation == "relu" else jax.numpy.tanh

        def forward(params, x):
            for W, b in params[:-1]:
                x = act(x @ W + b)  # (batch, d_in) @ (d_in, d_out)
            W, b = params[-1]
            return x @ W + b

        return forward

    def _step(self, spec: Spec):
        key = (spec.sizes, spec.activation, spec.loss, spec.optimizer, spec.lr, spec.l2)
        if key not in self._steps:
            import optax

            jax, forward, loss_of = self.jax, self._forward(spec), _jax_loss(spec)
            opt = _optax_opt(spec)

            def loss_fn(params, x, y):
                return loss_of(forward(params, x), y)

            @jax.jit
            def step(params, opt_state, x, y):
                loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
                updates, opt_state = opt.update(grads, opt_state, params)
                return optax.apply_updates(params, updates), opt_state, loss

            self._steps[key] = (opt, step)
        return self._steps[key]

    def train(self, params, spec: Spec, data: dict, seed: int):
        opt, step = self._step(spec)
        X, Y = data["X"], _jax_targets(spec, data["y"])
        if _epochs_and_batch(spec, len(X))[1] >= len(X):  # full batch: to the device once
            X, Y = self.jax.numpy.asarray(X), self.jax.numpy.asarray(Y)
        opt_state, rng = opt.init(params), np.random.default_rng(seed)
        for xb, yb in _minibatches(spec, X, Y, rng.permutation):  # batches gathered in NumPy
            params, opt_state, loss = step(params, opt_state, xb, yb)
        self.jax.block_until_ready(params)
        return params, float(loss)

    def predict(self, params, spec: Spec, X):
        return _labels(np.asarray(self.jax.jit(self._forward(spec))(params, X)))


class JaxFused:
    """Hand-written JAX: every step of a full-batch run in one ``jax.jit`` + ``lax.scan``."""

    def __init__(self):
        self.inner = JaxOptax()
        self.jax = self.inner.jax
        self._runs: dict = {}

    def init(self, spec: Spec, seed: int):
        return self.inner.init(spec, seed)

    def train(self, params, spec: Spec, data: dict, seed: int):
        if spec.batch_size is not None:
            raise ValueError("jax-fused runs full-batch workloads only")
        key = (spec.sizes, spec.activation, spec.loss, spec.optimizer, spec.lr, spec.l2, spec.steps)
        if key not in self._runs:
            import optax
            from jax import lax

            jax, forward, loss_of = self.jax, self.inner._forward(spec), _jax_loss(spec)
            opt = _optax_opt(spec)

            def loss_fn(params, x, y):
                return loss_of(forward(params, x), y)

            @jax.jit
            def run(params, X, Y):
                def body(carry, _):
                    params, opt_state = carry
                    loss, grads = jax.value_and_grad(loss_fn)(params, X, Y)
                    updates, opt_state = opt.update(grads, opt_state, params)
                    return (optax.apply_updates(params, updates), opt_state), loss

                carry = (params, opt.init(params))
                (params, _), losses = lax.scan(body, carry, None, length=spec.steps)
                return params, losses

            self._runs[key] = run
        run = self._runs[key]
        jnp = self.jax.numpy
        X, Y = jnp.asarray(data["X"]), jnp.asarray(_jax_targets(spec, data["y"]))
        params, losses = run(params, X, Y)
        self.jax.block_until_ready(params)
        return params, float(losses[-1])

    def predict(self, params, spec: Spec, X):
        return self.inner.predict(params, spec, X)


# --- Equinox ------------------------------------------------------------------


class Equinox:
    """``eqx.nn.MLP`` + optax, ``eqx.filter_value_and_grad`` in an ``eqx.filter_jit`` step."""

    def __init__(self):
        import equinox as eqx
        import jax

        self.eqx, self.jax = eqx, jax
        self._steps: dict = {}

    def init(self, spec: Spec, seed: int):
        jax = self.jax
        widths = set(spec.sizes[1:-1])
        if len(widths) != 1:
            raise ValueError("eqx.nn.MLP needs hidden layers of equal width")
        return self.eqx.nn.MLP(
            spec.sizes[0],
            spec.sizes[-1],
            width_size=widths.pop(),
            depth=len(spec.sizes) - 2,
            activation=jax.nn.relu if spec.activation == "relu" else jax.numpy.tanh,
            key=jax.random.key(seed),
        )

    def _step(self, spec: Spec):
        key = (spec.sizes, spec.activation, spec.loss, spec.optimizer, spec.lr, spec.l2)
        if key not in self._steps:
            eqx, jax, loss_of = self.eqx, self.jax, _jax_loss(spec)
            opt = _optax_opt(spec)

            def loss_fn(model, x, y):
                return loss_of(jax.vmap(model)(x), y)

            @eqx.filter_jit
            def make_step(model, opt_state, x, y):
                loss, grads = eqx.filter_value_and_grad(loss_fn)(model, x, y)
                updates, opt_state = opt.update(grads, opt_state, eqx.filter(model, eqx.is_array))
                return eqx.apply_updates(model, updates), opt_state, loss

            self._steps[key] = (opt, make_step)
        return self._steps[key]

    def train(self, model, spec: Spec, data: dict, seed: int):
        eqx = self.eqx
        opt, make_step = self._step(spec)
        X, Y = data["X"], _jax_targets(spec, data["y"])
        if _epochs_and_batch(spec, len(X))[1] >= len(X):  # full batch: to the device once
            X, Y = self.jax.numpy.asarray(X), self.jax.numpy.asarray(Y)
        opt_state = opt.init(eqx.filter(model, eqx.is_array))
        rng = np.random.default_rng(seed)
        for xb, yb in _minibatches(spec, X, Y, rng.permutation):
            model, opt_state, loss = make_step(model, opt_state, xb, yb)
        self.jax.block_until_ready(eqx.filter(model, eqx.is_array))
        return model, float(loss)

    def predict(self, model, spec: Spec, X):
        return _labels(np.asarray(self.jax.vmap(model)(X)))


# --- scikit-learn ---------------------------------------------------------------


class Sklearn:
    """``MLPClassifier`` / ``MLPRegressor`` with the workload's architecture and iterations."""

    def __init__(self):
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        warnings.filterwarnings("ignore", category=ConvergenceWarning)

    def init(self, spec: Spec, seed: int):
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        cls = MLPRegressor if spec.loss == "mse" else MLPClassifier
        n_iter = spec.steps or spec.epochs  # full batch: one step per iteration (epoch)
        settings = dict(
            hidden_layer_sizes=spec.sizes[1:-1],
            activation=spec.activation,
            solver=spec.optimizer,
            # scikit-learn's penalty is (alpha / 2 / batch size)·Σ‖W‖²; mlplab's and the
            # other peers' is (l2 / 2)·Σ‖W‖², so alpha = l2 · batch size matches them
            # (every workload with L2 is a minibatch one).
            alpha=spec.l2 * (spec.batch_size or 1),
            batch_size=spec.batch_size or "auto",
            learning_rate_init=spec.lr,
            max_iter=n_iter,
            shuffle=True,
            random_state=seed,
            tol=0.0,
            n_iter_no_change=n_iter + 1,
            early_stopping=False,
        )
        if spec.optimizer == "sgd":
            settings.update(momentum=0.0, nesterovs_momentum=False, learning_rate="constant")
        return cls(**settings)

    def train(self, model, spec: Spec, data: dict, seed: int):
        X, y = data["X"], data["y"]
        if spec.batch_size is None:
            model.set_params(batch_size=X.shape[0])
        model.fit(X, y.ravel() if spec.loss == "mse" else y)
        return model, float(model.loss_)

    def predict(self, model, spec: Spec, X):
        return model.predict(X)


TOOLS = {
    "mlplab-numpy": lambda: Mlplab("numpy"),
    "mlplab-torch": lambda: Mlplab("torch"),
    "mlplab-jax": lambda: Mlplab("jax"),
    "numpy": NumpyMLP,
    "torch": TorchEager,
    "jax": JaxOptax,
    "jax-fused": JaxFused,
    "equinox": Equinox,
    "sklearn": Sklearn,
}
MLPLAB = ("mlplab-numpy", "mlplab-torch", "mlplab-jax")
PEERS = ("numpy", "torch", "jax", "jax-fused", "equinox", "sklearn")
# each mlplab backend's hand-written peer in its own framework (issue 15's targets)
SAME_FRAMEWORK = {"mlplab-numpy": "numpy", "mlplab-torch": "torch", "mlplab-jax": "jax"}


def tools_for(workload: str) -> tuple[str, ...]:
    """The tools that run ``workload``."""
    if workload in ("A1", "A2"):
        return MLPLAB + PEERS
    if workload in ("Scaling", "C1-long"):  # the hand-written peer of each framework
        return (*MLPLAB, *SAME_FRAMEWORK.values())
    return MLPLAB + tuple(p for p in PEERS if p != "jax-fused")
