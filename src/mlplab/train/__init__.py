"""Training, in phases: options → data → plan → steps → guard → end of epoch.

Start reading at :mod:`mlplab.train.step` (one step of gradient descent), then
:func:`mlplab.train.fit` (the loop around it).
"""

from .loop import fit
from .options import DEFAULT_LR, FitOptions
from .state import History, TrainState
from .step import make_step

__all__ = ["DEFAULT_LR", "FitOptions", "History", "TrainState", "fit", "make_step"]
