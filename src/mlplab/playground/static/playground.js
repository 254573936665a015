// mlplab playground page. It draws what the server sends and sends what the user does:
// every number (training, heat-maps, gradients, truth tables) is computed by mlplab in
// Python. No build step, no external code.
"use strict";

const $ = (id) => document.getElementById(id);
const ORANGE = [245, 147, 34];
const BLUE = [8, 119, 189];
const WHITE = [232, 234, 235];
const CLASS_COLORS = [ORANGE, BLUE, [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127]];
const ACTIVATIONS = ["tanh", "relu", "sigmoid", "identity", "heaviside", "leaky_relu", "gelu", "softplus"];
const DATASETS = [["circle", "Circle"], ["xor", "Exclusive or"], ["gauss", "Gaussian"],
  ["spiral", "Spiral"], ["gauss3", "3 Gaussians"], ["spiral3", "3 spirals"],
  ["reg-plane", "Plane (regression)"], ["reg-gauss", "Bumps (regression)"]];
const ALL_FEATURES = [["x1", "x₁"], ["x2", "x₂"], ["x1^2", "x₁²"], ["x2^2", "x₂²"],
  ["x1*x2", "x₁x₂"], ["sin(x1)", "sin x₁"], ["sin(x2)", "sin x₂"]];
const URL_KEYS = ["dataset", "noise", "ratio", "batch", "lr", "optimizer", "init", "layers",
  "activations", "output_activation", "features", "regularization", "reg_rate", "seed",
  "backend", "stop_epoch", "stop_loss"];

const pg = {
  ws: null, state: null, data: null, frame: null, blocks: null, history: [],
  selected: null, hoverPoint: [0, 0], layout: null, step: null, stage: "forward",
  hidden: [], pendingWeights: null, pendingPreset: null, framesDrawn: 0, drawMs: 0, started: false,
};
window.playground = pg;

// --- colours -------------------------------------------------------------------------
function mix(a, b, t) { return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t)); }
function diverging(v) { // v in [0, 1]: orange (0) … white (0.5) … blue (1)
  return v < 0.5 ? mix(ORANGE, WHITE, v * 2) : mix(WHITE, BLUE, (v - 0.5) * 2);
}
function rgb(c) { return `rgb(${c[0]},${c[1]},${c[2]})`; }

// --- connection ------------------------------------------------------------------------
function send(cmd) {
  if (pg.ws && pg.ws.readyState === WebSocket.OPEN) pg.ws.send(JSON.stringify(cmd));
}
function connect() {
  const ws = new WebSocket(`ws://${location.host}/ws`);
  ws.binaryType = "arraybuffer";
  ws.onmessage = (ev) => {
    if (typeof ev.data === "string") onMessage(JSON.parse(ev.data));
    else onFrame(ev.data);
  };
  ws.onclose = () => showBanner("The connection to the playground server closed; restart " +
    "`mlplab playground` and reload the page.", "error");
  ws.onopen = () => { pg.ws = ws; };
  pg.ws = ws;
}

function decodeFrame(buf) {
  const view = new DataView(buf);
  const magic = String.fromCharCode(...new Uint8Array(buf, 0, 4));
  if (magic !== "MLPF") throw new Error("not a playground frame");
  const n = view.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, n)));
  const base = 8 + n;
  const blocks = {};
  for (const [name, [offset, dtype, shape]] of Object.entries(header.blocks)) {
    const count = shape.reduce((a, b) => a * b, 1);
    blocks[name] = dtype === "float32" ? new Float32Array(buf, base + offset, count)
      : new Uint8Array(buf, base + offset, count);
  }
  return [header, blocks];
}

function onFrame(buf) {
  const [header, blocks] = decodeFrame(buf);
  pg.frame = header;
  pg.blocks = blocks;
  requestAnimationFrame(() => {
    const t0 = performance.now();
    drawFrame();
    pg.drawMs += performance.now() - t0; // total drawing time, for the benchmark
    pg.framesDrawn += 1;
    if ($("share-weights").checked && !pg.playing) writeUrl();
    send({ cmd: "ack" });
  });
}

function onMessage(m) {
  if (m.type === "state") onState(m);
  else if (m.type === "data") { pg.data = m; drawPoints(); writeUrl(); }
  else if (m.type === "error") showBanner(m.message, "error");
  else if (m.type === "info") showBanner(m.message, "info");
  else if (m.type === "playing") setPlaying(m.playing);
  else if (m.type === "reset") { pg.history = []; pg.step = null; }
  else if (m.type === "file") saveFile(m);
  else if (m.type === "inspect") showMath(m);
  else if (m.type === "lecture") showCertificate(m);
  else if (m.type === "plot1d") showPlot1d(m);
  else if (m.type === "stepmode") showStepMode(m);
}

// --- banner --------------------------------------------------------------------------
function showBanner(text, kind) {
  $("banner-text").textContent = text;
  $("banner").className = kind;
  $("banner").hidden = false;
}

// --- state -> controls ---------------------------------------------------------------
function onState(m) {
  const first = pg.state === null;
  pg.state = m;
  const s = m.settings;
  for (const id of ["lr", "regularization", "reg_rate", "optimizer", "init"]) {
    ensureOption($(id), String(s[id]));
    $(id).value = String(s[id]);
  }
  fillSelect($("backend"), m.backends.map((b) => [b, b]), s.backend);
  const acts = s.activations;
  $("activation").value = acts.length && acts.every((a) => a === acts[0]) ? acts[0] : "";
  for (const k of ["ratio", "noise", "batch"]) {
    $(k).value = s[k];
    $(`${k}-val`).textContent = k === "ratio" ? `${s[k]}%` : s[k];
  }
  $("stop_epoch").value = s.stop_epoch;
  $("stop_loss").value = s.stop_loss;
  $("epoch").textContent = String(m.epoch).padStart(6, "0");
  for (const btn of document.querySelectorAll("#datasets button")) {
    btn.classList.toggle("selected", btn.dataset.name === s.dataset);
  }
  if ($("preset").options.length === 1) {
    for (const p of m.presets) $("preset").add(new Option(`${p.lecture}: ${p.title}`, p.name));
  }
  $("preset").value = m.preset ? m.preset.name : "";
  setPlaying(m.playing);
  buildNetwork();
  showLecture(m.preset);
  writeUrl();
  if (first) applyUrlAfterConnect();
  else if (pg.pendingWeights && sameShapes(pg.pendingWeights)) {
    send({ cmd: "set_params", params: pg.pendingWeights });
    pg.pendingWeights = null;
  }
}
function ensureOption(sel, value) {
  if (![...sel.options].some((o) => o.value === value)) sel.add(new Option(value, value));
}
function fillSelect(sel, pairs, value) {
  if (sel.options.length !== pairs.length) {
    sel.innerHTML = "";
    for (const [v, label] of pairs) sel.add(new Option(label, v));
  }
  sel.value = value;
}
function setPlaying(on) {
  pg.playing = on;
  $("play").textContent = on ? "❚❚" : "▶";
  $("play").classList.toggle("playing", on);
}
function setConfig(values) { send({ cmd: "config", set: values }); }

