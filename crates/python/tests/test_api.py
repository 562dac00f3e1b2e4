"""The Python package against the command line it carries: the API's results must be the
CLI's JSON, byte for byte, and a table in memory must give what the same table read from a
file gives. Run by .ci/run after the wheel is built and installed into a venv."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import preflight

ROOT = Path(__file__).resolve().parents[3]
PENGUINS = "fixtures/penguins.csv"
IRIS = "fixtures/iris.csv"


@pytest.fixture(autouse=True)
def _in_repo_root(monkeypatch):
    # Paths as the CLI's outputs name them: relative to the repository root.
    monkeypatch.chdir(ROOT)


def cli(*args: str) -> subprocess.CompletedProcess:
    """The `preflight` command the wheel installed (beside this interpreter)."""
    exe = Path(sys.executable).parent / "preflight"
    assert exe.exists(), f"the wheel installed no `preflight` command at {exe}"
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    return subprocess.run(
        [str(exe), "--no-config", *args], capture_output=True, text=True, env=env
    )


def assert_close(a, b, path="", rel=1e-12):
    """Equal documents, but for floats, which may differ in their last bits: a profile's
    moments merged from other partitions of the rows are summed in another order."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for k in a:
            assert_close(a[k], b[k], f"{path}.{k}", rel)
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, f"{path}[{i}]", rel)
    elif isinstance(a, float) and isinstance(b, float):
        assert b == pytest.approx(a, rel=rel, abs=1e-300), path
    else:
        assert a == b, path


def without_inputs(doc: dict) -> dict:
    """A document without the names of its inputs (which say where the data came from)."""
    doc = dict(doc)
    doc.pop("sources", None)
    return doc


# --- the API gives the CLI's documents -------------------------------------------------


def test_profile_of_a_path_is_the_cli_profile(tmp_path):
    out = tmp_path / "p.json"
    r = cli("profile", PENGUINS, "--format", "json", "-o", str(out))
    assert r.returncode == 0, r.stderr
    p = preflight.profile(PENGUINS)
    assert p.to_json() == out.read_text()
    assert p.row_count == 344
    assert p.columns[:2] == ["species", "island"]
    assert p.passed


def test_infer_and_validate_are_the_cli_results(tmp_path):
    schema = preflight.infer(PENGUINS, label="species")
    r = cli("infer", PENGUINS, "--label", "species")
    assert r.returncode == 0, r.stderr
    assert schema.text == r.stdout
    assert "island" in schema.features
    path = tmp_path / "penguins.schema.yaml"
    schema.save(path)

    result = preflight.validate(PENGUINS, path)
    out = tmp_path / "v.json"
    r = cli("validate", PENGUINS, "--schema", str(path), "-o", str(out))
    assert (r.returncode, result.exit_code) == (0, 0), r.stderr
    assert result.to_json() == out.read_text()
    assert result.passed
    # A Schema object validates as its file does; once saved, it is named by its file.
    assert preflight.validate(PENGUINS, schema).to_json() == result.to_json()
    unsaved = preflight.Schema(schema.text)
    doc = preflight.validate(PENGUINS, unsaved).to_dict()
    assert doc.pop("schema") != result.to_dict()["schema"]
    assert doc == {k: v for k, v in result.to_dict().items() if k != "schema"}


def test_a_failing_validation_is_not_passed_and_names_what_failed(tmp_path):
    schema = preflight.infer(PENGUINS)
    schema.save(tmp_path / "s.yaml")
    df = pd.read_csv(ROOT / PENGUINS).drop(columns=["island"])
    result = preflight.validate(df, schema)
    assert not result.passed and result.exit_code == 1
    text = result.to_json()
    assert "island" in text
    # The same table from a file fails the same way (the input's name aside).
    path = tmp_path / "no_island.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)
    from_file = preflight.validate(str(path), schema)
    assert without_inputs(from_file.to_dict()) == without_inputs(result.to_dict())


