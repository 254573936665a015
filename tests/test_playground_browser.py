"""The playground in a real headless Chromium, driven by Playwright for Python.

Needs Debian's Chromium (/usr/bin/chromium or `chromium` on the PATH) and the
`playwright` package; Playwright's own browser download is never used. Without
them the tests skip, unless MLPLAB_REQUIRE_BROWSER=1 (as in CI), where they fail.
Set MLPLAB_SCREENSHOTS=DIR to save the screenshots docs/playground.md shows.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from browser import SHOTS, require_chromium

import mlplab as ml

CHROMIUM = require_chromium()


@pytest.fixture(scope="module")
def server():
    import uvicorn

    from mlplab.playground import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(), log_level="warning", ws="auto")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    context.set_default_timeout(60000)  # a busy 2-core machine runs other tests beside these
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.base = server
    yield pg
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def open_page(pg, fragment: str = ""):
    pg.goto(pg.base + fragment)
    pg.wait_for_function("window.playground.framesDrawn > 0 && window.playground.started")


def shot(pg, name: str, **kw):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(Path(SHOTS) / name), **kw)


def load_preset(pg, name: str):
    pg.select_option("#preset", name)
    pg.wait_for_function(
        f"window.playground.state.preset && window.playground.state.preset.name === '{name}'"
    )
    pg.wait_for_timeout(300)


def heat_rgb(pg, x1: float, x2: float) -> list[int]:
    """The output heat-map's pixel at the data point (x1, x2)."""
    return pg.evaluate(
        """([x1, x2]) => {
        const [lo, hi] = window.playground.state.view;
        const px = Math.floor((x1 - lo) / (hi - lo) * 100);
        const py = Math.floor((hi - x2) / (hi - lo) * 100);
        return Array.from(document.getElementById('heat').getContext('2d')
            .getImageData(Math.min(99, px), Math.min(99, py), 1, 1).data.slice(0, 3));
    }""",
        [x1, x2],
    )


def test_and_preset_shows_its_truth_table(page):
    open_page(page)
    load_preset(page, "and")
    page.wait_for_selector("table.truth")
    rows = page.locator("table.truth tr").all_inner_texts()[1:]
    assert len(rows) == 4
    assert "H(−1 + 1·0 + 1·1) = H(0) = 0" in rows[1] and rows[1].endswith("✓")
    assert "H(−1 + 1·1 + 1·1) = H(1) = 1" in rows[3]
    assert page.locator("td.ok").count() == 4
    shot(page, "and-truth-table.png", full_page=True)


def set_param_by_hand(pg, layer: int, row: int, col: int, value: float):
    x, y = pg.evaluate(f"window.playground.paramPoint({layer}, {row}, {col})")
    pg.mouse.move(x, y)
    pg.wait_for_selector("#card:not([hidden])")
    kind = "bias" if col < 0 else "weight"
    assert kind in pg.inner_text("#card")
    pg.mouse.click(x, y)
    pg.fill("#edit-value", str(value))
    pg.press("#edit-value", "Enter")
    index = pg.evaluate(
        f"""(() => {{ const s = window.playground.state.sizes; let off = 0;
        for (let l = 0; l < {layer}; l++) off += s[l + 1] * (s[l] + 1);
        return {col} < 0 ? off + {row} : off + s[{layer} + 1] + {row} * s[{layer}] + {col}; }})()"""
    )
    pg.wait_for_function(f"Math.abs(window.playground.blocks.weights[{index}] - ({value})) < 1e-6")


def test_xor_by_hand_through_the_hover_card(page):
    open_page(page)
    load_preset(page, "xor1")  # the truth table, one Heaviside neuron
    page.click("#add-layer")  # a hidden layer of 2 neurons
    page.wait_for_function("window.playground.state.sizes.join() === '2,2,1'")
    page.select_option("#layer-buttons .layer-btns select", "heaviside")
    page.wait_for_function("window.playground.state.activations[0] === 'heaviside'")
    page.wait_for_timeout(200)
    (h1, h2, out) = [[-0.5, 1, 1], [-1.5, 1, 1], [-0.5, 1, -2]]
    for row, theta in enumerate((h1, h2)):
        set_param_by_hand(page, 0, row, -1, theta[0])
        set_param_by_hand(page, 0, row, 0, theta[1])
        set_param_by_hand(page, 0, row, 1, theta[2])
    set_param_by_hand(page, 1, 0, -1, out[0])
    set_param_by_hand(page, 1, 0, 0, out[1])
    set_param_by_hand(page, 1, 0, 1, out[2])
    page.wait_for_timeout(200)
    for (x1, x2), want in zip([(0, 0), (0, 1), (1, 0), (1, 1)], [0, 1, 1, 0], strict=True):
        r, _, b = heat_rgb(page, x1, x2)
        assert (b > r) == bool(want), f"pixel at ({x1}, {x2}) is {(r, b)}; XOR wants {want}"
    assert page.locator("td.ok").count() == 4
    # the math of hidden neuron 1 (OR) at the point (1, 1), clicked on the map
    page.click('#network .node[data-layer="1"][data-neuron="0"]')
    box = page.locator("#points").bounding_box()
    page.mouse.click(box["x"] + 0.75 * box["width"], box["y"] + 0.25 * box["height"])
    page.wait_for_function("document.getElementById('card').textContent.includes('(1, 1)')")
    card = page.inner_text("#card")  # the click lands within a pixel of (1, 1)
    z = float(card.split("z = b + w·x = −0.5 + 1·")[1].split("= ")[1].split()[0])
    assert z == pytest.approx(1.5, abs=0.01) and "a = H(z) = 1" in card
    shot(page, "xor-by-hand.png")


