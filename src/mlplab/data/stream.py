"""Tables larger than memory: a Parquet (or CSV) file read in pieces with pyarrow.

:class:`TableStream` never holds the file: a Parquet file is read one row
group at a time (``ParquetFile.iter_batches``), in a seeded order of row
groups, each rank of a data-parallel run reading only its own row groups; a
CSV is read block by block (``pyarrow.csv.open_csv``), in file order (a CSV
has no index to jump to a block), rank r keeping blocks r, r + N, ….
:func:`scan_preprocessor` computes the preprocessing (column means and
standard deviations, the categories of text columns, the class labels, the
target's scale) in one streaming pass, as the :class:`~mlplab.data.Preprocessor`
that ``mlplab train`` saves in the model file, so ``predict`` and ``evaluate``
work as for a CSV run.

Feature columns are numbers, or text (strings, dictionary-encoded strings)
one-hot encoded with ``one_hot=True`` (``--one-hot``); the target may be
numbers or text. A validation split holds out rows by a seeded hash of their
row number in the file (:class:`Holdout`): the same rows whatever the piece
order, the ranks or the memory, decided without reading anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from ..errors import ConfigError, DataError
from .preprocessing import Preprocessor

#: rows decoded at a time (one record batch); memory is about rows × columns × 8 bytes
READ_ROWS = 65536
#: CSV block size read by pyarrow (a "piece" of a CSV file)
CSV_BLOCK = 16 << 20
#: the most distinct values a streamed text column may have (its vocabulary is kept in memory)
MAX_CATEGORIES = 65536

#: which rows of the file: every row, the training rows, or the held-out validation rows
Part = Literal["all", "train", "validation"]
#: raw features `(n, d)` float64 (text columns one-hot expanded) and raw targets `(n,)`
Batch = tuple[NDArray[np.float64], NDArray[Any]]


@dataclass(frozen=True)
class Holdout:
    """Validation rows: those whose seeded hash of the row number falls below ``fraction``."""

    fraction: float
    seed: int

    def mask(self, start: int, n: int) -> NDArray[np.bool_]:
        """`(n,)`: whether rows ``start … start + n − 1`` of the file are validation rows."""
        return _uniform(self.seed, start, n) < self.fraction


def _uniform(seed: int, start: int, n: int) -> NDArray[np.float64]:
    """SplitMix64 of the row numbers, keyed by ``seed``: `(n,)` uniform numbers in [0, 1)."""
    key = np.random.SeedSequence([seed, 16]).generate_state(1, np.uint64)[0]
    z = np.arange(start, start + n, dtype=np.uint64) + key  # uint64 arrays wrap around
    z *= np.uint64(0x9E3779B97F4A7C15)
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    u: NDArray[np.float64] = (z >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return u


def is_streamed(path: str) -> bool:
    """Whether ``path`` is a file the streaming path reads (``.parquet`` / ``.pq``)."""
    return Path(path).suffix.lower() in (".parquet", ".pq")


class TableStream:
    """A Parquet or CSV file read in record batches: features `(n, d)` float64, raw targets.

    Args:
        path: the ``.parquet`` / ``.pq`` (or ``.csv``) file.
        target: the target column.
        one_hot: one-hot encode text feature columns (else they are an error).
        validation_split: the fraction of rows held out for validation (:class:`Holdout`).
        split_seed: seeds which rows are held out.
    """

    def __init__(self, path: str | os.PathLike[str], target: str | None, *,
                 one_hot: bool = False, validation_split: float = 0.0,
                 split_seed: int = 0) -> None:  # fmt: skip
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
        if not self.features:
            raise DataError(f"{self.path!r} has no feature columns besides {target!r}.")
        self.text = {n for n in self.features if _is_text(schema.field(n).type)}
        self._check_types(schema, one_hot)
        if not (isinstance(validation_split, int | float) and 0 <= validation_split < 1):
            raise ConfigError(f"validation_split must be in [0, 1); got {validation_split!r}.")
        self.holdout = Holdout(float(validation_split), split_seed) if validation_split else None
        self._rows: list[int] | None = None

    def _check_types(self, schema: Any, one_hot: bool) -> None:
        numbers = [n for n in self.features if n not in self.text]
        bad = [n for n in numbers if not _numeric(schema.field(n).type)]
        if bad:
            raise DataError(
                f"streamed feature columns must be numbers or text; {', '.join(bad[:5])} of "
                f"{self.path!r} are not (types: "
                f"{', '.join(str(schema.field(n).type) for n in bad[:5])}). Convert them first."
            )
        if self.text and not one_hot:
            shown = sorted(self.text)
            more = f", … ({len(shown) - 10} more)" if len(shown) > 10 else ""
            pron = "it" if len(shown) == 1 else "them"
            raise DataError(
                f"'{self.path}' has non-numeric feature column{'s' if len(shown) > 1 else ''}: "
                f"{', '.join(repr(c) for c in shown[:10])}{more}. Pass --one-hot "
                f"(one_hot=True) to encode {pron} as 0/1 columns, or remove {pron}."
            )

    @property
    def kind(self) -> str:
        return "Parquet" if self.parquet else "CSV"

    def _open(self) -> Any:
        import pyarrow.parquet as pq

        return pq.ParquetFile(self.path)

    def _csv_reader(self) -> Any:
        import pyarrow.csv as pcsv

        return pcsv.open_csv(self.path, read_options=pcsv.ReadOptions(block_size=CSV_BLOCK))

    # --- pieces: row groups (Parquet) or blocks (CSV) ---------------------------

    def piece_rows(self) -> list[int] | None:
        """Rows of each row group (Parquet, from the footer: no data read); None for a CSV."""
        if not self.parquet:
            return None
        meta = self._open().metadata
        return [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]

    def rows_per_piece(self) -> list[int]:
        """Rows of each row group, or of each CSV block (counted once, in one pass)."""
        if self._rows is None:
            rows = self.piece_rows()
            self._rows = rows if rows is not None else [b.num_rows for _, b in self._records()]
        return self._rows

    def part_rows(self, part: Part) -> list[int]:
        """Rows of ``part`` in each piece (from the row numbers alone: nothing read)."""
        rows = self.rows_per_piece()
        if part == "all" or self.holdout is None:
            return rows if part != "validation" else [0] * len(rows)
        starts = np.concatenate([[0], np.cumsum(rows)]).astype(np.int64)
        held = [int(self.holdout.mask(int(starts[g]), n).sum()) for g, n in enumerate(rows)]
        return held if part == "validation" else [n - h for n, h in zip(rows, held, strict=True)]

    def my_pieces(self, seed: int, epoch: int, rank: int = 0, world: int = 1,
                  shuffle: bool = True) -> list[int] | None:  # fmt: skip
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
        return [int(g) for g in order[rank::world]]

    def batches(self, categories: Mapping[str, Sequence[str]] | None = None,
                pieces: Iterable[int] | None = None, rank: int = 0, world: int = 1,
                part: Part = "all") -> Iterator[Batch]:  # fmt: skip
        """``(X, y_raw)`` record batches of ``pieces`` (Parquet row groups) or of this rank's
        CSV blocks, only the rows of ``part``; ``X`` `(n, d)` float64 with the text columns
        one-hot over ``categories`` (a :class:`Preprocessor`'s), ``y_raw`` `(n,)` as stored."""
        for start, batch in self._records(pieces, rank, world):
            X, y = self._arrays(batch, categories or {})
            keep = self._keep(start, batch.num_rows, part)
            yield (X, y) if keep is None else (X[keep], y[keep])

    def _keep(self, start: int, n: int, part: Part) -> NDArray[np.bool_] | None:
        if part == "all" or self.holdout is None:
            return None if part != "validation" else np.zeros(n, dtype=bool)
        held = self.holdout.mask(start, n)
        return held if part == "validation" else ~held

    def _records(self, pieces: Iterable[int] | None = None, rank: int = 0,
                 world: int = 1) -> Iterator[tuple[int, Any]]:  # fmt: skip
        """``(row number in the file of its first row, pyarrow RecordBatch)``."""
        import pyarrow as pa

        try:
            if self.parquet:
                pf = self._open()
                rows = self.piece_rows() or []
                starts = np.concatenate([[0], np.cumsum(rows)]).astype(np.int64)
                columns = [*self.features, self.target]
                for g in pieces if pieces is not None else range(len(rows)):
                    at = int(starts[g])
                    for batch in pf.iter_batches(READ_ROWS, row_groups=[g], columns=columns):
                        yield at, batch
                        at += batch.num_rows
            else:
                at = 0
                for k, batch in enumerate(self._csv_reader()):
                    if k % world == rank:
                        yield at, batch
                    at += batch.num_rows
        except (pa.ArrowException, OSError) as err:
            raise DataError(f"cannot read {self.path!r} as {self.kind}: {err}") from None

    def _arrays(self, batch: Any, categories: Mapping[str, Sequence[str]]) -> Batch:
        width = sum(len(categories[c]) if c in self.text else 1 for c in self.features)
        X = np.empty((batch.num_rows, width), dtype=np.float64)
        j = 0
        for name in self.features:
            column = self._column(batch, name)
            if name in self.text:
                k = len(categories[name])
                X[:, j : j + k] = _one_hot(column, categories[name])
                j += k
            else:
                X[:, j] = column.to_numpy(zero_copy_only=False)
                j += 1
        y = batch.column(self.target)
        if y.null_count:
            raise DataError(f"the target {self.target!r} of {self.path!r} has missing values.")
        return X, y.to_numpy(zero_copy_only=False)

    def _column(self, batch: Any, name: str) -> Any:
        column = _texts(batch.column(name)) if name in self.text else batch.column(name)
        if column.null_count:
            raise DataError(
                f"column {name!r} of {self.path!r} has missing values; the streaming path "
                "does not impute: fill or drop them first."
            )
        return column


def _numeric(arrow_type: Any) -> bool:
    import pyarrow.types as t

    return bool(t.is_integer(arrow_type) or t.is_floating(arrow_type) or t.is_boolean(arrow_type))


def _is_text(arrow_type: Any) -> bool:
    import pyarrow.types as t

    if t.is_dictionary(arrow_type):
        return _is_text(arrow_type.value_type)
    return bool(t.is_string(arrow_type) or t.is_large_string(arrow_type))


def _texts(column: Any) -> Any:
    """A text column as trimmed strings, an empty one missing (as a CSV cell is)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    text = pc.utf8_trim_whitespace(column.cast(pa.string()))
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _one_hot(column: Any, categories: Sequence[str]) -> NDArray[np.float64]:
    """`(n, k)` 0/1 columns of a text column; a category not among ``categories``: all 0."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.index_in(column, value_set=pa.array(list(categories), pa.string()))
    idx = pc.fill_null(found, -1).to_numpy(zero_copy_only=False)
    block: NDArray[np.float64] = (idx[:, None] == np.arange(len(categories))).astype(np.float64)
    return block


def scan_preprocessor(stream: TableStream, task: str | None = None) -> Preprocessor:
    """One streaming pass: the :class:`Preprocessor` of the whole file.

    Column means and population standard deviations of the training rows
    (without the validation rows, as in memory) are accumulated per batch
    (Chan et al.'s pairwise update, float64: no cancellation of Σx² − n·μ²);
    the categories of text columns and the classes are the sorted distinct
    values of every row; a regression target gets its mean and scale like
    the features.
    """
    scan, blocks = _Scan(stream, task), []
    for start, batch in stream._records():
        scan.add(start, batch)
        blocks.append(batch.num_rows)
    if not stream.parquet:  # a CSV's blocks are its pieces: counted here, not in another pass
        stream._rows = blocks
    return scan.preprocessor()


class _Scan:
    """What one pass over the file collects: moments, category counts, labels."""

    def __init__(self, stream: TableStream, task: str | None) -> None:
        self.stream = stream
        self.numeric = [c for c in stream.features if c not in stream.text]
        self.feats, self.target = _Moments(), _Moments()
        texts = [c for c in stream.features if c in stream.text]
        self.counts: dict[str, dict[str, int]] = {c: {} for c in texts}
        self.labels: set[Any] = set()
        self.n = 0
        self.regression = None if task is None else task == "regression"

    def add(self, start: int, batch: Any) -> None:
        stream = self.stream
        X = np.empty((batch.num_rows, len(self.numeric)), dtype=np.float64)
        for j, name in enumerate(self.numeric):
            X[:, j] = stream._column(batch, name).to_numpy(zero_copy_only=False)
        if not np.all(np.isfinite(X)):
            raise DataError(f"{stream.path!r} holds NaN or infinite feature values.")
        keep = stream._keep(start, batch.num_rows, "train")
        train = None if keep is None else keep.nonzero()[0]
        self.feats.add(X if train is None else X[train])
        self.n += batch.num_rows
        for name, counts in self.counts.items():
            self._count(name, counts, stream._column(batch, name), train)
        y = batch.column(stream.target)
        if y.null_count:
            raise DataError(f"the target {stream.target!r} of {stream.path!r} has missing values.")
        y = y.to_numpy(zero_copy_only=False)
        if self.regression is None:
            self.regression = y.dtype.kind == "f" and not np.all(np.equal(np.mod(y, 1), 0))
        if self.regression:
            values = _numbers(y, stream)
            self.target.add((values if train is None else values[train]).reshape(-1, 1))
        else:
            self.labels.update(np.unique(y).tolist())

    def _count(self, name: str, counts: dict[str, int], column: Any, train: Any) -> None:
        """Every value of the column is a category; training rows count toward its mean."""
        import pyarrow.compute as pc

        for value in pc.unique(column).to_pylist():
            counts.setdefault(value, 0)
        chosen = column if train is None else column.take(train)
        seen = pc.value_counts(chosen)
        for value, k in zip(seen.field("values").to_pylist(), seen.field("counts").to_pylist(),
                            strict=True):  # fmt: skip
            counts[value] += k
        if len(counts) > MAX_CATEGORIES:
            raise DataError(
                f"'{self.stream.path}' column {name!r} has more than {MAX_CATEGORIES:,} distinct "
                "values; one-hot encoding it is not sensible. It looks like an identifier or free "
                "text: remove it from the file (or group its values into fewer categories)."
            )

    def preprocessor(self) -> Preprocessor:
        stream, n = self.stream, self.n
        if n == 0:
            raise DataError(f"{stream.path!r} has no rows.")
        if self.feats.n == 0:
            raise DataError(
                f"the validation split of {stream.path!r} holds every one of its {n} rows; "
                "lower --validation-split."
            )
        for c, counts in self.counts.items():
            if len(counts) > 100 and len(counts) > n // 2:
                raise DataError(
                    f"'{stream.path}' column {c!r} has {len(counts)} distinct values in {n} rows; "
                    f"one-hot encoding would add {len(counts)} columns. It looks like an "
                    "identifier or free text: remove it from the file."
                )
        classes = self._classes()
        names, mean, scale, fill = self._columns()
        return Preprocessor.from_dict(
            {
                "version": 1,
                "columns": list(stream.features),
                "categories": {c: sorted(counts) for c, counts in self.counts.items()},
                "feature_names": names,
                "standardize": True,
                "impute": None,
                "fill_values": fill,
                "scaler": {"mean": mean, "scale": scale},
                "task": "regression"
                if classes is None
                else ("binary" if len(classes) == 2 else "multiclass"),
                "target_name": stream.target,
                "targets": [stream.target],
                "classes": classes,
                "target_scaler": self.target.scaler() if classes is None else None,
            }
        )

    def _classes(self) -> list[Any] | None:
        if self.regression:
            return None
        target = self.stream.target
        if len(self.labels) < 2:
            raise DataError(
                f"the target {target!r} has {len(self.labels)} distinct value(s); "
                "a classifier needs at least 2 (or pass --task regression)."
            )
        if len(self.labels) > 1000:
            raise DataError(
                f"the target {target!r} has {len(self.labels)} distinct values: too many "
                "classes; pass --task regression for a numeric target."
            )
        return sorted(self.labels)

    def _columns(self) -> tuple[list[str], list[float], list[float], list[float]]:
        """Feature names, standardisation (one-hot columns: 0 and 1) and column means."""
        numeric = self.feats.scaler()
        n_train = self.feats.n
        names: list[str] = []
        mean: list[float] = []
        scale: list[float] = []
        fill: list[float] = []
        j = 0
        for c in self.stream.features:
            if c in self.counts:
                cats = sorted(self.counts[c])
                names += [f"{c}={cat}" for cat in cats]
                mean += [0.0] * len(cats)
                scale += [1.0] * len(cats)
                fill += [self.counts[c][cat] / n_train for cat in cats]
            else:
                names.append(c)
                mean.append(numeric["mean"][j])
                scale.append(numeric["scale"][j])
                fill.append(numeric["mean"][j])
                j += 1
        return names, mean, scale, fill


class _Moments:
    """Running column means and M2 (Σ squared deviations), merged batch by batch."""

    def __init__(self) -> None:
        self.n = 0
        self.mean: NDArray[np.float64] | None = None
        self.m2: NDArray[np.float64] | None = None

    def add(self, X: NDArray[np.float64]) -> None:
        n_b = len(X)
        if not n_b:
            return
        mean_b = X.mean(axis=0)
        m2_b = ((X - mean_b) ** 2).sum(axis=0)
        if self.mean is None or self.m2 is None:
            self.n, self.mean, self.m2 = n_b, mean_b, m2_b
            return
        n = self.n + n_b
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (n_b / n)
        self.m2 = self.m2 + m2_b + delta**2 * (self.n * n_b / n)
        self.n = n

    def scaler(self) -> dict[str, list[float]]:
        if self.mean is None or self.m2 is None:  # no numeric column
            return {"mean": [], "scale": []}
        std = np.sqrt(self.m2 / self.n)
        scale = np.where(std > 1e-12 * np.maximum(1.0, np.abs(self.mean)), std, 1.0)
        return {"mean": self.mean.tolist(), "scale": scale.tolist()}


def _numbers(y: NDArray[Any], stream: TableStream) -> NDArray[np.float64]:
    if y.dtype.kind not in "iufb":
        raise DataError(f"a regression target must be numbers; {stream.target!r} is {y.dtype}.")
    return y.astype(np.float64)


def encode_target(y_raw: NDArray[Any], prep: Preprocessor) -> NDArray[Any]:
    """Raw target values as class indices `(n,)` (classification) or standardised `(n, 1)`."""
    if prep.task == "regression":
        values = np.asarray(y_raw, dtype=np.float64).reshape(-1, 1)
        out: NDArray[Any] = prep.transform_target(values)
        return out
    classes = np.asarray(prep.classes)
    idx = np.searchsorted(classes, y_raw)
    idx = np.minimum(idx, len(classes) - 1)
    unknown = classes[idx] != y_raw
    if np.any(unknown):
        bad = np.unique(np.asarray(y_raw)[unknown])[:5].tolist()
        raise DataError(f"target values {bad} were not seen when the classes were counted.")
    return idx


__all__ = ["Holdout", "TableStream", "encode_target", "is_streamed", "scan_preprocessor"]
