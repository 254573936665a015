"""Files in and out of the page: an uploaded CSV, the data, the model, its code.

An upload is parsed by mlplab's CSV loader (``mlplab.load_csv``) from a file
the server names itself in a fresh temporary folder; the client's file name is
only used in messages. Downloads are built in memory (the model file through
``mlplab.save_model`` in a temporary folder) and sent to the page, which saves
them: the server writes nothing the client names.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import tempfile
from typing import TYPE_CHECKING

import numpy as np

import mlplab as ml

from . import _engine
from . import data as pdata
from .frames import Problem
from .protocol import MAX_MESSAGE_BYTES, CommandError

if TYPE_CHECKING:
    from .session import Session

#: ``(points (n, 2), labels (n,), problem, a note for the page)`` of an upload.
Upload = tuple[pdata.Points, pdata.Labels, Problem, str]

MAX_CLASSES = 8
MIN_ROWS = 4
MAX_POINTS = 5000  # what a page can draw and a frame can evaluate every epoch


def _safe_name(name: str) -> str:
    base = re.sub(r"[^\w.\- ]", "_", os.path.basename(name.replace("\\", "/")))[:80]
    return base or "upload.csv"


def parse_upload(name: str, text: str, target: str | None) -> Upload:
    """``(points (n, 2), labels (n,), Problem, note)`` from a CSV's text."""
    shown = _safe_name(name)
    size = len(text.encode("utf-8"))
    if size > MAX_MESSAGE_BYTES:
        raise CommandError(f"{shown} is {size / 2**20:.1f} MB; the playground takes up to 20 MB.")
    with tempfile.TemporaryDirectory(prefix="mlplab-playground-") as folder:
        path = os.path.join(folder, "upload.csv")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        try:
            if target is None:
                header = _engine.csv_columns(path, max_bytes=MAX_MESSAGE_BYTES)
                target = "label" if "label" in header else header[-1]
            ds = ml.load_csv(path, target=target, max_bytes=MAX_MESSAGE_BYTES)
        except ml.MLPLabError as err:
            raise type(err)(_page_message(str(err), path, shown)) from None
    return _to_points(ds, shown)


def _page_message(message: str, path: str, shown: str) -> str:
    """The loader's message for the page: the client's file name, no command-line advice."""
    message = message.replace(path, shown).replace("upload.csv", shown)
    sentences = re.split(r"(?<=[.;]) ", message)
    kept = [s for s in sentences if " --" not in s and not s.startswith("--")]
    return " ".join(kept or sentences)


def _to_points(ds: ml.Dataset, shown: str) -> Upload:
    names = list(ds.feature_names)
    if "x1" in names and "x2" in names:
        cols = [names.index("x1"), names.index("x2")]
    elif len(names) == 2:
        cols = [0, 1]
    else:
        raise CommandError(
            f"{shown} has {len(names)} feature columns ({', '.join(names[:8])}); the playground "
            "plots two inputs: keep two columns (or name them x1 and x2) besides the target."
        )
    if ds.X.shape[0] < MIN_ROWS:
        raise CommandError(f"{shown} has {ds.X.shape[0]} rows; the playground needs {MIN_ROWS}.")
    points = np.asarray(ds.X[:, cols], dtype=np.float64)
    notes = [f"loaded {shown}: {len(points)} points, inputs {names[cols[0]]}, {names[cols[1]]}"]
    y_all = np.asarray(ds.y)
    if len(points) > MAX_POINTS:  # a seeded sample, so the same file gives the same points
        keep = np.sort(np.random.default_rng(0).choice(len(points), MAX_POINTS, replace=False))
        points, y_all = points[keep], y_all[keep]
        notes.append(f"a seeded sample of {MAX_POINTS:,} of them is shown and trained on")
    biggest = float(np.abs(points).max())
    if biggest > pdata.DOMAIN:
        points = points * (pdata.DOMAIN / biggest)
        notes.append(f"scaled by {pdata.DOMAIN / biggest:.3g} to fit the square [−6, 6]²")
    if ds.task == "regression":
        y = np.asarray(y_all, dtype=np.float64).reshape(len(points), -1)[:, 0]
        top = float(np.abs(y).max())
        if top > 1:
            y = y / top
            notes.append(f"target {ds.target_name!r} divided by {top:.3g} to lie in [−1, 1]")
        return points, y, Problem("regression", 1, ()), "; ".join(notes) + "."
    assert ds.classes is not None  # load_csv names the classes of a classification target
    classes = tuple(ds.classes)
    if len(classes) > MAX_CLASSES:
        raise CommandError(
            f"{shown} has {len(classes)} classes; the playground shows at most {MAX_CLASSES}."
        )
    kind = "binary" if len(classes) == 2 else "multiclass"
    notes.append(f"classes {', '.join(map(str, classes))}")
    return (
        points,
        y_all.astype(np.int64),
        Problem(kind, len(classes), classes),
        "; ".join(notes) + ".",
    )