def test_circle_trains_to_95_percent(page):
    open_page(page)
    page.click("#play")
    page.wait_for_function(
        "parseFloat(document.getElementById('acc-test')?.textContent) >= 95", timeout=60000
    )
    page.click("#play")
    page.wait_for_function("!window.playground.playing")
    page.check("#show-test")
    shot(page, "circle-trained.png")


def test_csv_upload_and_a_broken_one(page, tmp_path):
    open_page(page)
    rng = np.random.default_rng(1)
    pts = rng.uniform(-5, 5, (80, 2))
    good = tmp_path / "quadrants.csv"
    lines = [f"{a:.3f},{b:.3f},{int(a > 0)}" for a, b in pts]
    good.write_text("x1,x2,label\n" + "\n".join(lines) + "\n")
    page.set_input_files("#upload", str(good))
    page.wait_for_function("document.getElementById('banner-text').textContent.includes('loaded')")
    assert "80 points" in page.inner_text("#banner-text")
    page.wait_for_function(
        "window.playground.data.train.length + window.playground.data.test.length === 80"
    )
    bad = tmp_path / "broken.csv"
    bad.write_text("x1,x2,label\n1,2,0\n3,abc,1\n4,5,\n")
    page.set_input_files("#upload", str(bad))
    page.wait_for_function("document.getElementById('banner').className === 'error'")
    message = page.inner_text("#banner-text")
    assert "broken.csv" in message and "/tmp" not in message
    shot(page, "csv-error.png", clip={"x": 0, "y": 0, "width": 1400, "height": 420})


def test_export_and_mlplab_predict_match_the_page(page, tmp_path, capsys):
    from mlplab.cli.main import main
    from mlplab.playground import data as pdata

    open_page(page, "#dataset=gauss&layers=3&activations=tanh&features=x1,x2,sin(x1)")
    page.wait_for_function("window.playground.state.sizes.join() === '3,3,1'")
    for _ in range(5):
        page.click("#step")
    page.wait_for_function("window.playground.frame.epoch >= 5")
    files = {}
    for what in ("model", "data"):
        with page.expect_download() as info:
            page.click(f"#dl-{what}")
        files[what] = tmp_path / info.value.suggested_filename
        info.value.save_as(files[what])
    assert main(["predict", str(files["model"]), str(files["data"])]) == 0
    rows = capsys.readouterr().out.strip().splitlines()[1:]
    p_cli = np.array([float(r.split(",")[2]) for r in rows])
    weights = np.array(page.evaluate("Array.from(window.playground.blocks.weights)"))
    b1, W1 = weights[:3], weights[3:12].reshape(3, 3)
    b2, W2 = weights[12:13], weights[13:16].reshape(1, 3)
    net = ml.MLP.from_params([(b1, W1), (b2, W2)], ["tanh", "identity"], dtype="float64")
    data = np.loadtxt(files["data"], delimiter=",", skiprows=1)
    np.testing.assert_allclose(p_cli, net.predict_proba(data[:, :3])[:, 1], atol=1e-6)
    # the page's own heat-map pixels are the model's output: 255 · p, rounded
    heat = np.array(page.evaluate("Array.from(window.playground.blocks.output)"))
    grid = pdata.features(pdata.grid(100), ["x1", "x2", "sin(x1)"])
    model, _ = ml.load_model(files["model"])
    expected = np.round(255 * model.predict_proba(grid)[:, 1])
    assert np.max(np.abs(heat - expected)) <= 1


