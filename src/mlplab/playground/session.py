"""One browser tab: its settings, data, model and training task.

A :class:`Session` gets validated commands, changes its state, and talks back
through two callbacks: ``emit(message_dict)`` for JSON messages and
``emit_frame(bytes)`` for frames (the server keeps only the newest unsent
one). Training runs ``mlplab.fit`` one epoch at a time in a worker thread, so
the server keeps answering while a tab trains; closing the tab cancels it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

import mlplab as ml

from . import data as pdata
from . import explain, exporting, presets
from .frames import FrameMaker, Problem, loss_name, targets
from .protocol import MAX_LAYERS, MAX_NEURONS, CommandError, Message, parse_command

if TYPE_CHECKING:
    from mlplab.nn.mlp import Params
    from mlplab.nn.optim import Optimizer, OptState, Tree

log = logging.getLogger("mlplab.playground")

# a tab's settings: the protocol's CONFIG_FIELDS, checked there
DEFAULTS: dict[str, Any] = {
    "dataset": "circle",
    "noise": 0,
    "ratio": 50,
    "batch": 10,
    "lr": 0.03,
    "optimizer": "sgd",
    "init": "auto",
    "layers": [4, 2],
    "activations": ["tanh", "tanh"],
    "output_activation": "identity",
    "features": ["x1", "x2"],
    "regularization": "none",
    "reg_rate": 0.0,
    "seed": 0,
    "backend": "numpy",
    "stop_epoch": 0,
    "stop_loss": 0.0,
}
# settings that keep the model and its training state when they change
LIVE = {"lr", "batch", "stop_epoch", "stop_loss", "regularization", "reg_rate"}
MAX_SHOWN = 1e30  # a weight beyond this counts as diverged (the page gets float32 weights)
HEAVISIDE: dict[str, Any] = {"name": "heaviside", "surrogate": "sigmoid", "slope": 4.0}


@dataclass(frozen=True)
class L1Penalty:
    """An optimizer that adds the L1 penalty's gradient ``rate · sign(W)`` before stepping."""

    inner: ml.SGD | ml.Adam
    rate: float

    @property
    def name(self) -> str:
        return self.inner.name

    def init(self, params: Params) -> OptState:
        return self.inner.init(params)

    def update(
        self, params: Params, grads: Params, state: OptState, lr: float, t: int
    ) -> tuple[Tree, OptState]:
        from ._engine import namespace

        grads = [
            (gb, gW + self.rate * namespace(W).sign(W))
            for (gb, gW), (_, W) in zip(grads, params, strict=True)
        ]
        return self.inner.update(params, grads, state, lr, t)


def activation_spec(name: str) -> str | ml.Activation:
    """A layer's activation as mlplab takes it (Heaviside trains with a sigmoid surrogate)."""
    return ml.get_activation(HEAVISIDE) if name == "heaviside" else name


