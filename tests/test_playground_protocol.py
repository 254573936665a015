"""The playground's server and protocol, driven through Starlette's TestClient.

Every hostile message must come back as one clear error in the page, leave the
server running and leave other tabs alone; every number the page shows must be
mlplab's own (gradients, predictions, exports).
"""

from __future__ import annotations

import base64
import json
import time
import warnings

import numpy as np
import pytest

import mlplab as ml
from mlplab.playground import create_app
from mlplab.playground import data as pdata
from mlplab.playground.presets import TRUTH_X, XOR_THETA
from mlplab.playground.protocol import decode_frame
from mlplab.playground.session import Session

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class Tab:
    """One page: receives messages, acknowledges frames as the page does."""

    def __init__(self, ws):
        self.ws = ws
        self.frame = None
        self.messages = []

    def send(self, cmd: str, **fields):
        self.ws.send_text(json.dumps({"cmd": cmd, **fields}))

    def recv(self):
        m = self.ws.receive()
        if m.get("bytes") is not None:
            header, blocks = decode_frame(m["bytes"])
            self.ws.send_text('{"cmd": "ack"}')
            self.frame = (header, blocks)
            return header, blocks
        msg = json.loads(m["text"])
        self.messages.append(msg)
        return msg, None

    def until(self, kind: str, limit: int = 200):
        for _ in range(limit):
            msg, blocks = self.recv()
            if msg["type"] == kind:
                return msg, blocks
        raise AssertionError(f"no {kind!r} message in {limit}")

    def error(self) -> str:
        return self.until("error")[0]["message"]


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


@pytest.fixture
def tab(client):
    with client.websocket_connect("/ws") as ws:
        t = Tab(ws)
        t.until("frame")
        yield t


def params_from_frame(header, blocks, sizes):
    w, out, off = blocks["weights"].astype(np.float64), [], 0
    for d_in, d_out in zip(sizes[:-1], sizes[1:], strict=True):
        b = w[off : off + d_out]
        W = w[off + d_out : off + d_out + d_out * d_in].reshape(d_out, d_in)
        out.append((b, W))
        off += d_out * (d_in + 1)
    return out


def test_page_and_first_frame(client, tab):
    page = client.get("/")
    assert page.status_code == 200 and "playground.js" in page.text
    assert client.get("/static/playground.js").status_code == 200
    state = next(m for m in tab.messages if m["type"] == "state")
    assert state["sizes"] == [2, 4, 2, 1] and state["settings"]["dataset"] == "circle"
    header, blocks = tab.frame
    assert blocks["output"].shape == (10000,) and blocks["output"].dtype == np.uint8
    assert blocks["layer1"].shape == (4, 100) and blocks["layer2"].shape == (2, 100)
    assert blocks["weights"].dtype == np.float32 and blocks["weights"].size == 4 * 3 + 2 * 5 + 3
    assert header["epoch"] == 0 and 0 < header["loss_train"] < 5


def test_step_trains_with_fit_and_stops_at_the_epoch(tab):
    tab.send("step")
    header, _ = tab.until("frame")
    assert header["epoch"] == 1
    tab.send("config", set={"stop_epoch": 40, "lr": 0.1})
    tab.send("play")
    info, _ = tab.until("info", limit=2000)
    assert "epoch 40" in info["message"]
    header, _ = tab.until("frame")
    assert header["epoch"] == 40 and header["acc_test"] > 0.9
    assert np.array(header["confusion"]).sum() == 250  # the test half of 500 points


def test_multiclass_and_regression_frames(tab):
    tab.send("config", set={"dataset": "gauss3", "optimizer": "adam", "lr": 0.03})
    state, _ = tab.until("state")
    assert state["sizes"][-1] == 3 and state["loss"] == "softmax_cross_entropy"
    for _ in range(5):
        tab.send("step")
    header, blocks = tab.until("frame")
    while header["epoch"] < 5:
        header, blocks = tab.until("frame")
    assert set(np.unique(blocks["output"])) <= {0, 1, 2} and blocks["confidence"].shape == (10000,)
    assert np.array(header["confusion"]).shape == (3, 3) and header["acc_test"] > 0.8
    tab.send("step_detail", index=3)
    msg, _ = tab.until("stepmode")
    assert len(msg["layers"][-1]["delta"]) == 3 and msg["loss_name"] == "softmax_cross_entropy"
    tab.send("config", set={"dataset": "reg-plane", "layers": [], "activations": []})
    state, _ = tab.until("state")
    assert state["loss"] == "mse" and state["problem"]["kind"] == "regression"
    tab.send("step")
    header, blocks = tab.until("frame")
    while header["epoch"] < 1:
        header, blocks = tab.until("frame")
    assert "acc_test" not in header and header["loss_test"] < 0.5
    tab.send("step_detail", index=0)
    msg, _ = tab.until("stepmode")
    assert msg["loss_name"] == "mse" and len(msg["layers"]) == 1
    tab.send("add_point", x1=1.0, x2=2.0, label=0.5)
    data, _ = tab.until("data")
    assert [1.0, 2.0, 0.5] in data["train"]