// --- network layout and drawing -------------------------------------------------------
function buildNetwork() {
  const m = pg.state;
  const net = $("network");
  for (const el of net.querySelectorAll(".node, .node-label")) el.remove();
  const sizes = m.sizes;
  const cols = sizes.length;
  const width = net.clientWidth || 600;
  const maxN = Math.max(...sizes);
  const box = Math.max(12, Math.min(34, Math.floor(430 / maxN) - 6));
  const gap = Math.max(4, Math.min(12, box / 3));
  const height = Math.max(300, maxN * (box + gap) + 20);
  net.style.height = `${height}px`;
  const xs = [];
  for (let c = 0; c < cols; c++) xs.push(30 + (width - 60 - box) * (cols === 1 ? 0 : c / (cols - 1)));
  const layout = { box, nodes: [], xs };
  for (let c = 0; c < cols; c++) {
    const n = sizes[c];
    const top = (height - n * (box + gap) + gap) / 2;
    const col = [];
    for (let j = 0; j < n; j++) {
      const x = xs[c], y = top + j * (box + gap);
      col.push({ x, y });
      const node = document.createElement("div");
      node.className = "node" + (c === 0 ? " input" : "") + (c === cols - 1 ? " outnode" : "");
      node.style.cssText = `left:${x}px;top:${y}px;width:${box}px;height:${box}px`;
      node.dataset.layer = c;
      node.dataset.neuron = j;
      const cv = document.createElement("canvas");
      cv.width = 10; cv.height = 10;
      node.appendChild(cv);
      if (c === 0) {
        const name = m.features[j][0];
        node.title = `input feature ${m.features[j][1]} (click to remove it)`;
        node.onclick = () => toggleFeature(name);
        label(net, m.features[j][1], x - 4, y + box / 2, "in");
      } else {
        const key = `${c},${j}`;
        const lab = m.preset && m.preset.neuron_labels[key];
        if (lab) label(net, lab, x + box + 4, y + box / 2, "out bold");
        node.onclick = () => selectNeuron(c, j);
        node.onmouseenter = () => zoomNeuron(node, c, j);
        node.onmouseleave = () => { $("zoom").hidden = true; };
      }
      if (pg.selected && pg.selected[0] === c && pg.selected[1] === j) node.classList.add("selected");
      net.appendChild(node);
    }
    layout.nodes.push(col);
  }
  pg.layout = layout;
  const links = $("links");
  links.width = width; links.height = height;
  buildFeatureButtons(net, m, xs[0], height);
  buildLayerButtons(m, xs, box);
  if (pg.blocks) drawFrame();
}
function label(parent, text, x, y, cls) {
  const el = document.createElement("div");
  el.className = "node-label " + cls;
  el.textContent = text;
  el.style.top = `${y}px`;
  if (cls.startsWith("in")) el.style.right = `${parent.clientWidth - x}px`;
  else el.style.left = `${x}px`;
  parent.appendChild(el);
}
function buildFeatureButtons(net, m, x0, height) {
  let box = net.querySelector(".off-features");
  if (!box) { box = document.createElement("div"); box.className = "off-features"; net.appendChild(box); }
  box.innerHTML = "";
  const on = m.features.map((f) => f[0]);
  for (const [name, lab] of ALL_FEATURES) {
    if (on.includes(name)) continue;
    const b = document.createElement("button");
    b.textContent = `+ ${lab}`;
    b.title = `add the input feature ${lab}`;
    b.onclick = () => toggleFeature(name);
    box.appendChild(b);
  }
}
function toggleFeature(name) {
  const on = pg.state.settings.features.slice();
  const i = on.indexOf(name);
  if (i >= 0) on.splice(i, 1); else on.push(name);
  if (!on.length) { showBanner("keep at least one input feature.", "error"); return; }
  const order = ALL_FEATURES.map((f) => f[0]).filter((f) => on.includes(f));
  setConfig({ features: order });
}
function buildLayerButtons(m, xs, box) {
  const bar = $("layer-buttons");
  bar.innerHTML = "";
  const layers = m.settings.layers;
  $("layer-count").textContent = `${layers.length} hidden layer${layers.length === 1 ? "" : "s"}`;
  layers.forEach((n, i) => {
    const d = document.createElement("div");
    d.className = "layer-btns";
    d.style.left = `${xs[i + 1] + box / 2 - 45}px`;
    const plus = document.createElement("button"); plus.textContent = "+";
    plus.title = "add a neuron";
    plus.onclick = () => setLayer(i, Math.min(m.limits.neurons, n + 1));
    const minus = document.createElement("button"); minus.textContent = "−";
    minus.title = "remove a neuron";
    minus.onclick = () => setLayer(i, Math.max(1, n - 1));
    const sel = document.createElement("select");
    sel.title = "this layer's activation";
    for (const a of ACTIVATIONS) sel.add(new Option(a, a));
    sel.value = m.settings.activations[i];
    sel.onchange = () => {
      const acts = m.settings.activations.slice(); acts[i] = sel.value;
      setConfig({ activations: acts });
    };
    const count = document.createElement("span"); count.textContent = `${n} neurons`;
    d.append(plus, minus, count, sel);
    bar.appendChild(d);
  });
  const out = document.createElement("div");
  out.className = "layer-btns";
  out.style.left = `${xs[xs.length - 1] + box / 2 - 45}px`;
  const osel = document.createElement("select");
  osel.id = "output-activation";
  osel.title = "the output neuron's activation";
  for (const a of ["identity", "sigmoid", "tanh", "heaviside"]) osel.add(new Option(a, a));
  osel.value = m.settings.output_activation;
  osel.onchange = () => setConfig({ output_activation: osel.value });
  const lab = document.createElement("span"); lab.textContent = "output";
  out.append(lab, osel);
  bar.appendChild(out);
}
function setLayer(i, n) {
  const layers = pg.state.settings.layers.slice();
  layers[i] = n;
  setConfig({ layers });
}