def test_drift_and_skew_are_the_cli_results(tmp_path):
    table = pacsv.read_csv(ROOT / PENGUINS)
    table = table.append_column("id", pa.array(range(table.num_rows)))
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(table, a)
    shifted = table.set_column(
        table.schema.get_field_index("body_mass_g"),
        "body_mass_g",
        pa.compute.add(table["body_mass_g"], 400),
    )
    pq.write_table(shifted, b)

    # One drifted column of eight is no dataset drift, but a warning, which fails the run
    # with --fail-on warning (a keyword argument here).
    d = preflight.drift(str(a), str(b), fail_on="warning")
    out = tmp_path / "d.json"
    r = cli("drift", str(a), str(b), "-o", str(out), "--fail-on", "warning")
    assert (d.exit_code, r.returncode) == (1, 1), r.stderr
    assert d.to_json() == out.read_text()
    assert not d.passed
    assert [c["column"] for c in d["columns"] if c["drifted"]] == ["body_mass_g"]

    s = preflight.skew(str(a), str(b), key="id")
    out = tmp_path / "s.json"
    r = cli("skew", str(a), str(b), "--key", "id", "-o", str(out))
    assert s.exit_code == r.returncode, r.stderr
    assert s.to_json() == out.read_text()
    assert "body_mass_g" in s.to_json()

    # The same comparisons of the tables in memory.
    in_memory = preflight.drift(table, shifted, fail_on="warning").to_dict()
    assert in_memory["reference"]["inputs"] == ["<reference>"]
    from_files = d.to_dict()
    for doc in (in_memory, from_files):
        doc.pop("reference"), doc.pop("current")
    assert in_memory == from_files
    # pandas made the integer columns with missing values float, polars kept them integer:
    # equal numbers still match (only the examples' texts show the types).
    in_memory = preflight.skew(table.to_pandas(), pl.from_arrow(shifted), key="id").to_dict()
    assert (in_memory["a"], in_memory["b"]) == (["<a>"], ["<b>"])
    assert in_memory["keys"] == s["keys"]
    counts = lambda doc: [(f["feature"], f["mismatched"]) for f in doc["features"]]
    assert counts(in_memory) == counts(s.to_dict())
    assert [f for f, n in counts(in_memory) if n] == ["body_mass_g"]


def test_labels_with_probabilities_from_numpy_is_the_cli_audit(tmp_path):
    rng = np.random.default_rng(7)
    iris = pd.read_csv(ROOT / IRIS)
    classes = sorted(iris["target_name"].unique())
    # Probabilities that favour the given class, with a few rows pointing elsewhere.
    probs = np.full((len(iris), 3), 0.1)
    for i, c in enumerate(iris["target_name"]):
        probs[i, classes.index(c)] = 0.8
    for i in rng.choice(len(iris), 6, replace=False):
        probs[i] = np.roll(probs[i], 1)
    path = tmp_path / "probs.csv"
    pd.DataFrame(probs, columns=["p0", "p1", "p2"]).to_csv(path, index=False)

    r = cli("labels", IRIS, "--label", "target_name", "--exclude", "target",
            "--pred-probs", str(path), "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    api = preflight.labels(IRIS, label="target_name", exclude="target", pred_probs=probs)
    assert api.exit_code == r.returncode
    cli_doc, api_doc = json.loads(r.stdout), api.to_dict()
    # Only where the probabilities came from differs.
    assert json.dumps(cli_doc).replace(str(path), "<pred_probs>") == json.dumps(api_doc)
    assert api_doc["n_issues"] >= 1 and api_doc["probabilities"]


# --- tables in memory give what the same table in a file gives -------------------------


@pytest.fixture(scope="module")
def penguins_parquet(tmp_path_factory):
    df = pd.read_csv(ROOT / PENGUINS)
    path = tmp_path_factory.mktemp("pq") / "penguins.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)
    return df, str(path), preflight.profile(str(path)).to_dict()


def test_pandas_dataframe_profile_equals_the_parquet_profile(penguins_parquet):
    df, _, expected = penguins_parquet
    p = preflight.profile(df)
    assert p.to_dict()["sources"] == ["<pandas.DataFrame>"]
    assert without_inputs(p.to_dict()) == without_inputs(expected)


def test_polars_and_pyarrow_inputs_equal_the_parquet_profile(penguins_parquet):
    df, path, expected = penguins_parquet
    table = pq.read_table(path)
    polars_df = pl.read_parquet(path)
    # Small batches: the profile must not depend on how the rows are chunked.
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=17))
    for data in (table, polars_df):
        doc = preflight.profile(data, name="penguins").to_dict()
        assert doc["sources"] == ["<penguins>"], type(data)
        assert without_inputs(doc) == without_inputs(expected), type(data)
    # Many small batches are profiled in several partitions and merged: the same profile
    # but for the last bits of sums (the file was one partition).
    doc = preflight.profile(reader).to_dict()
    assert doc["sources"] == ["<pyarrow.RecordBatchReader>"]
    assert_close(without_inputs(doc), without_inputs(expected))


