"""Interop command: ``mlplab export`` (a saved model to PyTorch, Equinox or ONNX).

A thin layer over :mod:`mlplab.export`; the frameworks are imported inside
the handler so ``mlplab --help`` stays fast.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .main import Subparsers

FORMATS = ("onnx", "torch", "equinox")
_SUFFIX = {"onnx": ".onnx", "torch": ".safetensors", "equinox": ".eqx"}


def register(sub: Subparsers) -> None:
    """Add the ``export`` subcommand."""
    p = sub.add_parser(
        "export",
        help="export a saved model to PyTorch, Equinox or ONNX",
        description=(
            "Export a saved model to PyTorch, Equinox or ONNX.\n\n"
            "torch:   a safetensors state_dict of a torch.nn.Sequential (Linear + activation\n"
            "         modules) with the architecture as JSON metadata; rebuild it with\n"
            "         mlplab.export.load_torch(PATH). No pickle.\n"
            "equinox: one JSON line, then eqx.tree_serialise_leaves of the Equinox module;\n"
            "         rebuild it with mlplab.export.load_equinox(PATH).\n"
            "onnx:    the graph written node by node (opset 21), runs in onnxruntime in\n"
            "         float32 and float64.\n\n"
            "A model trained by `mlplab train` carries its preprocessing: the export maps RAW\n"
            "feature rows to the outputs of `mlplab predict` (one-hot, imputation and\n"
            "standardisation inside; class probabilities and the label map, or values in\n"
            "target units). ONNX inputs: 'x' float64 (batch, numeric columns) and, with\n"
            "categorical columns, 'categories' string (batch, categorical columns); outputs\n"
            "'probabilities' and 'label', or 'prediction'. PyTorch / Equinox take one float64\n"
            "array (batch, columns), a categorical column as its category's index\n"
            "(module.encode(rows) builds it). --network-only exports the bare network\n"
            "(inputs already preprocessed; ONNX input 'x', output 'y')."
        ),
        epilog=(
            "Examples:\n"
            "  mlplab export model.safetensors --format onnx --out model.onnx\n"
            "  mlplab export model.safetensors --format torch --out model.torch.safetensors\n"
            "  mlplab export model.safetensors --format equinox --out model.eqx"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", metavar="MODEL", help="a model file saved by mlplab (.safetensors)")
    p.add_argument("--format", required=True, choices=FORMATS, help="the target format")
    p.add_argument(
        "--out",
        metavar="PATH",
        help="the file to write (default: MODEL with the suffix .onnx, .torch.safetensors or .eqx)",
    )
    p.add_argument(
        "--network-only",
        action="store_true",
        help="export the network alone, without the preprocessing and the reading of outputs",
    )
    p.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mlplab import export, files
    from mlplab.data import Preprocessor
    from mlplab.errors import ConfigError

    model, extra = files.load_model(args.model)
    out = args.out
    if out is None:
        src = Path(args.model)
        stem = src.name.removesuffix(".safetensors")
        suffix = ".torch.safetensors" if args.format == "torch" else _SUFFIX[args.format]
        out = str(src.with_name(stem + suffix))
    if Path(out).resolve() == Path(args.model).resolve():
        raise ConfigError(f"--out {out!r} is the model file itself; choose another path.")
    metadata = {"source": str(args.model), "model_metadata": extra}
    save = {"torch": export.save_torch, "equinox": export.save_equinox, "onnx": export.save_onnx}
    prep = None
    if "preprocessor" in extra and not args.network_only:
        prep = Preprocessor.from_dict(extra["preprocessor"])
    try:
        save[args.format](model, out, metadata=metadata, preprocessor=prep)
    except ImportError as err:
        extra_name = "jax" if args.format == "equinox" else "torch"
        raise ConfigError(
            f"--format {args.format} needs the package {err.name!r}, which is not installed: "
            f"pip install 'mlplab[{extra_name}]' (mlplab[onnx] for ONNX)."
        ) from None
    sizes = "-".join(str(s) for s in model.sizes)
    what = "network only" if prep is None else "raw rows -> predictions, with preprocessing"
    print(f"exported {args.model} (MLP {sizes}; {what}) as {args.format} to {out}")
    return 0