class Session:
    """The state of one tab; ``await handle(raw_message)`` for each message it sends."""

    training = 0  # training tasks running now, all tabs together (a closed tab stops its own)

    # set by _load_data, _build_model and _frames (run by __init__)
    problem: Problem
    points: pdata.Points
    labels: pdata.Labels
    train_idx: NDArray[np.int64]
    test_idx: NDArray[np.int64]
    model: ml.MLP
    state: ml.TrainState | None
    epoch: int
    maker: FrameMaker
    ys: dict[str, pdata.Labels]
    X_train: NDArray[np.float64]

    def __init__(
        self,
        emit: Callable[[Message], None],
        emit_frame: Callable[[bytes], None],
        backend: str = "numpy",
        device: Any = None,
    ):
        self.emit, self.emit_frame = emit, emit_frame
        self.device = device  # torch / jax: "cuda", "cuda:0", … (NumPy: the CPU)
        self.settings = dict(DEFAULTS, backend=backend)
        self.view: tuple[float, float] = (-pdata.DOMAIN, pdata.DOMAIN)
        # (points, labels, problem) of uploaded or edited data
        self.custom: tuple[pdata.Points, pdata.Labels, Problem] | None = None
        # the preset's notes, while its setting is unchanged
        self.preset: presets.PresetInfo | None = None
        self.playing = False
        self.task: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()
        # the server says whether its slot is free
        self.frame_wanted: Callable[[], bool] = lambda: True
        self.on_ack: Callable[[], None] = lambda: None  # the page drew a frame
        self.step_cache: list[Any] | None = None  # the gradients step_detail showed
        self._load_data()
        self._build_model()

    # --- data and model ---------------------------------------------------------

    def _load_data(self) -> None:
        s = self.settings
        if s["dataset"] == "custom":
            if self.custom is None:
                raise CommandError("there is no uploaded data yet; upload a CSV first.")
            points, labels, self.problem = self.custom
        else:
            points, labels = pdata.generate(s["dataset"], s["noise"] / 100, s["seed"])
            kind = pdata.DATASETS[s["dataset"]][0]
            k = 3 if kind == "multiclass" else 2
            kind = "binary" if kind == "classification" else kind
            self.problem = Problem(kind, k, tuple(range(k)))
        self.points, self.labels = points, labels
        self.train_idx, self.test_idx = pdata.split(len(points), s["ratio"] / 100, s["seed"])

    def _device(self) -> Any:
        """The device asked for (``--device``), for the torch and jax backends."""
        return None if self.settings["backend"] == "numpy" else self.device

    def _build_model(self, params: Params | None = None) -> None:
        s = self.settings
        acts = [activation_spec(a) for a in s["activations"]]
        out_act = activation_spec(s["output_activation"])
        kw: dict[str, Any] = {"backend": s["backend"], "dtype": "float64", "device": self._device()}
        if params is None:
            sizes = (len(s["features"]), s["layers"], self.problem.n_outputs)
            self.model = ml.MLP(*sizes, activation=acts, output_activation=out_act, init=s["init"],
                                seed=s["seed"], **kw)  # fmt: skip
        else:
            self.model = ml.MLP.from_params(params, [*acts, out_act], **kw)
        self.state = None
        self.epoch = 0
        self.step_cache = None
        self._frames()

    def _frames(self) -> None:
        tr, te = self.points[self.train_idx], self.points[self.test_idx]
        self.maker = FrameMaker(self.settings["features"], self.view, tr, te)
        self.ys = {"train": self.labels[self.train_idx], "test": self.labels[self.test_idx]}
        self.X_train = self.maker.inputs[self.maker.slices["train"]]

    @property
    def loss(self) -> str:
        return loss_name(self.problem, self.settings["output_activation"])

    def optimizer(self) -> Optimizer:
        s = self.settings
        base: dict[str, ml.SGD | ml.Adam] = {
            "sgd": ml.SGD(),
            "momentum": ml.SGD(momentum=0.9),
            "adam": ml.Adam(),
        }
        opt = base[s["optimizer"]]
        if s["regularization"] == "l1" and s["reg_rate"] > 0:
            return L1Penalty(opt, s["reg_rate"])
        return opt

    # --- messages out ------------------------------------------------------------

    def state_message(self) -> Message:
        s = self.settings
        return {
            "type": "state",
            "settings": s,
            "sizes": self.model.sizes,
            "activations": [a.name for a in self.model.activations],
            "features": [[n, pdata.FEATURES[n][0]] for n in s["features"]],
            "problem": {"kind": self.problem.kind, "classes": list(self.problem.classes)},
            "loss": self.loss,
            "view": list(self.view),
            "playing": self.playing,
            "epoch": self.epoch,
            "backends": ml.available_backends(),
            "presets": presets.catalogue(),
            "preset": self.preset,
            "limits": {"layers": MAX_LAYERS, "neurons": MAX_NEURONS},
        }

    def data_message(self) -> Message:
        def rows(idx: NDArray[np.int64]) -> list[list[float]]:
            table = np.column_stack([self.points[idx], self.labels[idx]]).round(4)
            out: list[list[float]] = table.tolist()
            return out

        return {"type": "data", "train": rows(self.train_idx), "test": rows(self.test_idx)}

    def frame(self) -> tuple[bytes, dict[str, Any]]:
        info: dict[str, Any] = {"epoch": self.epoch, "step": self.state.step if self.state else 0}
        if self.preset and self.preset.get("truth"):
            info["truth"] = explain.truth_table(self)
        return self.maker.make(
            self.model, self.problem, self.settings["output_activation"], self.ys, info
        )

    def announce(self, data: bool = True) -> None:
        """Send the whole picture: state, data (if it changed) and a frame."""
        self.emit(self.state_message())
        if data:
            self.emit(self.data_message())
        self.emit_frame(self.frame()[0])

    # --- commands ----------------------------------------------------------------

    async def handle(self, raw: str | bytes | None) -> None:
        """Run one client message; errors go back to the page, never up."""
        try:
            cmd = parse_command(raw)
            if cmd["cmd"] == "ack":
                self.on_ack()
                return
            await getattr(self, "cmd_" + cmd.pop("cmd"))(**cmd)
        except ml.MLPLabError as err:
            self.emit({"type": "error", "message": str(err)})
        except MemoryError:
            self.emit({"type": "error", "message": "out of memory: use a smaller network."})
        except asyncio.CancelledError:
            raise
        except Exception as err:  # a bug of ours: report it in the page, keep serving
            log.exception("playground command failed")
            self.emit({"type": "error", "message": f"internal error: {type(err).__name__}: {err}"})

    async def cmd_config(self, set: dict[str, Any]) -> None:  # noqa: A002 (the protocol's field name)
        async with self.lock:
            new = {**self.settings, **set}
            if "layers" in set and "activations" not in set:
                last = (self.settings["activations"] or ["tanh"])[-1]
                acts = self.settings["activations"] + [last] * len(new["layers"])
                new["activations"] = acts[: len(new["layers"])]
            if len(new["activations"]) != len(new["layers"]):
                raise CommandError(
                    f"`activations` lists {len(new['activations'])} activations for "
                    f"{len(new['layers'])} hidden layers; give one per hidden layer."
                )
            changed = {k for k in set if set[k] != self.settings[k]}
            old = self.settings
            self.settings = new
            try:
                self._apply(changed)
            except BaseException:
                self.settings = old
                raise
            if changed & {"dataset", "noise", "ratio", "seed"}:
                self.preset = None  # a gate preset's truth table lives while its data does
        self.announce(data=bool(changed & {"dataset", "noise", "ratio", "seed"}))

    def _apply(self, changed: set[str]) -> None:
        if changed & {"dataset", "noise", "ratio", "seed"}:
            if changed & {"dataset", "noise"} or self.settings["dataset"] != "custom":
                self.view = (-pdata.DOMAIN, pdata.DOMAIN)
            self._load_data()
        if changed == {"backend"}:  # same weights on another backend
            self.model = self.model.to(self.settings["backend"], "float64", self._device())
            self.state = None
        elif changed - LIVE:
            self._build_model()
        # L1 / L2 and their rate are LIVE: the optimizer state stays valid, only the
        # gradient changes, so training carries on from where it is
        if changed & {"dataset", "noise", "ratio", "seed"} and "features" not in changed:
            self._frames()

    async def cmd_play(self) -> None:
        if not self.playing:
            self.playing = True
            self.task = asyncio.create_task(self._run())
        self.emit({"type": "playing", "playing": True})

    async def cmd_pause(self) -> None:
        await self.stop()
        self.emit_frame(self.frame()[0])

    async def stop(self) -> None:
        """Pause training and wait for its task to end (also when the tab closes).

        The task is not cancelled: its epoch runs in a worker thread that a
        cancellation would not stop, so it is asked to stop after the epoch and
        awaited; nothing else touches the model meanwhile.
        """
        self.playing = False
        task, self.task = self.task, None
        if task is not None and task is not asyncio.current_task():
            await task
        self.emit({"type": "playing", "playing": False})

    async def cmd_step(self) -> None:
        await self.stop()
        async with self.lock:
            await asyncio.to_thread(self._epoch)
        self.emit_frame(self.frame()[0])

    async def cmd_reset(self) -> None:
        await self.stop()
        async with self.lock:
            self._build_model()
        self.emit({"type": "reset"})
        self.announce(data=False)

    async def cmd_regenerate(self) -> None:
        seed = (self.settings["seed"] + 1) % 2**31
        await self.cmd_config({"seed": seed})

    # --- training ----------------------------------------------------------------

    def _epoch(self) -> bool:
        """Train one epoch; ``True`` when training diverged (the model keeps finite weights)."""
        s = self.settings
        y = targets(self.problem, self.ys["train"], self.loss)
        l2 = s["reg_rate"] if s["regularization"] == "l2" else 0.0
        before = ([(b.copy(), W.copy()) for b, W in self.model.numpy_params()], self.state)
        try:
            with np.errstate(all="ignore"):
                history = ml.fit(self.model, self.X_train, y, loss=self.loss,
                                 optimizer=self.optimizer(), lr=s["lr"], epochs=1,
                                 batch_size=s["batch"], seed=s["seed"], l2=l2, state=self.state,
                                 verbose=0)  # fmt: skip
        except ml.TrainingDiverged as err:
            self._restore(*before)
            self.emit({"type": "error", "message": f"{err} Training is paused."})
            return True
        if not all(
            np.all(np.abs(p) < MAX_SHOWN) for b, W in self.model.numpy_params() for p in (b, W)
        ):
            self._restore(*before)
            self.emit({"type": "error", "message": (
                f"training diverged: a weight grew past {MAX_SHOWN:g} in epoch {self.epoch + 1}. "
                f"Training is paused with the weights from before that epoch; try a smaller "
                f"learning rate, e.g. {s['lr'] / 10:g}.")})  # fmt: skip
            return True
        assert history.state is not None  # fit always ends with its state
        self.state = history.state
        self.epoch = self.state.epoch
        self.step_cache = None
        return False

    def _restore(self, params: Params, state: ml.TrainState | None) -> None:
        acts = self.model.activations
        self.model = ml.MLP.from_params(params, acts, backend=self.settings["backend"],
                                        dtype="float64", device=self._device())  # fmt: skip
        self.state = state

    def _train_tick(self) -> str | None:
        """One epoch and, if the page is ready for one, a frame; why to stop, if so."""
        if self._epoch():
            return "diverged"
        s = self.settings
        if s["stop_loss"] > 0 or self.frame_wanted():
            frame, stats = self.frame()
            self.emit_frame(frame)
            loss = stats.get("loss_test") if stats.get("loss_test") is not None else None
            loss = stats.get("loss_train") if loss is None else loss
            if s["stop_loss"] > 0 and loss is not None and loss <= s["stop_loss"]:
                return f"stopped: the loss {loss:.4g} reached the target {s['stop_loss']:g}."
        if s["stop_epoch"] and self.epoch >= s["stop_epoch"]:
            return f"stopped: epoch {self.epoch} reached the stopping epoch {s['stop_epoch']}."
        return None

    async def _run(self) -> None:
        reason: str | None = None
        Session.training += 1
        try:
            while self.playing:
                async with self.lock:
                    reason = await asyncio.to_thread(self._train_tick)
                if reason:
                    break
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except ml.MLPLabError as err:
            self.emit({"type": "error", "message": str(err)})
        except Exception as err:
            log.exception("training failed")
            self.emit({"type": "error", "message": f"internal error: {type(err).__name__}: {err}"})
        finally:
            Session.training -= 1
        self.playing = False
        self.task = None
        self.emit({"type": "playing", "playing": False})
        if reason and reason != "diverged":
            self.emit({"type": "info", "message": reason})
        self.emit_frame(self.frame()[0])

    # --- editing -----------------------------------------------------------------

    async def cmd_set_weight(self, layer: int, row: int, col: int, value: float) -> None:
        async with self.lock:
            params = self.model.numpy_params()
            if layer >= len(params):
                raise CommandError(f"`layer` must be below {len(params)}; got {layer}.")
            b, W = (p.copy() for p in params[layer])
            if row >= W.shape[0] or col >= W.shape[1]:
                raise CommandError(
                    f"layer {layer} has {W.shape[0]} neurons with {W.shape[1]} inputs; "
                    f"there is no row {row}, column {col}."
                )
            if col < 0:
                b[row] = value
            else:
                W[row, col] = value
            params[layer] = (b, W)
            self._set_params(params)
        self.emit_frame(self.frame()[0])

    async def cmd_set_params(self, params: list[tuple[list[float], list[list[float]]]]) -> None:
        async with self.lock:
            arrays = [(np.array(b, float), np.array(W, float)) for b, W in params]
            shapes = [(b.shape, W.shape) for b, W in arrays]
            want = [((o,), (o, i)) for (o,), (o, i) in self.model.shapes]
            if shapes != want:
                raise CommandError(
                    f"the weights given have shapes {shapes} but the network needs {want}."
                )
            self._set_params(arrays)
        self.emit_frame(self.frame()[0])

    def _set_params(self, params: Params) -> None:
        acts = self.model.activations
        self.model = ml.MLP.from_params(
            params, acts, backend=self.settings["backend"], dtype="float64", device=self._device()
        )
        self.state = None if self.state is None else ml.TrainState(
            self.optimizer().init(self.model.params), self.state.step, self.state.epoch
        )  # fmt: skip
        self.step_cache = None

    async def cmd_add_point(self, x1: float, x2: float, label: float) -> None:
        async with self.lock:
            label = self._check_label(label)
            if len(self.points) >= exporting.MAX_POINTS:
                most = exporting.MAX_POINTS
                raise CommandError(f"the playground holds at most {most:,} points; remove some.")
            points = np.concatenate([self.points, [[x1, x2]]])
            labels = np.concatenate([self.labels, [label]]).astype(self.labels.dtype)
            train = np.concatenate([self.train_idx, [len(self.points)]])
            self._replace_data(points, labels, train, self.test_idx)
        self.announce()

    async def cmd_set_data(self, points: list[tuple[float, float, float]], kind: str) -> None:
        """Points from a shared link: ``[(x1, x2, label)]``, classes 0…k−1 or values."""
        arr = np.array(points, dtype=np.float64)
        labels = arr[:, 2]
        if kind == "regression":
            if np.abs(labels).max() > 1:
                raise CommandError("a regression link's values must lie in [-1, 1].")
            problem = Problem("regression", 1, ())
        else:
            if not np.all(labels == np.round(labels)) or labels.min() < 0:
                raise CommandError("class labels must be whole numbers from 0 to 7.")
            labels = labels.astype(np.int64)
            k = max(2 if kind == "binary" else 3, int(labels.max()) + 1)
            if kind == "binary" and k > 2:
                raise CommandError("a binary link's labels must be 0 or 1.")
            problem = Problem(kind, k, tuple(range(k)))
        await self.stop()
        async with self.lock:
            old = (self.custom, self.settings["dataset"])
            self.custom = (arr[:, :2], labels, problem)
            self.settings["dataset"] = "custom"
            try:
                self._load_data()
                self._build_model()
            except BaseException:
                self.custom, self.settings["dataset"] = old
                self._load_data()
                raise
        self.announce()

    async def cmd_remove_point(self, x1: float, x2: float) -> None:
        async with self.lock:
            d = np.hypot(self.points[:, 0] - x1, self.points[:, 1] - x2)
            k = int(np.argmin(d)) if len(d) else -1
            radius = 0.04 * (self.view[1] - self.view[0])
            if k < 0 or d[k] > radius or len(self.points) <= 2:
                raise CommandError("no point there to remove (click on a point; 2 must remain).")
            keep = np.delete(np.arange(len(self.points)), k)
            remap = -np.ones(len(self.points), dtype=np.int64)
            remap[keep] = np.arange(len(keep))
            train, test = remap[self.train_idx], remap[self.test_idx]
            self._replace_data(self.points[keep], self.labels[keep], train[train >= 0],
                               test[test >= 0])  # fmt: skip
        self.announce()

    def _check_label(self, label: float) -> float:
        if self.problem.kind == "regression":
            if not -1 <= label <= 1:
                raise CommandError(f"a regression point's value must be in [-1, 1]; got {label}.")
            return float(label)
        if label != int(label) or not 0 <= label < self.problem.n_classes:
            raise CommandError(
                f"`label` must be a class from 0 to {self.problem.n_classes - 1}; got {label:g}."
            )
        return int(label)

    def _replace_data(
        self,
        points: pdata.Points,
        labels: pdata.Labels,
        train: NDArray[np.int64],
        test: NDArray[np.int64],
    ) -> None:
        self.custom = (points, labels, self.problem)
        self.settings["dataset"] = "custom"
        self.points, self.labels = points, labels
        self.train_idx, self.test_idx = train, test
        self._frames()

    # --- files, presets, lecture views ----------------------------------------

    async def cmd_upload_csv(self, name: str, text: str, target: str | None = None) -> None:
        async with self.lock:
            points, labels, problem, note = exporting.parse_upload(name, text, target)
            old = (self.custom, self.problem, self.settings["dataset"], self.view)
            self.custom = (points, labels, problem)
            self.settings["dataset"] = "custom"
            self.view = (-pdata.DOMAIN, pdata.DOMAIN)
            try:
                self._load_data()
                self._build_model()
            except BaseException:
                self.custom, self.problem, self.settings["dataset"], self.view = old
                self._load_data()
                raise
            self.preset = None
        self.emit({"type": "info", "message": note})
        self.announce()

    async def cmd_download(self, what: str) -> None:
        async with self.lock:
            file = exporting.download(self, what)
        self.emit({"type": "file", **file})

    async def cmd_preset(self, name: str) -> None:
        await self.stop()
        async with self.lock:
            presets.apply(self, name)
        self.emit({"type": "reset"})
        self.announce()
        async with self.lock:  # the 1-D views train an MLP: off the event loop
            messages = await asyncio.to_thread(presets.extras, self, name)
        for message in messages:
            self.emit(message)

    async def cmd_inspect(self, x1: float, x2: float, layer: int, neuron: int) -> None:
        async with self.lock:
            self.emit(explain.inspect(self, x1, x2, layer, neuron))

    async def cmd_step_detail(self, index: int = 0) -> None:
        await self.stop()
        async with self.lock:
            self.emit(explain.step_detail(self, index))

    async def cmd_step_apply(self) -> None:
        async with self.lock:
            explain.step_apply(self)
        self.emit_frame(self.frame()[0])

    async def cmd_approx(self, target: str, n: int) -> None:
        self.emit(await asyncio.to_thread(explain.approximation, target, n))