def test_profile_and_infer_compose(penguins_parquet):
    df, path, _ = penguins_parquet
    p = preflight.profile(df)
    # The same schema but for the comment naming where it came from.
    from_profile = preflight.infer(p).text.replace("<pandas.DataFrame>", path)
    assert from_profile == preflight.infer(path).text


def written_bytes() -> int:
    """Bytes this process has written through write calls (files, pipes), from /proc."""
    with open("/proc/self/io") as f:
        return int(next(l for l in f if l.startswith("wchar:")).split()[1])


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc")
def test_a_data_frame_is_profiled_without_a_copy_to_disk():
    n = 400_000
    rng = np.random.default_rng(3)
    df = pd.DataFrame({
        "a": rng.normal(size=n),
        "b": rng.integers(0, 1000, size=n),
        "c": rng.choice(["x", "y", "z"], size=n),
        "d": rng.exponential(size=n),
    })
    size = int(df.memory_usage(deep=True).sum())
    before = written_bytes()
    p = preflight.profile(df)
    written = written_bytes() - before
    assert p.row_count == n and p.columns == ["a", "b", "c", "d"]
    # Only the profile's JSON (tens of kB) is written, never the data (tens of MB).
    assert written < size / 50, (written, size)
    # Whereas writing the data out to profile it from a file would write it all.
    assert size > 10_000_000


# --- errors ----------------------------------------------------------------------------


def test_bad_inputs_raise_one_line_errors():
    with pytest.raises(preflight.PreflightError, match=r"no_such\.csv: no such file"):
        preflight.profile("no_such.csv")
    with pytest.raises(TypeError, match="cannot read a builtins.int"):
        preflight.profile(42)
    twice = pa.table([pa.array([1, 2]), pa.array([3, 4])], names=["a", "a"])
    with pytest.raises(preflight.PreflightError, match="column name `a` appears twice"):
        preflight.profile(twice)
    with pytest.raises(preflight.PreflightError, match="unexpected argument"):
        preflight.profile(PENGUINS, no_such_flag=True)
    empty = pa.table({"a": pa.array([], pa.int64())})
    with pytest.raises(preflight.PreflightError, match="contains no rows"):
        preflight.profile(empty, name="empty")


# --- Jupyter and the command ------------------------------------------------------------


def test_results_show_their_html_report_in_jupyter():
    p = preflight.profile(PENGUINS)
    page = p._repr_html_()
    assert page.startswith("<iframe") and "species" in page
    v = preflight.validate(PENGUINS, preflight.infer(PENGUINS))
    assert "<html" in v.html() and v._repr_html_().startswith("<iframe")
    assert "island" in preflight.infer(PENGUINS)._repr_html_()


def test_the_wheel_installs_the_command_line(tmp_path):
    r = cli("--version")
    assert r.returncode == 0 and preflight.__version__ in r.stdout
    r = cli("profile", "no_such.csv")
    assert r.returncode == 2
    assert r.stderr.strip() == "error: no_such.csv: no such file or directory"
    r = cli("profile", "--bogus")
    assert r.returncode == 2 and "see 'preflight profile --help'" in r.stderr
    # python -m preflight is the same command.
    r = subprocess.run([sys.executable, "-m", "preflight", "--no-config", "profile", PENGUINS],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "bill_length_mm" in r.stdout


def test_the_example_notebook_runs():
    """examples/quickstart.ipynb, cell by cell, as a kernel would run it: every cell runs,
    and the results it shows are what the notebook says they are."""
    nb = json.loads((ROOT / "examples/quickstart.ipynb").read_text())
    scope: dict = {}
    shown = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        *body, last = source.rstrip().split("\n")
        exec("\n".join(body), scope)
        try:
            shown.append(eval(last, scope))
        except SyntaxError:
            exec(last, scope)
            shown.append(None)
    assert shown[0] == (344, 8)
    assert isinstance(shown[1], preflight.Profile) and shown[1]._repr_html_().startswith("<iframe")
    assert shown[4] is False
    kinds = dict(shown[5])
    assert "bill_depth_mm" in kinds and "island" in kinds
    assert isinstance(shown[6], preflight.Result)
    n_issues, health = shown[8]
    assert n_issues >= 0 and health