# --- downloads ----------------------------------------------------------------------


def download(session: Session, what: str) -> dict[str, str]:
    """``{"name", "mime", "base64"}`` of the data CSV, the model file or its code."""
    if what == "data":
        return _file("playground-data.csv", "text/csv", data_csv(session).encode())
    if what == "model":
        return _file("playground-model.safetensors", "application/octet-stream",
                     model_bytes(session))  # fmt: skip
    code = torch_code(session) if what == "torch" else equinox_code(session)
    return _file(f"playground_{what}.py", "text/x-python", code.encode())


def _file(name: str, mime: str, payload: bytes) -> dict[str, str]:
    return {"name": name, "mime": mime, "base64": base64.b64encode(payload).decode("ascii")}


def data_csv(session: Session) -> str:
    """The points as CSV: one column per input feature in use, then ``label``."""
    names = session.settings["features"]
    X = pdata.features(session.points, names)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*names, "label"])
    classes = session.problem.classes
    for row, label in zip(X, session.labels, strict=True):
        shown = repr(float(label)) if session.problem.kind == "regression" else classes[int(label)]
        writer.writerow([*(repr(float(v)) for v in row), shown])
    return buf.getvalue()


def preprocessor(session: Session) -> ml.Preprocessor:
    """The model file's preprocessing: the feature columns as they are (no standardising)."""
    names, problem = session.settings["features"], session.problem
    X = pdata.features(session.points, names)
    y = session.labels if problem.kind == "regression" else session.labels.astype(np.int64)
    classes = None if problem.kind == "regression" else list(problem.classes)
    ds = ml.Dataset(X, y, problem.kind, list(names), "label", classes, "playground",
                    columns=list(names), targets=["label"])  # fmt: skip
    prep = ml.Preprocessor(standardize=False).fit(ds)
    if problem.kind == "regression":
        prep.target_scaler = ml.Standardizer([0.0], [1.0])  # the page shows raw outputs
    return prep


def model_bytes(session: Session) -> bytes:
    """The model as the safetensors file ``mlplab predict`` reads."""
    meta = {
        "preprocessor": preprocessor(session).to_dict(),
        "loss": session.loss,
        "playground": {k: v for k, v in session.settings.items() if k != "backend"},
    }
    with tempfile.TemporaryDirectory(prefix="mlplab-playground-") as folder:
        path = os.path.join(folder, "model.safetensors")
        ml.save_model(path, session.model, metadata=meta)
        with open(path, "rb") as f:
            return f.read()


_TORCH = {
    "tanh": "nn.Tanh()",
    "relu": "nn.ReLU()",
    "sigmoid": "nn.Sigmoid()",
    "softplus": "nn.Softplus()",
    "gelu": 'nn.GELU(approximate="tanh")',
    "heaviside": "Heaviside()",
}
_JAX = {
    "tanh": "jnp.tanh",
    "relu": "jax.nn.relu",
    "sigmoid": "jax.nn.sigmoid",
    "softplus": "jax.nn.softplus",
    "gelu": "functools.partial(jax.nn.gelu, approximate=True)",
    "heaviside": "heaviside",
    "identity": "lambda x: x",
}


