"""preflight: check data before a model trains on it and before a pipeline ships it.

The Python API runs the same code as the ``preflight`` command line, in this process, and
gives back the command line's own JSON documents, so a result here is identical to
``preflight <command> ... --format json``. Data may be a path (a file, a glob, a directory,
an ``s3://``-style URL once the command line reads them), or a table in memory: a pyarrow
``Table`` or ``RecordBatchReader``, a pandas or polars ``DataFrame``, or any object with
``__arrow_c_stream__``. Tables in memory are read through the Arrow C stream interface
without a copy and without touching the disk.

Every function also takes the command line's other flags as keyword arguments:
``fail_on="warning"`` is ``--fail-on warning``, ``type=["zip=string"]`` repeats
``--type``, ``ranges=True`` is ``--ranges``.

    >>> import preflight
    >>> p = preflight.profile("fixtures/penguins.csv")
    >>> p.to_dict()["row_count"]
    344
"""

from __future__ import annotations

import html as _html
import json
import os
import tempfile
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from . import _native

__all__ = [
    "profile",
    "infer",
    "validate",
    "drift",
    "skew",
    "labels",
    "Result",
    "Profile",
    "Schema",
    "PreflightError",
    "__version__",
]

__version__ = _native.version()

Data = Any  # a path, or an object with __arrow_c_stream__, or a pandas DataFrame


class PreflightError(Exception):
    """A run that could not run (the command line's exit code 2): bad input, a missing
    file, a malformed schema. The message is the command line's one-line error."""


class Result:
    """The result of a command: its JSON document, its verdict and its HTML report."""

    def __init__(self, command: str, text: str, exit_code: int, html: Optional[str]):
        self.command = command
        self.exit_code = exit_code
        self._text = text
        self._html = html

    @property
    def passed(self) -> bool:
        """Whether nothing at or above the failing severity was found (exit code 0)."""
        return self.exit_code == 0

    def to_json(self) -> str:
        """The command line's JSON document, byte for byte."""
        return self._text

    def to_dict(self) -> dict:
        """The JSON document as Python objects (a new copy each call)."""
        return json.loads(self._text)

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write the JSON document to ``path``."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self._text)

    def html(self) -> str:
        """The self-contained HTML report (as ``--html`` writes it)."""
        if self._html is None:
            raise PreflightError(f"{self.command}: no HTML report for this result")
        return self._html

    def _repr_html_(self) -> str:
        # The report is a whole page with its own styles: framed, so that they do not leak
        # into the notebook.
        return (
            '<iframe style="width:100%;height:640px;border:1px solid #ddd" '
            f'srcdoc="{_html.escape(self.html(), quote=True)}"></iframe>'
        )

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else "failed"
        return f"<preflight {self.command} result: {verdict}>"


class Profile(Result):
    """A profile: per column counts, missing values, ranges, quantiles, histograms,
    distinct and most frequent values. Mergeable with ``preflight merge``."""

    def __init__(self, text: str):
        super().__init__("profile", text, 0, None)

    @property
    def row_count(self) -> int:
        return self.to_dict()["row_count"]

    @property
    def columns(self) -> list:
        return [c["name"] for c in self.to_dict()["columns"]]

    def html(self) -> str:
        if self._html is None:
            with tempfile.TemporaryDirectory(prefix="preflight-") as d:
                stored = os.path.join(d, "data.profile.json")
                self.save(stored)
                page = os.path.join(d, "report.html")
                _run(["report", stored, "-o", page, "-q"])
                self._html = _read(page)
        return self._html

    def __repr__(self) -> str:
        d = self.to_dict()
        return f"<preflight profile: {d['row_count']} rows, {len(d['columns'])} columns>"


class Schema:
    """A schema as ``preflight infer`` writes it: human-editable YAML."""

    def __init__(self, text: str):
        self.text = text
        # The file this schema was last loaded from or saved to: results name it.
        self.path: Optional[str] = None

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> "Schema":
        schema = cls(_read(path))
        schema.path = os.fspath(path)
        return schema

    def save(self, path: Union[str, os.PathLike]) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.text)
        self.path = os.fspath(path)

    def to_dict(self) -> dict:
        return json.loads(_native.schema_to_json(self.text, "schema"))

    def to_json(self) -> str:
        return _native.schema_to_json(self.text, "schema")

    @property
    def features(self) -> list:
        return [f["name"] for f in self.to_dict()["features"]]

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<preflight schema: {len(self.features)} features>"

    def _repr_html_(self) -> str:
        return f"<pre>{_html.escape(self.text)}</pre>"


def profile(data: Data, *, name: Optional[str] = None, **options: Any) -> Profile:
    """Profile ``data`` (``preflight profile``)."""
    with _Call() as c:
        out = c.file("profile.json")
        c.run(["profile", c.data(data, name), "--format", "json", "-o", out], options)
        return Profile(_read(out))


def infer(data: Union[Data, Profile], *, name: Optional[str] = None, **options: Any) -> Schema:
    """Infer a schema from ``data`` or a profile (``preflight infer``)."""
    with _Call() as c:
        out = c.file("schema.yaml")
        c.run(["infer", c.data(data, name), "-o", out], options)
        return Schema(_read(out))