def test_url_state_round_trip(page, browser):
    fragment = (
        "#dataset=xor&noise=10&layers=3,3&activations=relu,relu&lr=0.1"
        "&features=x1,x2,x1*x2&hide=noise,lr"
    )
    open_page(page, fragment)
    page.wait_for_function("window.playground.state.sizes.join() === '3,3,3,1'")
    s = page.evaluate("window.playground.state.settings")
    assert (s["dataset"], s["noise"], s["lr"], s["activations"]) == ("xor", 10, 0.1, ["relu"] * 2)
    assert not page.is_visible("#noise") and not page.is_visible("#lr")
    assert page.is_visible("#ratio")
    page.click("#step")
    page.wait_for_function("window.playground.frame.epoch === 1")
    page.check("#share-weights")
    page.wait_for_function("location.hash.includes('weights=')")
    url = page.url
    weights = page.evaluate("Array.from(window.playground.blocks.weights)")
    other = browser.new_page()
    other.set_default_timeout(60000)
    other.goto(url)
    other.wait_for_function(
        "window.playground.started && window.playground.state.sizes.join() === '3,3,3,1'"
    )
    other.wait_for_function(
        f"Math.abs(window.playground.blocks.weights[5] - ({weights[5]})) < 1e-5 && "
        f"Math.abs(window.playground.blocks.weights[20] - ({weights[20]})) < 1e-5"
    )
    got = other.evaluate("Array.from(window.playground.blocks.weights)")
    np.testing.assert_allclose(got, weights, rtol=1e-6, atol=1e-7)
    assert not other.is_visible("#noise")
    assert other.evaluate("window.playground.state.settings.noise") == 10
    other.close()
    # points clicked by hand travel in the link too
    third = browser.new_page()
    third.set_default_timeout(60000)
    third.goto(page.base + "#points=1,1,1;-1,-1,0;2,2.5,1;-2,-2,0&kind=binary&layers=3")
    third.wait_for_function(
        "window.playground.started && window.playground.data && "
        "window.playground.data.train.length + window.playground.data.test.length === 4"
    )
    assert third.evaluate("window.playground.state.settings.dataset") == "custom"
    third.wait_for_function("location.hash.includes('points=')")
    assert "2.5" in third.evaluate("location.hash")
    third.close()


def test_step_mode_shows_the_deltas_of_mlp_gradients(page):
    from mlplab.playground.presets import TRUTH_X

    open_page(page)
    load_preset(page, "stepmode")
    page.wait_for_selector("#stepmode table.stage")
    page.click("#stage-delta")
    cells = page.locator("td.delta")
    shown = {
        (int(c.get_attribute("data-layer")), int(c.get_attribute("data-neuron"))): (
            float(c.get_attribute("data-value")),
            float(c.inner_text().replace("−", "-")),
        )
        for c in cells.all()
    }
    net = ml.MLP(2, [2], 1, activation="tanh", seed=3, dtype="float64")
    _, back = net.gradients(TRUTH_X[:1], np.array([0]), "bce")
    assert len(shown) == 3
    for layer, delta in enumerate(back.deltas):
        for j, want in enumerate(ml.to_numpy(delta)[0]):
            value, text = shown[(layer, j)]
            assert value == pytest.approx(want, rel=1e-12)
            assert text == pytest.approx(want, rel=1e-5)
    shot(page, "step-mode-deltas.png", full_page=True)


@pytest.mark.skipif(not SHOTS, reason="screenshots for the docs only (MLPLAB_SCREENSHOTS)")
def test_docs_screenshots(page):
    open_page(page)
    load_preset(page, "xor2")
    shot(page, "xor-2-2-1-or-and.png", full_page=True)
    load_preset(page, "xor1")
    page.wait_for_selector("#certificate:not([hidden])")
    shot(page, "xor-one-neuron-certificate.png", full_page=True)
    load_preset(page, "approx")
    page.wait_for_selector("#plot1d-panel:not([hidden])")
    page.fill("#approx-n", "32")
    page.dispatch_event("#approx-n", "input")
    page.wait_for_function("document.getElementById('plot1d-lines').textContent.includes('N = 32')")
    page.locator("#lecture").screenshot(path=str(Path(SHOTS) / "universal-approximation.png"))
    load_preset(page, "extrapolation")
    page.wait_for_function("document.getElementById('plot1d-legend').textContent.includes('L3')")
    page.locator("#lecture").screenshot(path=str(Path(SHOTS) / "polynomial-vs-mlp.png"))
    page.goto("about:blank")
    open_page(
        page,
        "#dataset=spiral&layers=8,8,8&activations=tanh,tanh,tanh&features=x1,x2,sin(x1),sin(x2)&lr=0.03&optimizer=adam",
    )
    page.click("#play")
    page.wait_for_timeout(6000)
    page.click("#play")
    page.wait_for_function("!window.playground.playing")
    shot(page, "spiral-deep.png")
