"""Files: the one atomic writer, the model format, checkpoints.

Every file mlplab writes goes through :mod:`~mlplab.files.atomic`; model files
and checkpoints are safetensors + JSON metadata (``docs/model-format.md``),
loaded without ever running code. Exports to PyTorch, Equinox and ONNX live in
:mod:`mlplab.export`.
"""

from .atomic import FileWriteError, atomic_write_bytes, atomic_write_text, atomic_writer
from .checkpoint import load_checkpoint, save_checkpoint
from .model import load_model, save_model

__all__ = [
    "FileWriteError",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_writer",
    "load_checkpoint",
    "load_model",
    "save_checkpoint",
    "save_model",
]