def validate(
    data: Data,
    schema: Union[Schema, str, os.PathLike],
    *,
    name: Optional[str] = None,
    baseline: Optional[Data] = None,
    training: Optional[Data] = None,
    **options: Any,
) -> Result:
    """Validate ``data`` against ``schema`` (``preflight validate``); with ``baseline``
    or ``training``, also the schema's drift and skew comparators."""
    with _Call() as c:
        args = ["validate", c.data(data, name), "--schema", c.schema(schema)]
        if baseline is not None:
            args += ["--baseline", c.data(baseline, "baseline")]
        if training is not None:
            args += ["--training", c.data(training, "training")]
        return c.checked("validate", args, options)


def drift(reference: Data, current: Data, **options: Any) -> Result:
    """Distribution drift of every column from ``reference`` to ``current``
    (``preflight drift``)."""
    with _Call() as c:
        args = ["drift", c.data(reference, "reference"), c.data(current, "current")]
        return c.checked("drift", args, options)


def skew(a: Data, b: Data, *, key: str, **options: Any) -> Result:
    """Feature skew per example: rows of ``a`` and ``b`` joined on ``key``
    (``preflight skew``)."""
    with _Call() as c:
        args = ["skew", c.data(a, "a"), c.data(b, "b"), "--key", key]
        return c.checked("skew", args, options)


def labels(
    data: Data,
    *,
    label: Optional[str] = None,
    pred_probs: Optional[Data] = None,
    name: Optional[str] = None,
    **options: Any,
) -> Result:
    """Label audit (``preflight labels``): likely mislabelled rows, conflicting
    duplicates, class imbalance; ``pred_probs`` are a model's out-of-sample probabilities
    (a path, a table, or a 2-D numpy array with one column per class in sorted class
    order)."""
    with _Call() as c:
        args = ["labels", c.data(data, name)]
        if label is not None:
            args += ["--label", label]
        if pred_probs is not None:
            args += ["--pred-probs", c.data(_probabilities(pred_probs), "pred_probs")]
        return c.checked("labels", args, options)


# ---------------------------------------------------------------------------------------


class _Call:
    """One run: a scratch directory for its outputs and the tables it hands over."""

    def __enter__(self) -> "_Call":
        self._dir = tempfile.TemporaryDirectory(prefix="preflight-")
        self.tables: list = []
        return self

    def __exit__(self, *exc: Any) -> None:
        self._dir.cleanup()

    def file(self, name: str) -> str:
        return os.path.join(self._dir.name, name)

    def data(self, data: Data, name: Optional[str]) -> str:
        if isinstance(data, (str, os.PathLike)):
            return os.fspath(data)
        if isinstance(data, Profile):
            path = self.file(f"{name or 'data'}.profile.json")
            data.save(path)
            return path
        stream = _arrow_stream(data)
        token = f"<{name or _type_name(data)}>"
        if any(t == token for t, _ in self.tables):
            token = f"<{name or _type_name(data)} {len(self.tables) + 1}>"
        self.tables.append((token, stream))
        return token

    def schema(self, schema: Union[Schema, str, os.PathLike]) -> str:
        if isinstance(schema, Schema):
            if schema.path is not None and _same_text(schema.path, schema.text):
                return schema.path
            path = self.file("schema.yaml")
            schema.save(path)
            return path
        return os.fspath(schema)

    def run(self, args: list, options: Mapping[str, Any]) -> int:
        return _run(args + _flags(options), self.tables)

    def checked(self, command: str, args: list, options: Mapping[str, Any]) -> Result:
        out, page = self.file("result.json"), self.file("report.html")
        code = self.run(args + ["--format", "json", "-o", out, "--html", page], options)
        return Result(command, _read(out), code, _read(page))


def _run(args: list, tables: Sequence = ()) -> int:
    code, error = _native.call(["preflight", "--no-config", *args], list(tables))
    if code == 2:
        raise PreflightError(error or "preflight could not run")
    return code


def _flags(options: Mapping[str, Any]) -> list:
    out = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            out.append(flag)
        elif isinstance(value, (list, tuple)):
            for v in value:
                out += [flag, str(v)]
        else:
            out += [flag, str(value)]
    return out


def _type_name(data: Any) -> str:
    t = type(data)
    return f"{t.__module__.split('.')[0]}.{t.__name__}"


def _arrow_stream(data: Any) -> Any:
    """An object with ``__arrow_c_stream__`` for ``data``."""
    module = type(data).__module__
    if module.startswith("pandas"):
        # A pandas DataFrame through pyarrow: numeric columns without a copy, and the index
        # left out (a RangeIndex is not data; set a meaningful index as a column first).
        import pyarrow

        if hasattr(data, "to_frame") and not hasattr(data, "columns"):
            data = data.to_frame()
        return pyarrow.Table.from_pandas(data, preserve_index=False)
    if hasattr(data, "__arrow_c_stream__"):
        return data
    if hasattr(data, "__arrow_c_array__"):
        import pyarrow

        return pyarrow.table(data)
    raise TypeError(
        f"cannot read a {_type_name(data)}: give a path, a pyarrow Table or "
        "RecordBatchReader, a pandas or polars DataFrame, or an object with "
        "__arrow_c_stream__"
    )


def _probabilities(p: Any) -> Any:
    """A 2-D numpy array of probabilities as a table with one column per class
    (``p0``, ``p1``, ...: taken in sorted class order)."""
    if type(p).__module__ == "numpy" and getattr(p, "ndim", 0) == 2:
        import pyarrow

        return pyarrow.table({f"p{i}": p[:, i] for i in range(p.shape[1])})
    return p


def _same_text(path: str, text: str) -> bool:
    try:
        return _read(path) == text
    except OSError:
        return False


def _read(path: Union[str, os.PathLike]) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()