function paintSmall(canvas, values, offset) { // a 10×10 map, values 0…255 (−1…1)
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(10, 10);
  for (let p = 0; p < 100; p++) {
    const c = diverging(values[offset + p] / 255);
    img.data.set([c[0], c[1], c[2], 255], p * 4);
  }
  ctx.putImageData(img, 0, 0);
}

function drawFrame() {
  const f = pg.frame, b = pg.blocks, m = pg.state;
  if (!f || !b || !m || !pg.layout) return;
  $("epoch").textContent = String(f.epoch).padStart(6, "0");
  const nodes = document.querySelectorAll("#network .node");
  for (const node of nodes) {
    const c = +node.dataset.layer, j = +node.dataset.neuron;
    const cv = node.firstChild;
    if (c === 0 && b.inputs) paintSmall(cv, b.inputs, j * 100);
    else if (b[`layer${c}`]) paintSmall(cv, b[`layer${c}`], j * 100);
    else if (c === m.sizes.length - 1) paintOutputNode(cv);
  }
  drawLinks();
  drawHeat();
  drawMetrics();
  if (f.truth) drawTruth(f.truth);
}
function paintOutputNode(cv) {
  const ctx = cv.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage($("heat"), 0, 0, 10, 10);
}

function weightsOf(layer) { // {b, W} of parameter layer `layer` (0-based) from the frame
  const sizes = pg.state.sizes;
  let off = 0;
  for (let l = 0; l < layer; l++) off += sizes[l + 1] * (sizes[l] + 1);
  const dout = sizes[layer + 1], din = sizes[layer];
  const w = pg.blocks.weights;
  return { b: w.subarray(off, off + dout), W: w.subarray(off + dout, off + dout + dout * din), din, dout };
}
function linkEnds(l, row, col) {
  const L = pg.layout, box = L.box;
  const a = L.nodes[l][col], z = L.nodes[l + 1][row];
  return [a.x + box, a.y + box / 2, z.x, z.y + box / 2];
}
function biasBox(l, row) {
  const z = pg.layout.nodes[l + 1][row];
  const s = Math.max(5, pg.layout.box / 4);
  return [z.x - s - 1, z.y + pg.layout.box - s, s];
}
function drawLinks() {
  const cv = $("links"), ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  const sizes = pg.state.sizes;
  let maxAbs = 1e-9;
  for (const v of pg.blocks.weights) maxAbs = Math.max(maxAbs, Math.abs(v));
  let links = 0;
  for (let l = 0; l < sizes.length - 1; l++) links += sizes[l] * sizes[l + 1];
  const dense = links > 2000; // thousands of links: thinner, fainter, the smallest left out
  // dense: widths relative to the largest weight, so the strongest paths stand out
  const scale = dense ? 2.5 / maxAbs : Math.min(1, 6 / maxAbs) * (pg.layout.box < 16 ? 0.6 : 1);
  // One path per colour and width step: thousands of lines cost a few strokes.
  const buckets = new Map();
  for (let l = 0; l < sizes.length - 1; l++) {
    const { W, din, dout } = weightsOf(l);
    for (let r = 0; r < dout; r++) {
      for (let c = 0; c < din; c++) {
        const w = W[r * din + c];
        const width = Math.max(0.3, Math.min(8, Math.abs(w) * scale));
        if (dense && Math.abs(w) < 0.15 * maxAbs) continue;
        const key = `${w >= 0 ? 1 : 0}:${Math.round(width * 4) / 4}`;
        if (!buckets.has(key)) buckets.set(key, []);
        buckets.get(key).push(linkEnds(l, r, c));
      }
    }
  }
  ctx.globalAlpha = dense ? 0.5 : 0.85;
  const curved = links <= 600; // a wide network's thousands of links: straight is faster
  for (const [key, lines] of buckets) {
    const [sign, width] = key.split(":");
    ctx.strokeStyle = rgb(sign === "1" ? BLUE : ORANGE);
    ctx.lineWidth = Number(width);
    ctx.beginPath();
    for (const [x1, y1, x2, y2] of lines) {
      ctx.moveTo(x1, y1);
      if (curved) ctx.bezierCurveTo((x1 + x2) / 2, y1, (x1 + x2) / 2, y2, x2, y2);
      else ctx.lineTo(x2, y2);
    }
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
  ctx.strokeStyle = "#555";
  ctx.lineWidth = 0.8;
  for (let l = 0; l < sizes.length - 1; l++) {
    const { b, dout } = weightsOf(l);
    for (let r = 0; r < dout; r++) {
      const [bx, by, s] = biasBox(l, r);
      ctx.fillStyle = rgb(diverging(0.5 + Math.max(-0.5, Math.min(0.5, b[r] / 4))));
      ctx.fillRect(bx, by, s, s);
      ctx.strokeRect(bx, by, s, s);
    }
  }
  if (pg.stepOverlay) drawStepOverlay(ctx);
}

// --- hit-testing weights and biases, hover card, editing ------------------------------
function linksCurved() {
  const s = pg.state.sizes;
  let total = 0;
  for (let l = 0; l < s.length - 1; l++) total += s[l] * s[l + 1];
  return total <= 600;
}
function bezierPoint(x1, y1, x2, y2, t) {
  if (!linksCurved()) return [x1 + (x2 - x1) * t, y1 + (y2 - y1) * t];
  const mx = (x1 + x2) / 2, u = 1 - t;
  const x = u * u * u * x1 + 3 * u * u * t * mx + 3 * u * t * t * mx + t * t * t * x2;
  const y = u * u * u * y1 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y2;
  return [x, y];
}
function hitTest(px, py) {
  if (!pg.blocks || !pg.layout) return null;
  const sizes = pg.state.sizes;
  let best = null, bestD = 6;
  for (let l = 0; l < sizes.length - 1; l++) {
    for (let r = 0; r < sizes[l + 1]; r++) {
      const [bx, by, s] = biasBox(l, r);
      if (px >= bx - 2 && px <= bx + s + 2 && py >= by - 2 && py <= by + s + 2) {
        return { layer: l, row: r, col: -1 };
      }
      for (let c = 0; c < sizes[l]; c++) {
        const [x1, y1, x2, y2] = linkEnds(l, r, c);
        if (px < x1 - 6 || px > x2 + 6) continue;
        for (let k = 0; k <= 24; k++) {
          const [x, y] = bezierPoint(x1, y1, x2, y2, k / 24);
          const d = Math.hypot(x - px, y - py);
          if (d < bestD) { bestD = d; best = { layer: l, row: r, col: c }; }
        }
      }
    }
  }
  return best;
}
function paramValue(h) {
  const { b, W, din } = weightsOf(h.layer);
  return h.col < 0 ? b[h.row] : W[h.row * din + h.col];
}
function describeParam(h) {
  const names = pg.state.features.map((f) => f[1]);
  const target = `neuron ${h.row + 1} of ${h.layer + 1 === pg.state.sizes.length - 1 ? "the output layer" : `hidden layer ${h.layer + 1}`}`;
  if (h.col < 0) return `bias of ${target}`;
  const from = h.layer === 0 ? `input ${names[h.col]}` : `neuron ${h.col + 1} of hidden layer ${h.layer}`;
  return `weight from ${from} to ${target}`;
}
function showCard(h, x, y, editing) {
  const card = $("card");
  const value = paramValue(h);
  card.innerHTML = "";
  const title = document.createElement("div");
  title.className = "card-title";
  title.textContent = describeParam(h);
  const val = document.createElement("div");
  val.className = "card-value";
  val.textContent = `${h.col < 0 ? "b" : "w"} = ${fmt(value, 6)}`;
  card.append(title, val);
  if (editing) {
    const input = document.createElement("input");
    input.type = "number"; input.step = "any"; input.id = "edit-value";
    input.value = String(+value.toPrecision(6));
    const ok = document.createElement("button"); ok.textContent = "Set"; ok.id = "edit-ok";
    const commit = () => {
      const v = Number(input.value);
      if (input.value.trim() === "" || !Number.isFinite(v)) {
        showBanner(`"${input.value}" is not a number; type a value such as -0.5.`, "error");
        return;
      }
      send({ cmd: "set_weight", layer: h.layer, row: h.row, col: h.col, value: v });
      card.hidden = true; pg.editing = null;
    };
    ok.onclick = commit;
    input.onkeydown = (e) => { if (e.key === "Enter") commit(); if (e.key === "Escape") { card.hidden = true; pg.editing = null; } };
    card.append(input, ok);
    pg.editing = h;
  } else {
    const hint = document.createElement("div"); hint.className = "hint"; hint.textContent = "click to edit";
    card.append(hint);
  }
  card.style.left = `${x + 14}px`;
  card.style.top = `${y + 10}px`;
  card.hidden = false;
  if (editing) card.querySelector("input").focus();
}
function setupNetworkMouse() {
  const net = $("network");
  net.addEventListener("mousemove", (e) => {
    if (pg.editing) return;
    if (e.target.closest(".node")) return;
    const r = net.getBoundingClientRect();
    const h = hitTest(e.clientX - r.left, e.clientY - r.top);
    if (h) showCard(h, e.pageX, e.pageY, false); else $("card").hidden = true;
    net.style.cursor = h ? "pointer" : "default";
  });
  net.addEventListener("mouseleave", () => { if (!pg.editing) $("card").hidden = true; });
  net.addEventListener("click", (e) => {
    if (e.target.closest(".node")) return;
    const r = net.getBoundingClientRect();
    const h = hitTest(e.clientX - r.left, e.clientY - r.top);
    if (h) showCard(h, e.pageX, e.pageY, true);
  });
  document.addEventListener("mousedown", (e) => {
    if (pg.editing && !e.target.closest("#card") && !e.target.closest("#network")) {
      $("card").hidden = true; pg.editing = null;
    }
  });
}
// Client coordinates of a weight line's middle or a bias square (used by the tests too).
pg.paramPoint = (layer, row, col) => {
  const r = $("network").getBoundingClientRect();
  if (col < 0) {
    const [bx, by, s] = biasBox(layer, row);
    return [r.left + bx + s / 2, r.top + by + s / 2];
  }
  const [x1, y1, x2, y2] = linkEnds(layer, row, col);
  const [x, y] = bezierPoint(x1, y1, x2, y2, 0.25); // lines cross in the middle
  return [r.left + x, r.top + y];
};

// --- neurons: zoom and math -----------------------------------------------------------
function zoomNeuron(node, c, j) {
  const z = $("zoom");
  const cv = z.querySelector("canvas");
  cv.getContext("2d").drawImage(node.firstChild, 0, 0);
  const r = node.getBoundingClientRect();
  z.style.left = `${r.right + window.scrollX + 8}px`;
  z.style.top = `${r.top + window.scrollY - 40}px`;
  const last = c === pg.state.sizes.length - 1;
  z.querySelector(".cap").textContent = last ? `output neuron ${j + 1}` : `layer ${c}, neuron ${j + 1}`;
  z.hidden = false;
}
function selectNeuron(c, j) {
  pg.selected = [c, j];
  for (const n of document.querySelectorAll("#network .node")) {
    n.classList.toggle("selected", +n.dataset.layer === c && +n.dataset.neuron === j);
  }
  send({ cmd: "inspect", x1: pg.hoverPoint[0], x2: pg.hoverPoint[1], layer: c, neuron: j });
}
const SYMBOL = { heaviside: "H", identity: "", sigmoid: "σ", tanh: "tanh", relu: "ReLU",
  leaky_relu: "LeakyReLU", gelu: "GELU", softplus: "softplus" };
function showMath(m) {
  const names = m.layer === 1 ? pg.state.features.map((f) => f[1])
    : Array.from({ length: m.x.length }, (_, i) => `z${m.layer - 1},${i + 1}`);
  const terms = m.w.map((w, i) => `${fmt(w, 4)}·${fmt(m.x[i], 4)}`).join(" + ");
  const f = SYMBOL[m.activation] ?? m.activation;
  const where = `at x = (${fmt(m.point[0], 3)}, ${fmt(m.point[1], 3)})`;
  const lines = [
    `${m.layer === pg.state.sizes.length - 1 ? "Output" : `Layer ${m.layer}`} neuron ${m.neuron + 1}, ${where}`,
    `inputs: ${names.map((n, i) => `${n} = ${fmt(m.x[i], 4)}`).join(", ")}`,
    `z = b + w·x = ${fmt(m.b, 4)} + ${terms} = ${fmt(m.z, 6)}`,
    `a = ${f || "identity"}(z) = ${fmt(m.a, 6)}`,
  ];
  const card = $("card");
  card.innerHTML = `<div class="card-title">σ(b + w·x), live</div>` +
    lines.map((l) => `<div class="mathline">${escapeHtml(l)}</div>`).join("");
  const node = document.querySelector(`#network .node[data-layer="${m.layer}"][data-neuron="${m.neuron}"]`);
  if (node) {
    const r = node.getBoundingClientRect();
    card.style.left = `${r.right + window.scrollX + 12}px`;
    card.style.top = `${r.bottom + window.scrollY + 4}px`;
  }
  card.hidden = false;
  card.classList.add("math");
  setTimeout(() => card.classList.remove("math"), 0);
}
function escapeHtml(s) {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}
function fmt(v, digits) {
  if (v === null || v === undefined) return "—";
  if (!Number.isFinite(v)) return String(v);
  const s = Number(v.toPrecision(digits));
  return String(s).replace("-", "−");
}

// --- the output heat-map and points ---------------------------------------------------
function drawHeat() {
  const b = pg.blocks, m = pg.state;
  if (!b.output) return;
  const ctx = $("heat").getContext("2d");
  const img = ctx.createImageData(100, 100);
  const disc = $("discretize").checked;
  const multi = m.problem.kind === "multiclass";
  for (let p = 0; p < 10000; p++) {
    let c;
    if (multi) {
      const conf = disc ? 1 : b.confidence[p] / 255;
      c = mix(WHITE, CLASS_COLORS[b.output[p] % 8], 0.62 * Math.max(0, conf - 0.3) / 0.7);
    } else {
      let v = b.output[p] / 255;
      if (disc) v = v > 0.5 ? 1 : 0;
      c = mix(WHITE, diverging(v), 0.62); // paler than the points drawn on it
    }
    img.data.set([c[0], c[1], c[2], 255], p * 4);
  }
  ctx.putImageData(img, 0, 0);
  if (!b[`layer${m.sizes.length - 1}`]) { // one output: its node shows the output map
    for (const n of document.querySelectorAll("#network .node.outnode")) paintOutputNode(n.firstChild);
  }
}
function toPixel(x1, x2) {
  const [lo, hi] = pg.state.view, W = $("points").width;
  return [(x1 - lo) / (hi - lo) * W, (hi - x2) / (hi - lo) * W];
}
function fromPixel(px, py) {
  const [lo, hi] = pg.state.view, W = $("points").clientWidth;
  return [lo + px / W * (hi - lo), hi - py / W * (hi - lo)];
}
function pointColor(label) {
  const kind = pg.state.problem.kind;
  if (kind === "regression") return rgb(diverging((Math.max(-1, Math.min(1, label)) + 1) / 2));
  if (kind === "binary") return rgb(label ? BLUE : ORANGE);
  return rgb(CLASS_COLORS[label % 8]);
}
function drawPoints() {
  const cv = $("points"), ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  if (!pg.data || !pg.state) return;
  const r = pg.state.view[1] - pg.state.view[0] < 4 ? 7 : 3.2;
  const sets = [[pg.data.train, "#fff"]];
  if ($("show-test").checked) sets.push([pg.data.test, "#000"]);
  for (const [rows, edge] of sets) {
    for (const [x1, x2, lab] of rows) {
      const [x, y] = toPixel(x1, x2);
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fillStyle = pointColor(lab);
      ctx.fill();
      ctx.lineWidth = edge === "#000" ? 1.4 : 1;
      ctx.strokeStyle = edge;
      ctx.stroke();
    }
  }
  drawAxis();
}
function drawAxis() {
  const [lo, hi] = pg.state.view;
  const mid = (lo + hi) / 2;
  $("axis").innerHTML = `<span>${fmt(lo, 3)}</span><span>${fmt(mid, 3)}</span><span>${fmt(hi, 3)}</span>`;
}
function setupHeatMouse() {
  const cv = $("points");
  cv.addEventListener("mousemove", (e) => {
    const r = cv.getBoundingClientRect();
    pg.hoverPoint = fromPixel(e.clientX - r.left, e.clientY - r.top).map((v) => +v.toFixed(4));
    if (pg.selected && $("click-mode").value === "inspect" && !pg.inspectPending) {
      pg.inspectPending = true;
      setTimeout(() => { pg.inspectPending = false; }, 60);
      send({ cmd: "inspect", x1: pg.hoverPoint[0], x2: pg.hoverPoint[1], layer: pg.selected[0], neuron: pg.selected[1] });
    }
  });
  cv.addEventListener("click", (e) => {
    const r = cv.getBoundingClientRect();
    const [x1, x2] = fromPixel(e.clientX - r.left, e.clientY - r.top).map((v) => +v.toFixed(4));
    const mode = $("click-mode").value;
    if (mode === "remove") send({ cmd: "remove_point", x1, x2 });
    else if (mode === "inspect") {
      if (pg.selected) send({ cmd: "inspect", x1, x2, layer: pg.selected[0], neuron: pg.selected[1] });
      else showBanner("click a neuron first, then on the map to see its math there.", "info");
    } else {
      let label = Number(mode);
      if (pg.state.problem.kind === "regression") label = label === 1 ? 1 : -1;
      send({ cmd: "add_point", x1, x2, label });
    }
  });
}

// --- losses, curve, metrics -------------------------------------------------------------
function drawMetrics() {
  const f = pg.frame;
  $("loss-test").textContent = fmt(f.loss_test, 4);
  $("loss-train").textContent = fmt(f.loss_train, 4);
  const last = pg.history[pg.history.length - 1];
  if (!last || last[0] !== f.epoch) pg.history.push([f.epoch, f.loss_train, f.loss_test]);
  else pg.history[pg.history.length - 1] = [f.epoch, f.loss_train, f.loss_test];
  if (pg.history.length > 2000) pg.history = pg.history.filter((_, i) => i % 2 === 0);
  drawCurve();
  const box = $("metrics");
  if (f.acc_train === undefined) { box.innerHTML = ""; return; }
  const classes = pg.state.problem.classes;
  let html = `<div>Accuracy: train <b id="acc-train">${pct(f.acc_train)}</b>` +
    ` · test <b id="acc-test">${f.acc_test === undefined ? "—" : pct(f.acc_test)}</b></div>`;
  if (f.confusion) {
    html += `<div class="caption">Confusion matrix (${f.acc_test === undefined ? "train" : "test"} points): rows true class, columns predicted</div>` +
      `<table class="confusion"><tr><th></th>` +
      classes.map((c) => `<th>${escapeHtml(String(c))}</th>`).join("") + "</tr>";
    f.confusion.forEach((row, i) => {
      html += `<tr><th>${escapeHtml(String(classes[i]))}</th>` +
        row.map((v, j) => `<td class="${i === j ? "diag" : ""}">${v}</td>`).join("") + "</tr>";
    });
    html += "</table>";
  }
  box.innerHTML = html;
}
function pct(v) { return `${(100 * v).toFixed(1)}%`; }
function drawCurve() {
  const cv = $("curve"), ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  const h = pg.history;
  if (h.length < 2) return;
  let top = 1e-9;
  for (const [, a, b] of h) top = Math.max(top, a ?? 0, b ?? 0);
  for (const [k, color] of [[2, "#777"], [1, "#111"]]) {
    ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.beginPath();
    h.forEach((row, i) => {
      if (row[k] === null) return;
      const x = i / (h.length - 1) * cv.width, y = cv.height - row[k] / top * (cv.height - 4) - 2;
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
  }
}

// --- the lecture panels ---------------------------------------------------------------
function showLecture(p) {
  const box = $("lecture");
  if (!p) {
    if (!pg.step) box.hidden = true;
    $("truth").innerHTML = "";
    $("certificate").hidden = true;
    $("plot1d-panel").hidden = true;
    return;
  }
  box.hidden = false;
  $("lecture-title").textContent = `${p.lecture}: ${p.title}`;
  $("lecture-notes").innerHTML = p.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("");
  if (!p.truth) $("truth").innerHTML = "";
  $("certificate").hidden = p.panel !== "xor1";
  $("plot1d-panel").hidden = !["approx", "extrapolation"].includes(p.panel);
  $("approx-ctl").hidden = p.panel !== "approx";
  $("stepmode-panel").hidden = p.panel !== "stepmode" && !pg.step;
}
function drawTruth(rows) {
  let html = `<table class="truth"><caption>Truth table, computed by mlplab from the weights now</caption>` +
    "<tr><th>x₁</th><th>x₂</th><th>arithmetic, layer by layer</th><th>output</th><th>wanted</th><th></th></tr>";
  for (const r of rows) {
    const arith = r.steps.map((layer) => layer.join("; ")).join("  →  ");
    const out = r.output > 0.5 ? 1 : 0;
    const ok = out === r.label;
    html += `<tr><td>${fmt(r.x[0], 3)}</td><td>${fmt(r.x[1], 3)}</td><td class="arith">${escapeHtml(arith)}</td>` +
      `<td>${fmt(r.output, 4)}</td><td>${r.label}</td><td class="${ok ? "ok" : "bad"}">${ok ? "✓" : "✗"}</td></tr>`;
  }
  $("truth").innerHTML = html + "</table>";
}
function showCertificate(m) {
  const pre = $("certificate");
  pre.textContent = `${m.title}\n${m.lines.join("\n")}`;
  pre.hidden = false;
  $("lecture").hidden = false;
}
function showPlot1d(m) {
  const first = $("plot1d-panel").hidden;
  $("lecture").hidden = false;
  $("plot1d-panel").hidden = false;
  if (first) $("lecture").scrollIntoView({ behavior: "smooth", block: "start" });
  if (m.id === "approx") { $("approx-ctl").hidden = false; }
  const cv = $("plot1d"), ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  const xs = m.x;
  let lo = Infinity, hi = -Infinity;
  for (const s of m.series) for (const v of s.y) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (m.ylim) [lo, hi] = m.ylim;
  const pad = 0.05 * (hi - lo || 1);
  lo -= pad; hi += pad;
  const X = (x) => 40 + (x - xs[0]) / (xs[xs.length - 1] - xs[0]) * (cv.width - 50);
  const Y = (y) => cv.height - 20 - (y - lo) / (hi - lo) * (cv.height - 30);
  ctx.strokeStyle = "#bbb"; ctx.lineWidth = 1; ctx.beginPath();
  ctx.moveTo(40, Y(0)); ctx.lineTo(cv.width - 10, Y(0)); ctx.stroke();
  ctx.fillStyle = "#555"; ctx.font = "11px sans-serif";
  ctx.fillText(fmt(hi, 3), 2, 12); ctx.fillText(fmt(lo, 3), 2, cv.height - 22);
  ctx.fillText(fmt(xs[0], 3), 40, cv.height - 5);
  ctx.fillText(fmt(xs[xs.length - 1], 3), cv.width - 40, cv.height - 5);
  for (const s of m.series) {
    ctx.strokeStyle = s.color; ctx.lineWidth = 2; ctx.beginPath();
    s.y.forEach((v, i) => { const x = X(xs[i]), y = Y(Math.max(lo, Math.min(hi, v))); if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
    ctx.stroke();
  }
  for (const [px, py] of m.points || []) {
    ctx.fillStyle = "#000"; ctx.beginPath(); ctx.arc(X(px), Y(py), 4, 0, 2 * Math.PI); ctx.fill();
  }
  $("plot1d-legend").innerHTML = `<b>${escapeHtml(m.title)}</b><br>` + m.series.map((s) =>
    `<span class="key" style="background:${s.color}"></span>${escapeHtml(s.name)}`).join(" &nbsp; ");
  $("plot1d-lines").innerHTML = m.lines.map((l) => `<li>${escapeHtml(l)}</li>`).join("");
  if (m.eps !== undefined) $("plot1d-lines").dataset.eps = m.eps;
}
function showStepMode(m) {
  pg.step = m;
  $("lecture").hidden = false;
  $("stepmode-panel").hidden = false;
  $("step-index").value = m.index;
  renderStage();
}
function renderStage() {
  const m = pg.step;
  if (!m) return;
  const stage = pg.stage;
  const names = pg.state.features.map((f) => f[1]);
  let html = `<div>Training point #${m.index} at (${fmt(m.point[0], 3)}, ${fmt(m.point[1], 3)}), ` +
    `inputs ${names.map((n, i) => `${n} = ${fmt(m.input[i], 4)}`).join(", ")}, target ${m.target.map((t) => fmt(t, 4)).join(", ")}; ` +
    `loss (${m.loss_name}) = ${fmt(m.loss, 6)}; lr = ${m.lr}</div>`;
  const title = { forward: "Forward: every neuron's z = b + w·x and a = σ(z)",
    delta: "Backward: the blame δ = ∂L/∂z of every neuron", update: "Updates −lr·∂L/∂θ (added when you apply)" }[stage];
  html += `<h3>${title}</h3><table class="stage"><tr><th>layer</th><th>neuron</th>`;
  html += stage === "forward" ? "<th>z</th><th>a</th>" : stage === "delta" ? "<th>δ</th>" : "<th>Δb</th><th>Δw (one per input)</th>";
  html += "</tr>";
  m.layers.forEach((L, l) => {
    L.z.forEach((_, j) => {
      const layerName = l === m.layers.length - 1 ? "output" : `hidden ${l + 1}`;
      html += `<tr><td>${layerName}</td><td>${j + 1}</td>`;
      if (stage === "forward") html += `<td>${fmt(L.z[j], 6)}</td><td>${fmt(L.a[j], 6)}</td>`;
      else if (stage === "delta") {
        const d = L.delta[j];
        const c = rgb(diverging(0.5 + Math.max(-0.5, Math.min(0.5, d * 2))));
        html += `<td class="delta" data-layer="${l}" data-neuron="${j}" data-value="${d}" style="background:${c}">${fmt(d, 6)}</td>`;
      } else {
        html += `<td>${fmt(L.update_b[j], 5)}</td><td>${L.update_W[j].map((v) => fmt(v, 5)).join(", ")}</td>`;
      }
      html += "</tr>";
    });
  });
  $("stepmode").innerHTML = html + "</table>";
  for (const id of ["forward", "delta", "update"]) $(`stage-${id}`).classList.toggle("selected", id === stage);
  pg.stepOverlay = true;
  drawLinks();
}
function drawStepOverlay(ctx) {
  const m = pg.step;
  if (!m || !pg.layout || m.layers.length !== pg.state.sizes.length - 1) return;
  ctx.font = "bold 11px sans-serif";
  m.layers.forEach((L, l) => {
    const vals = pg.stage === "forward" ? L.a : pg.stage === "delta" ? L.delta : L.update_b;
    vals.forEach((v, j) => {
      const node = pg.layout.nodes[l + 1][j];
      if (!node) return;
      ctx.fillStyle = pg.stage === "delta" ? rgb(v >= 0 ? BLUE : ORANGE) : "#222";
      ctx.fillText(fmt(v, 3), node.x + pg.layout.box + 4, node.y + pg.layout.box / 2 + 4);
    });
  });
}

// --- files -----------------------------------------------------------------------------
function saveFile(m) {
  const bytes = Uint8Array.from(atob(m.base64), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: m.mime }));
  const a = document.createElement("a");
  a.href = url; a.download = m.name;
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}
function uploadCsv(file) {
  if (file.size > 20 * 1024 * 1024) {
    showBanner(`${file.name} is ${(file.size / 2 ** 20).toFixed(1)} MB; the playground takes CSV files up to 20 MB.`, "error");
    return;
  }
  const reader = new FileReader();
  reader.onload = () => send({ cmd: "upload_csv", name: file.name, text: reader.result });
  reader.onerror = () => showBanner(`cannot read ${file.name}.`, "error");
  reader.readAsText(file);
}

// --- URL state ------------------------------------------------------------------------
function writeUrl() {
  if (!pg.started) return;
  const s = pg.state.settings;
  const q = new URLSearchParams();
  for (const k of URL_KEYS) {
    if (s.dataset === "custom" && k === "dataset") continue;
    q.set(k, Array.isArray(s[k]) ? s[k].join(",") : String(s[k]));
  }
  if (pg.state.preset) q.set("preset", pg.state.preset.name);
  else if (s.dataset === "custom" && pg.data && pg.data.train.length + pg.data.test.length <= 500) {
    const rows = [...pg.data.train, ...pg.data.test];
    q.set("points", rows.map((r) => r.map((v) => +v.toFixed(3)).join(",")).join(";"));
    q.set("kind", pg.state.problem.kind);
  }
  if (pg.hidden.length) q.set("hide", pg.hidden.join(","));
  if ($("share-weights").checked && pg.blocks) q.set("weights", weightsText());
  history.replaceState(null, "", `#${q.toString()}`);
}
function weightsText() {
  const sizes = pg.state.sizes, out = [];
  for (let l = 0; l < sizes.length - 1; l++) {
    const { b, W } = weightsOf(l);
    out.push([...b, ...W].map((v) => +v.toPrecision(7)).join(","));
  }
  return out.join(";");
}
function parseWeights(text) {
  const sizes = pg.state.sizes;
  return text.split(";").map((part, l) => {
    const v = part.split(",").map(Number);
    const dout = sizes[l + 1], din = sizes[l];
    const b = v.slice(0, dout), W = [];
    for (let r = 0; r < dout; r++) W.push(v.slice(dout + r * din, dout + (r + 1) * din));
    return [b, W];
  });
}
function sameShapes(params) {
  const sizes = pg.state.sizes;
  return params.length === sizes.length - 1 && params.every(([b, W], l) =>
    b.length === sizes[l + 1] && W.length === sizes[l + 1] && W.every((r) => r.length === sizes[l]));
}
function applyUrlAfterConnect() {
  const q = new URLSearchParams(location.hash.slice(1));
  pg.hidden = (q.get("hide") || "").split(",").filter(Boolean);
  for (const el of document.querySelectorAll("[data-ctl]")) el.hidden = pg.hidden.includes(el.dataset.ctl);
  if (q.get("preset")) send({ cmd: "preset", name: q.get("preset") });
  else if (q.get("points")) {
    const points = q.get("points").split(";").map((r) => r.split(",").map(Number));
    send({ cmd: "set_data", points, kind: q.get("kind") || "binary" });
  }
  const set = {};
  for (const k of URL_KEYS) {
    if (!q.has(k)) continue;
    const v = q.get(k);
    if (["layers", "activations", "features"].includes(k)) {
      const parts = v === "" ? [] : v.split(",");
      set[k] = k === "layers" ? parts.map(Number) : parts;
    } else if (["dataset", "optimizer", "init", "output_activation", "regularization", "backend"].includes(k)) set[k] = v;
    else set[k] = Number(v);
  }
  if (q.get("preset")) delete set.dataset;
  if (Object.keys(set).length) setConfig(set);
  if (q.get("weights")) {
    $("share-weights").checked = true;
    pg.pendingWeightsText = q.get("weights");
  }
  pg.started = true;
  if (pg.pendingWeightsText) {
    // the config above rebuilds the network; the weights follow once its shapes are known
    const text = pg.pendingWeightsText;
    pg.pendingWeightsText = null;
    setTimeout(() => {
      try {
        const params = parseWeights(text);
        if (params.every(([b, W]) => b.every(Number.isFinite) && W.flat().every(Number.isFinite))) {
          if (sameShapes(params)) send({ cmd: "set_params", params });
          else pg.pendingWeights = params;
        } else showBanner("the link's weights are not all numbers; they were ignored.", "error");
      } catch (err) { showBanner("the link's weights could not be read; they were ignored.", "error"); }
    }, 300);
  }
}

// --- controls -> commands ---------------------------------------------------------------
function setupControls() {
  for (const a of ACTIVATIONS) $("activation").add(new Option(a, a));
  $("activation").add(new Option("(per layer)", ""));
  const ds = $("datasets");
  for (const [name, label] of DATASETS) {
    const b = document.createElement("button");
    b.dataset.name = name; b.textContent = label; b.title = label;
    b.onclick = () => setConfig({ dataset: name });
    ds.appendChild(b);
  }
  $("play").onclick = () => send({ cmd: pg.playing ? "pause" : "play" });
  $("step").onclick = () => send({ cmd: "step" });
  $("reset").onclick = () => send({ cmd: "reset" });
  $("regenerate").onclick = () => send({ cmd: "regenerate" });
  $("lr").onchange = () => setConfig({ lr: Number($("lr").value) });
  $("reg_rate").onchange = () => setConfig({ reg_rate: Number($("reg_rate").value) });
  for (const id of ["regularization", "optimizer", "init", "backend"]) {
    $(id).onchange = () => setConfig({ [id]: $(id).value });
  }
  $("activation").onchange = () => {
    if (!$("activation").value) return;
    setConfig({ activations: pg.state.settings.layers.map(() => $("activation").value) });
  };
  for (const k of ["ratio", "noise", "batch"]) {
    $(k).oninput = () => { $(`${k}-val`).textContent = k === "ratio" ? `${$(k).value}%` : $(k).value; };
    $(k).onchange = () => setConfig({ [k]: Number($(k).value) });
  }
  $("stop_epoch").onchange = () => setConfig({ stop_epoch: Math.max(0, Math.round(Number($("stop_epoch").value) || 0)) });
  $("stop_loss").onchange = () => setConfig({ stop_loss: Math.max(0, Number($("stop_loss").value) || 0) });
  $("add-layer").onclick = () => {
    const s = pg.state.settings;
    if (s.layers.length >= pg.state.limits.layers) { showBanner(`at most ${pg.state.limits.layers} hidden layers.`, "error"); return; }
    setConfig({ layers: [...s.layers, 2], activations: [...s.activations, s.activations[s.activations.length - 1] || "tanh"] });
  };
  $("remove-layer").onclick = () => {
    const s = pg.state.settings;
    if (!s.layers.length) return;
    setConfig({ layers: s.layers.slice(0, -1), activations: s.activations.slice(0, -1) });
  };
  $("preset").onchange = () => { if ($("preset").value) send({ cmd: "preset", name: $("preset").value }); };
  $("upload").onchange = () => { if ($("upload").files[0]) uploadCsv($("upload").files[0]); $("upload").value = ""; };
  $("dl-data").onclick = () => send({ cmd: "download", what: "data" });
  $("dl-model").onclick = () => send({ cmd: "download", what: "model" });
  $("dl-torch").onclick = () => send({ cmd: "download", what: "torch" });
  $("dl-equinox").onclick = () => send({ cmd: "download", what: "equinox" });
  $("show-test").onchange = drawPoints;
  $("discretize").onchange = () => pg.blocks && drawHeat();
  $("share-weights").onchange = writeUrl;
  $("copy-link").onclick = () => {
    writeUrl();
    navigator.clipboard?.writeText(location.href).then(
      () => showBanner("link copied: it holds every setting shown (and the weights if ticked).", "info"),
      () => showBanner(`copy this link: ${location.href}`, "info"));
  };
  $("banner-close").onclick = () => { $("banner").hidden = true; };
  $("stepmode-open").onclick = () => send({ cmd: "step_detail", index: Number($("step-index").value) || 0 });
  $("stage-forward").onclick = () => { pg.stage = "forward"; renderStage(); };
  $("stage-delta").onclick = () => { pg.stage = "delta"; renderStage(); };
  $("stage-update").onclick = () => { pg.stage = "update"; renderStage(); };
  $("stage-apply").onclick = () => {
    send({ cmd: "step_apply" });
    pg.stage = "forward";
    send({ cmd: "step_detail", index: Number($("step-index").value) || 0 });
  };
  $("step-index").onchange = () => send({ cmd: "step_detail", index: Math.max(0, Number($("step-index").value) || 0) });
  let approxTimer = null;
  const approx = () => {
    $("approx-n-val").textContent = $("approx-n").value;
    clearTimeout(approxTimer);
    approxTimer = setTimeout(() => send({ cmd: "approx", target: $("approx-target").value, n: Number($("approx-n").value) }), 120);
  };
  $("approx-n").oninput = approx;
  $("approx-target").onchange = approx;
  window.addEventListener("resize", () => pg.state && buildNetwork());
}

setupControls();
setupNetworkMouse();
setupHeatMouse();
connect();