def test_points_of_a_shared_link(tab):
    rows = [[1, 1, 1], [-1, -1, 0], [2, 2, 1], [-2, -2, 0], [1, -1, 2]]
    tab.send("set_data", points=rows, kind="multiclass")
    state, _ = tab.until("state")
    assert state["settings"]["dataset"] == "custom" and state["problem"]["classes"] == [0, 1, 2]
    data, _ = tab.until("data")
    assert sorted(map(tuple, data["train"] + data["test"])) == sorted(map(tuple, rows))
    assert state["sizes"][-1] == 3


def test_eight_layers_of_64_neurons(tab):
    tab.send("config", set={"layers": [64] * 8, "activations": ["relu"] * 8})
    state, _ = tab.until("state")
    assert state["sizes"] == [2] + [64] * 8 + [1]
    tab.send("step")
    header, blocks = tab.until("frame")
    while header["epoch"] < 1:
        header, blocks = tab.until("frame")
    assert blocks["layer8"].shape == (64, 100) and blocks["weights"].size == sum(
        o * (i + 1) for i, o in zip(state["sizes"][:-1], state["sizes"][1:], strict=True)
    )


HOSTILE = [
    ("garbage{", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ('{"cmd": 5}', "unknown command"),
    ('{"cmd": "rm -rf"}', "unknown command"),
    ('{"cmd": "play", "x": 1}', "takes no field 'x'"),
    ('{"cmd": "config", "set": {"layers": [1000000000]}}', "`layers[0]` must be an integer"),
    ('{"cmd": "config", "set": {"layers": [8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8]}}', "0 to 10 entries"),
    ('{"cmd": "config", "set": {"lr": 1e308}}', "`lr` must be a number"),
    ('{"cmd": "config", "set": {"lr": "0.1"}}', "`lr` must be a number"),
    ('{"cmd": "config", "set": {"noise": true}}', "`noise` must be an integer"),
    ('{"cmd": "config", "set": {"seed": 1e400}}', "`seed` must be an integer"),
    ('{"cmd": "config", "set": {"batch": 123456789012345678901234567890}}', "`batch` must be"),
    ('{"cmd": "config", "set": {"features": []}}', "1 to 7 entries"),
    ('{"cmd": "config", "set": {"features": ["x1", "x1"]}}', "twice"),
    ('{"cmd": "config", "set": {"evil": 1}}', "unknown setting"),
    ('{"cmd": "config", "set": {"activations": ["tanh"]}}', "one per hidden layer"),
    ('{"cmd": "set_weight", "layer": 0, "row": 0, "col": 0, "value": NaN}', "not valid JSON"),
    ('{"cmd": "set_weight", "layer": 0, "row": 0, "col": 0, "value": "nan"}', "`value` must be"),
    ('{"cmd": "set_weight", "layer": 0, "row": 9, "col": 0, "value": 1}', "there is no row 9"),
    ('{"cmd": "set_weight", "layer": 7, "row": 0, "col": 0, "value": 1}', "`layer` must be below"),
    ('{"cmd": "set_params", "params": [[[1], [[1, 2]]]]}', "shapes"),
    ('{"cmd": "set_params", "params": "x"}', "must be a list"),
    ('{"cmd": "add_point", "x1": 100, "x2": 0, "label": 1}', "`x1` must be a number from -6"),
    ('{"cmd": "add_point", "x1": 1, "x2": 0, "label": 7}', "`label` must be a class"),
    ('{"cmd": "preset", "name": "../../etc/passwd"}', "unknown preset"),
    ('{"cmd": "download", "what": "/etc/passwd"}', "`what` must be one of"),
    ('{"cmd": "inspect", "x1": 0, "x2": 0, "layer": 9, "neuron": 0}', "no neuron 0 in layer 9"),
    ('{"cmd": "step_apply"}', "show a step first"),
    ('{"cmd": "set_data", "points": [[0, 0, 1]], "kind": "binary"}', "2 to 500 entries"),
    ('{"cmd": "set_data", "points": [[0, 0, 1], [9, 0, 0]], "kind": "binary"}', "from -6 to 6"),
    ('{"cmd": "set_data", "points": [[0, 0, 1], [1, 0, 2]], "kind": "binary"}', "0 or 1"),
    ('{"cmd": "set_data", "points": [[0, 0], [1, 0]], "kind": "binary"}', "[x1, x2, label]"),
    ("[" * 100000 + "]" * 100000, "not valid JSON"),
]


@pytest.mark.parametrize("raw, expected", HOSTILE)
def test_hostile_message_gets_a_clear_error(tab, raw, expected):
    tab.ws.send_text(raw)
    message = tab.error()
    assert expected in message and "Traceback" not in message and len(message) < 400


def test_binary_garbage_and_oversized_messages(tab):
    tab.ws.send_bytes(b"\x00\xff\xfe garbage")
    assert "binary messages" in tab.error()
    big = "x1,x2,label\n" + "1,2,0\n" * (21 * 2**20 // 6)
    tab.send("upload_csv", name="big.csv", text=big)
    assert "too large" in tab.error() or "20 MB" in tab.error()
    tab.send("step")  # still serving
    assert tab.until("frame")[0]["epoch"] == 1


def test_hostile_tab_does_not_touch_another(client):
    with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
        ta, tb = Tab(a), Tab(b)
        ta.until("frame")
        tb.until("frame")
        ta.send("config", set={"layers": [3], "dataset": "xor"})
        ta.until("frame")
        for raw, _ in HOSTILE[:12]:
            ta.ws.send_text(raw)
            ta.error()
        tb.send("step")
        header, blocks = tb.until("frame")
        state = [m for m in tb.messages if m["type"] == "state"][-1]
        assert state["sizes"] == [2, 4, 2, 1] and state["settings"]["dataset"] == "circle"
        assert header["epoch"] == 1


def test_closing_a_tab_stops_its_training(client):
    with client.websocket_connect("/ws") as ws:
        t = Tab(ws)
        t.until("frame")
        t.send("play")
        t.until("frame")
        assert Session.training == 1
    deadline = time.monotonic() + 30
    while Session.training and time.monotonic() < deadline:
        time.sleep(0.02)
    assert Session.training == 0


def test_cross_site_page_is_refused(client):
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/ws", headers={"origin": "http://evil.example"}) as ws:
            ws.receive()


def test_weights_edit_and_divergence_keeps_finite_weights(tab):
    tab.send("set_weight", layer=2, row=0, col=-1, value=3.5)
    header, blocks = tab.until("frame")
    assert blocks["weights"][-3] == np.float32(3.5)  # output bias, before its 2 weights
    tab.send("config", set={"dataset": "reg-gauss", "activations": ["relu", "relu"], "lr": 10})
    tab.until("frame")
    tab.send("play")
    message = tab.error()
    assert "diverged" in message and "paused" in message
    header, blocks = tab.until("frame")
    assert np.all(np.isfinite(blocks["weights"]))


def test_backends_give_identical_frames(client):
    backends = [b for b in ("numpy", "torch", "jax") if b in ml.available_backends()]
    frames = []
    for backend in backends:
        with client.websocket_connect("/ws") as ws:
            t = Tab(ws)
            t.until("frame")
            t.send("config", set={"backend": backend, "dataset": "spiral", "seed": 4})
            t.until("frame")
            for _ in range(3):
                t.send("step")
                header, blocks = t.until("frame")
            frames.append((header, blocks))
    ref_header, ref = frames[0]
    for header, blocks in frames[1:]:
        assert np.array_equal(blocks["output"], ref["output"])
        assert np.array_equal(blocks["layer1"], ref["layer1"])
        np.testing.assert_allclose(blocks["weights"], ref["weights"], rtol=1e-6)
        assert header["loss_train"] == pytest.approx(ref_header["loss_train"], rel=1e-9)


def test_upload_csv_and_broken_csv(tab):
    rng = np.random.default_rng(0)
    pts = rng.uniform(-3, 3, (60, 2))
    rows = "\n".join(f"{a},{b},{'yes' if a * b > 0 else 'no'}" for a, b in pts)
    tab.send("upload_csv", name="mine.csv", text="x1,x2,label\n" + rows + "\n")
    info, _ = tab.until("info")
    assert "60 points" in info["message"] and "mine.csv" in info["message"]
    state, _ = tab.until("state")
    assert state["settings"]["dataset"] == "custom" and state["problem"]["classes"] == ["no", "yes"]
    many = "\n".join(f"{i % 97 / 10},{i % 89 / 10},{i % 2}" for i in range(6000))
    tab.send("upload_csv", name="many.csv", text="x1,x2,label\n" + many + "\n")
    assert "sample of 5,000" in tab.until("info")[0]["message"]
    data, _ = tab.until("data")
    assert len(data["train"]) + len(data["test"]) == 5000
    tab.send("step")
    header, _ = tab.until("frame")
    while header["epoch"] < 1:
        header, _ = tab.until("frame")
    assert header["loss_train"] is not None
    tab.send("upload_csv", name="../broken.csv", text="x1,x2,label\n1,2,0\n3,oops,1\n")
    message = tab.error()
    assert "broken.csv" in message and "mlplab-playground" not in message and "/tmp" not in message
    tab.send("upload_csv", name="wide.csv", text="a,b,c,label\n" + "1,2,3,0\n4,5,6,1\n" * 4)
    assert "plots two inputs" in tab.error()


def test_export_predict_matches_the_page(tab, tmp_path, capsys):
    from mlplab.cli.main import main

    tab.send("config", set={"features": ["x1", "x2", "x1^2"], "layers": [5]})
    tab.until("frame")
    for _ in range(3):
        tab.send("step")
    header, blocks = tab.until("frame")
    while header["epoch"] < 3:
        header, blocks = tab.until("frame")
    files = {}
    for what in ("data", "model", "torch", "equinox"):
        tab.send("download", what=what)
        msg, _ = tab.until("file")
        files[what] = base64.b64decode(msg["base64"])
    (tmp_path / "m.safetensors").write_bytes(files["model"])
    (tmp_path / "d.csv").write_text(files["data"].decode())
    assert main(["predict", str(tmp_path / "m.safetensors"), str(tmp_path / "d.csv")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    p_cli = np.array([float(line.split(",")[2]) for line in lines[1:]])
    # the page's network, rebuilt from the weights of its last frame
    state = [m for m in tab.messages if m["type"] == "state"][-1]
    params = params_from_frame(header, blocks, state["sizes"])
    page_net = ml.MLP.from_params(params, ["tanh", "identity"], dtype="float64")
    points, _ = pdata.generate("circle", 0, 0)
    p_page = page_net.predict_proba(pdata.features(points, ["x1", "x2", "x1^2"]))[:, 1]
    np.testing.assert_allclose(p_cli, p_page, atol=1e-6)  # the frame holds float32 weights
    X = pdata.features(points[:5], ["x1", "x2", "x1^2"])
    model, _ = ml.load_model(tmp_path / "m.safetensors")
    want = ml.to_numpy(model(X))
    namespace: dict = {}
    exec(compile(files["torch"].decode(), "playground_torch.py", "exec"), namespace)
    import torch

    got = namespace["model"](torch.tensor(X)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    if "jax" in ml.available_backends():
        import jax

        namespace = {}
        exec(compile(files["equinox"].decode(), "playground_equinox.py", "exec"), namespace)
        got = np.asarray(jax.vmap(namespace["model"])(X.astype(np.float32)))
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_gate_presets_truth_tables(tab):
    for name, labels in (("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]), ("xor2", [0, 1, 1, 0])):
        tab.send("preset", name=name)
        header, _ = tab.until("frame")
        assert [r["label"] for r in header["truth"]] == labels
        assert [round(r["output"]) for r in header["truth"]] == labels
    rows = header["truth"]
    assert rows[3]["steps"][0] == [
        "H(−0.5 + 1·1 + 1·1) = H(1.5) = 1",
        "H(−1.5 + 1·1 + 1·1) = H(0.5) = 1",
    ]
    tab.send("preset", name="and")
    tab.until("frame")
    tab.send("set_weight", layer=0, row=0, col=-1, value=0)  # AND's bias to 0: now OR
    header, _ = tab.until("frame")
    assert [round(r["output"]) for r in header["truth"]] == [0, 1, 1, 1]
    assert header["truth"][1]["steps"][0] == ["H(0 + 1·0 + 1·1) = H(1) = 1"]


def test_xor_one_neuron_certificate(tab):
    tab.send("preset", name="xor1")
    msg, _ = tab.until("lecture")
    text = "\n".join(msg["lines"])
    assert "2θ₀ + θ₁ + θ₂" in text and "no θ exists" in text
    tab.send("config", set={"stop_epoch": 300})
    tab.send("play")
    tab.until("info", limit=5000)
    header, _ = tab.until("frame")
    assert header["acc_train"] <= 0.75  # never all four rows


def test_step_mode_equals_mlp_gradients(tab):
    tab.send("preset", name="stepmode")
    msg, _ = tab.until("stepmode")
    state = [m for m in tab.messages if m["type"] == "state"][-1]
    net = ml.MLP(2, [2], 1, activation="tanh", seed=3, dtype="float64")
    assert state["sizes"] == net.sizes
    loss, back = net.gradients(TRUTH_X[:1], np.array([0]), "bce")
    assert msg["loss"] == pytest.approx(loss, rel=1e-12)
    for layer, delta, (_gb, gW) in zip(msg["layers"], back.deltas, back.grads, strict=True):
        np.testing.assert_allclose(layer["delta"], ml.to_numpy(delta)[0], rtol=1e-12)
        np.testing.assert_allclose(layer["update_W"], -0.5 * ml.to_numpy(gW), rtol=1e-12)
    tab.send("step_apply")
    header, blocks = tab.until("frame")
    b1, W1 = net.numpy_params()[0]
    want = W1 - 0.5 * ml.to_numpy(back.grads[0][1])
    np.testing.assert_allclose(blocks["weights"][2:6].reshape(2, 2), want, rtol=1e-6)


def test_approximation_error_falls_with_n_and_inspect(tab):
    eps = []
    for n in (4, 16, 64):
        tab.send("approx", target="sin", n=n)
        eps.append(tab.until("plot1d")[0]["eps"])
    assert eps[0] > eps[1] > eps[2]
    tab.send("preset", name="xor2")
    tab.until("frame")
    tab.send("inspect", x1=1, x2=1, layer=2, neuron=0)
    msg, _ = tab.until("inspect")
    assert msg["w"] == XOR_THETA[2][1:] and msg["x"] == [1.0, 1.0] and msg["z"] == -1.5
    assert msg["a"] == 0.0


def test_cli_host_warning_and_port_in_use(monkeypatch, capsys):
    import socket

    import mlplab.playground as playground
    from mlplab.cli.main import main

    calls = []
    monkeypatch.setattr(playground, "serve", lambda *a, **k: calls.append((a, k)))
    assert main(["playground", "--host", "0.0.0.0", "--no-browser"]) == 0
    assert "warning" in capsys.readouterr().err and calls[0][1]["open_browser"] is False
    monkeypatch.undo()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        assert main(["playground", "--port", str(sock.getsockname()[1]), "--no-browser"]) == 2
    finally:
        sock.close()
    assert "pass another --port" in capsys.readouterr().err


def test_l1_penalty_adds_rate_times_sign_to_weight_gradients():
    from mlplab.playground.session import L1Penalty

    rng = np.random.default_rng(0)
    params = [
        (rng.normal(size=3), rng.normal(size=(3, 2))),
        (rng.normal(size=1), rng.normal(size=(1, 3))),
    ]
    grads = [
        (rng.normal(size=3), rng.normal(size=(3, 2))),
        (rng.normal(size=1), rng.normal(size=(1, 3))),
    ]
    opt = L1Penalty(ml.SGD(), 0.3)
    assert opt.name == "sgd" and opt.init(params) == {}
    new, _ = opt.update(params, grads, {}, 0.1, 1)
    for (b, W), (gb, gW), (nb, nW) in zip(params, grads, new, strict=True):
        np.testing.assert_allclose(nb, b - 0.1 * gb)  # biases are not penalised
        np.testing.assert_allclose(nW, W - 0.1 * (gW + 0.3 * np.sign(W)))
