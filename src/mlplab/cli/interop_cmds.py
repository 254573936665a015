"""Interop command: ``mlplab export`` (a saved model to PyTorch, Equinox or ONNX).

A thin layer over :mod:`mlplab.export`; the frameworks are imported inside
the handler so ``mlplab --help`` stays fast.
"""

from __future__ import annotations

import argparse

FORMATS = ("onnx", "torch", "equinox")
_SUFFIX = {"onnx": ".onnx", "torch": ".safetensors", "equinox": ".eqx"}


def register(sub) -> None:
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
            "onnx:    torch.onnx.export of the same network: input 'x' (batch, d_in),\n"
            "         output 'y' (batch, d_out), dynamic batch size.\n\n"
            "The exported network is the MLP itself: it expects inputs preprocessed the way\n"
            "the model was trained (e.g. standardised). The model file's metadata (its\n"
            "preprocessing and classes) is copied into the export's JSON header."
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
    p.set_defaults(func=run_export)


def run_export(args) -> int:
    from pathlib import Path

    from mlplab import export, files
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
    try:
        save[args.format](model, out, metadata=metadata)
    except ImportError as err:
        extra_name = "jax" if args.format == "equinox" else "torch"
        raise ConfigError(
            f"--format {args.format} needs the package {err.name!r}, which is not installed: "
            f"pip install 'mlplab[{extra_name}]' (and onnx onnxscript for ONNX)."
        ) from None
    sizes = "-".join(str(s) for s in model.sizes)
    print(f"exported {args.model} (MLP {sizes}) as {args.format} to {out}")
    return 0
