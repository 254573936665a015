"""Tables larger than memory: a Parquet (or CSV) file read in pieces with pyarrow.

:class:`TableStream` never holds the file: a Parquet file is read one row
group at a time (``ParquetFile.iter_batches``), in a seeded order of row
groups, each rank of a data-parallel run reading only its own row groups; a
CSV is read block by block (``pyarrow.csv.open_csv``), in file order (a CSV
has no index to jump to a block), rank r keeping blocks r, r + N, ….
:func:`scan_preprocessor` computes the preprocessing (column means and
standard deviations, the class labels, the target's scale) in one streaming
pass, as the :class:`~mlplab.data.Preprocessor` that ``mlplab train`` saves
in the model file, so ``predict`` and ``evaluate`` work as for a CSV run.

Feature columns must be numeric; the target may be numbers or text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import ConfigError, DataError
from .preprocessing import Preprocessor

#: rows decoded at a time (one record batch); memory is about rows × columns × 8 bytes
READ_ROWS = 65536
#: CSV block size read by pyarrow (a "piece" of a CSV file)
CSV_BLOCK = 16 << 20


def is_streamed(path: str) -> bool:
    """Whether ``path`` is a file the streaming path reads (``.parquet`` / ``.pq``)."""
    return Path(path).suffix.lower() in (".parquet", ".pq")


class TableStream:
    """A Parquet or CSV file read in record batches: features `(n, d)` float64, raw targets."""

    def __init__(self, path: str, target: str | None):
        import pyarrow as pa

        self.path = str(path)
        if not Path(path).is_file():
            raise DataError(f"data file {self.path!r} does not exist.")
        self.parquet = Path(path).suffix.lower() != ".csv"
        try:
            schema = self._open().schema_arrow if self.parquet else self._csv_reader().schema
        except (pa.ArrowException, OSError) as err:
            raise DataError(f"cannot read {self.path!r} as {self.kind}: {err}") from None
        names = list(schema.names)
        if target is None or target not in names:
            what = (
                "needs its target column: pass --target COLUMN"
                if target is None
                else (f"has no column {target!r}")
            )
            raise ConfigError(f"{self.path!r} {what}. Its columns are: {', '.join(names)}.")
        self.target = target
        self.features = [n for n in names if n != target]
        bad = [n for n in self.features if not _numeric(schema.field(n).type)]
        if bad:
            raise DataError(
                f"streamed feature columns must be numbers; {', '.join(bad[:5])} of "
                f"{self.path!r} are not. Encode them as numbers first (one-hot needs the "
                "in-memory path: a CSV without streaming)."
            )
        if not self.features:
            raise DataError(f"{self.path!r} has no feature columns besides {target!r}.")

    @property
    def kind(self) -> str:
        return "Parquet" if self.parquet else "CSV"

    def _open(self):
        import pyarrow.parquet as pq

        return pq.ParquetFile(self.path)

    def _csv_reader(self):
        import pyarrow.csv as pcsv

        return pcsv.open_csv(self.path, read_options=pcsv.ReadOptions(block_size=CSV_BLOCK))

    # --- pieces: row groups (Parquet) or blocks (CSV) ---------------------------

    def piece_rows(self) -> list[int] | None:
        """Rows of each row group (Parquet, from the footer: no data read); None for a CSV."""
        if not self.parquet:
            return None
        meta = self._open().metadata
        return [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]

    def my_pieces(self, seed: int, epoch: int, rank: int = 0, world: int = 1, shuffle=True):
        """This rank's row groups of one epoch: a seeded order of all, every world-th one.

        ``None`` for a CSV (its blocks are read in order; :meth:`batches` keeps
        every world-th block).
        """
        rows = self.piece_rows()
        if rows is None:
            return None
        order = np.arange(len(rows))
        if shuffle:
            order = np.random.default_rng([seed, epoch, 1]).permutation(len(rows))
        return order[rank::world].tolist()

    def batches(self, pieces=None, rank: int = 0, world: int = 1) -> Iterator[tuple]:
        """``(X, y_raw)`` record batches of ``pieces`` (Parquet row groups) or of this rank's
        CSV blocks; ``X`` `(n, d)` float64, ``y_raw`` `(n,)` as stored."""
        import pyarrow as pa

        try:
            if self.parquet:
                columns = [*self.features, self.target]
                groups = pieces if pieces is not None else range(self._open().num_row_groups)
                pf = self._open()
                for g in groups:
                    for batch in pf.iter_batches(READ_ROWS, row_groups=[g], columns=columns):
                        yield self._arrays(batch)
            else:
                for k, batch in enumerate(self._csv_reader()):
                    if k % world == rank:
                        yield self._arrays(batch)
        except (pa.ArrowException, OSError) as err:
            raise DataError(f"cannot read {self.path!r} as {self.kind}: {err}") from None

    def _arrays(self, batch):
        X = np.empty((batch.num_rows, len(self.features)), dtype=np.float64)
        for j, name in enumerate(self.features):
            column = batch.column(name)
            if column.null_count:
                raise DataError(
                    f"column {name!r} of {self.path!r} has missing values; the streaming path "
                    "does not impute: fill or drop them first."
                )
            X[:, j] = column.to_numpy(zero_copy_only=False)
        y = batch.column(self.target)
        if y.null_count:
            raise DataError(f"the target {self.target!r} of {self.path!r} has missing values.")
        return X, y.to_numpy(zero_copy_only=False)


def _numeric(arrow_type) -> bool:
    import pyarrow.types as t

    return t.is_integer(arrow_type) or t.is_floating(arrow_type) or t.is_boolean(arrow_type)


def scan_preprocessor(stream: TableStream, task: str | None = None) -> Preprocessor:
    """One streaming pass: the :class:`Preprocessor` of the whole file.

    Column means and population standard deviations are accumulated per batch
    (Chan et al.'s pairwise update, float64: no cancellation of Σx² − n·μ²);
    classes are the sorted distinct target values; a regression target gets
    its mean and scale the same way.
    """
    feats, target, labels, n = _Moments(), _Moments(), set(), 0
    regression = None if task is None else task == "regression"
    for X, y in stream.batches():
        if not np.all(np.isfinite(X)):
            raise DataError(f"{stream.path!r} holds NaN or infinite feature values.")
        feats.add(X)
        n += len(X)
        if regression is None:
            regression = y.dtype.kind == "f" and not np.all(np.equal(np.mod(y, 1), 0))
        if regression:
            target.add(_numbers(y, stream).reshape(-1, 1))
        else:
            labels.update(np.unique(y).tolist())
    if n == 0:
        raise DataError(f"{stream.path!r} has no rows.")
    if not regression and len(labels) < 2:
        raise DataError(
            f"the target {stream.target!r} has {len(labels)} distinct value(s); "
            "a classifier needs at least 2 (or pass --task regression)."
        )
    classes = None if regression else sorted(labels)
    if classes is not None and len(classes) > 1000:
        raise DataError(
            f"the target {stream.target!r} has {len(classes)} distinct values: too many classes; "
            "pass --task regression for a numeric target."
        )
    return Preprocessor.from_dict(
        {
            "version": 1,
            "columns": list(stream.features),
            "categories": {},
            "feature_names": list(stream.features),
            "standardize": True,
            "impute": None,
            "fill_values": feats.mean.tolist(),
            "scaler": feats.scaler(),
            "task": "regression"
            if regression
            else ("binary" if len(classes) == 2 else "multiclass"),
            "target_name": stream.target,
            "targets": [stream.target],
            "classes": classes,
            "target_scaler": target.scaler() if regression else None,
        }
    )


class _Moments:
    """Running column means and M2 (Σ squared deviations), merged batch by batch."""

    def __init__(self):
        self.n, self.mean, self.m2 = 0, None, None

    def add(self, X: np.ndarray) -> None:
        n_b = len(X)
        if not n_b:
            return
        mean_b = X.mean(axis=0)
        m2_b = ((X - mean_b) ** 2).sum(axis=0)
        if self.mean is None:
            self.n, self.mean, self.m2 = n_b, mean_b, m2_b
            return
        n = self.n + n_b
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (n_b / n)
        self.m2 = self.m2 + m2_b + delta**2 * (self.n * n_b / n)
        self.n = n

    def scaler(self) -> dict:
        std = np.sqrt(self.m2 / self.n)
        scale = np.where(std > 1e-12 * np.maximum(1.0, np.abs(self.mean)), std, 1.0)
        return {"mean": self.mean.tolist(), "scale": scale.tolist()}


def _numbers(y, stream) -> np.ndarray:
    if y.dtype.kind not in "iufb":
        raise DataError(f"a regression target must be numbers; {stream.target!r} is {y.dtype}.")
    return y.astype(np.float64)


def encode_target(y_raw, prep: Preprocessor) -> np.ndarray:
    """Raw target values as class indices `(n,)` (classification) or standardised `(n, 1)`."""
    if prep.task == "regression":
        return prep.transform_target(np.asarray(y_raw, dtype=np.float64).reshape(-1, 1))
    classes = np.asarray(prep.classes)
    idx = np.searchsorted(classes, y_raw)
    idx = np.minimum(idx, len(classes) - 1)
    unknown = classes[idx] != y_raw
    if np.any(unknown):
        bad = np.unique(np.asarray(y_raw)[unknown])[:5].tolist()
        raise DataError(f"target values {bad} were not seen when the classes were counted.")
    return idx


__all__ = ["TableStream", "encode_target", "is_streamed", "scan_preprocessor"]