def _describe(session: Session) -> str:
    model = session.model
    acts = ", ".join(a.name for a in model.activations)
    sizes = "-".join(map(str, model.sizes))
    inputs = ", ".join(session.settings["features"])
    out = {
        "binary": "one logit of class 1 (apply a sigmoid for its probability)"
        if session.settings["output_activation"] == "identity"
        else "the output neuron's value",
        "multiclass": "one logit per class (apply a softmax for probabilities)",
        "regression": "the predicted value",
    }[session.problem.kind]
    return (
        f"MLP {sizes} exported from the mlplab playground; activations {acts}.\n"
        f"Input columns, in order: {inputs}. Output: {out}."
    )


def torch_code(session: Session) -> str:
    """A self-contained PyTorch script that rebuilds the network with its weights."""
    lines = [f'"""{_describe(session)}\n"""', "import torch", "from torch import nn", ""]
    lines += [
        "",
        "class Heaviside(nn.Module):",
        '    """The lecture\'s step H(z) = 1 if z > 0 else 0 (so H(0) = 0)."""',
        "",
        "    def forward(self, z):",
        "        return (z > 0).to(z.dtype)",
        "",
        "",
    ]
    modules, params = [], session.model.numpy_params()
    for (_b, W), act in zip(params, session.model.activations, strict=True):
        modules.append(f"nn.Linear({W.shape[1]}, {W.shape[0]})")
        if act.name == "leaky_relu":
            modules.append(f"nn.LeakyReLU({act.spec().get('negative_slope', 0.01)!r})")
        elif act.name != "identity":
            modules.append(_TORCH[act.name])
    lines.append(f"model = nn.Sequential({', '.join(modules)}).double()")
    lines.append(f"PARAMS = {json.dumps([[b.tolist(), W.tolist()] for b, W in params])}")
    lines += [
        "linears = [m for m in model if isinstance(m, nn.Linear)]",
        "with torch.no_grad():",
        "    for layer, (b, W) in zip(linears, PARAMS):",
        "        layer.bias.copy_(torch.tensor(b, dtype=torch.float64))",
        "        layer.weight.copy_(torch.tensor(W, dtype=torch.float64))",
        "",
        'if __name__ == "__main__":',
        f"    x = torch.zeros(1, {params[0][1].shape[1]}, dtype=torch.float64)",
        "    print(model(x))",
        "",
    ]
    return "\n".join(lines)


def equinox_code(session: Session) -> str:
    """A self-contained Equinox script: ``eqx.nn.Linear`` layers with the weights set."""
    params = session.model.numpy_params()
    acts = []
    for act in session.model.activations:
        if act.name == "leaky_relu":
            k = act.spec().get("negative_slope", 0.01)
            acts.append(f"functools.partial(jax.nn.leaky_relu, negative_slope={k!r})")
        else:
            acts.append(_JAX[act.name])
    lines = [f'"""{_describe(session)}\n"""', "import functools", "", "import equinox as eqx",
             "import jax", "import jax.numpy as jnp", "", "",
             "def heaviside(z):", '    """H(z) = 1 if z > 0 else 0 (H(0) = 0)."""',
             "    return (z > 0).astype(z.dtype)", "", ""]  # fmt: skip
    lines.append(f"PARAMS = {json.dumps([[b.tolist(), W.tolist()] for b, W in params])}")
    lines.append(f"ACTIVATIONS = [{', '.join(acts)}]")
    lines += [
        "",
        "",
        "class PlaygroundMLP(eqx.Module):",
        "    layers: list",
        "",
        "    def __init__(self):",
        "        keys = jax.random.split(jax.random.PRNGKey(0), len(PARAMS))",
        "        self.layers = []",
        "        for key, (b, W) in zip(keys, PARAMS):",
        "            linear = eqx.nn.Linear(len(W[0]), len(W), key=key)",
        "            linear = eqx.tree_at(lambda m: (m.weight, m.bias), linear,",
        "                                 (jnp.asarray(W), jnp.asarray(b)))",
        "            self.layers.append(linear)",
        "",
        "    def __call__(self, x):",
        '        """One sample x of shape (d_in,); use jax.vmap(model) for a batch."""',
        "        for layer, sigma in zip(self.layers, ACTIVATIONS):",
        "            x = sigma(layer(x))",
        "        return x",
        "",
        "",
        "model = PlaygroundMLP()",
        "",
        'if __name__ == "__main__":',
        f"    print(model(jnp.zeros({params[0][1].shape[1]})))",
        "",
    ]
    return "\n".join(lines)
