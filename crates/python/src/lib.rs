//! `preflight._native`, the extension module of the Python package: the `preflight`
//! command line run in the Python process, and tables handed over through the Arrow C
//! stream interface (PyCapsule protocol) without a copy. The Python API
//! (`python/preflight/__init__.py`) builds command lines and reads the JSON the commands
//! write, so that it gives exactly what the CLI gives.

use std::ffi::OsString;

use arrow::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use arrow::record_batch::RecordBatchReader;
use preflight_stats::source::{MemoryTable, MemoryTables};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// Runs a command line (`argv[0]` is the program's name) as the `preflight` binary does:
/// output and errors on the process's stdout and stderr. Returns the exit code.
#[pyfunction]
fn main(py: Python<'_>, argv: Vec<OsString>) -> u8 {
    py.detach(|| preflight::main_with(&argv).code())
}

/// Runs a command line in this process with `tables` (name, object with
/// `__arrow_c_stream__`) readable wherever the command takes a path of that name. Returns
/// the exit code and, when the run failed to run (code 2), its one-line error.
#[pyfunction]
fn call(
    py: Python<'_>,
    argv: Vec<OsString>,
    tables: Vec<(String, Bound<'_, PyAny>)>,
) -> PyResult<(u8, Option<String>)> {
    let mut imported = Vec::with_capacity(tables.len());
    for (name, obj) in tables {
        let table = import_stream(&obj).map_err(|e| match e {
            Import::Type(m) => PyTypeError::new_err(format!("{name}: {m}")),
            Import::Arrow(m) => PyValueError::new_err(format!("{name}: {m}")),
            Import::Python(e) => e,
        })?;
        imported.push((name, table));
    }
    let tables = MemoryTables::new(imported);
    let (status, error) = py.detach(|| preflight::run_with_tables(&argv, tables));
    Ok((status.code(), error))
}

/// A schema file's text (YAML) as JSON, checked as `validate` checks it; `name` names the
/// file in errors.
#[pyfunction]
fn schema_to_json(text: &str, name: &str) -> PyResult<String> {
    let schema = preflight_schema::Schema::parse(text, std::path::Path::new(name))
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    serde_json::to_string(&schema).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The version of the Rust crates in this build.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

enum Import {
    Type(String),
    Arrow(String),
    Python(PyErr),
}

/// Reads every batch of an object's Arrow C stream. The batches point at the exporter's
/// buffers (nothing is copied) and keep them alive through the release callbacks.
fn import_stream(obj: &Bound<'_, PyAny>) -> Result<MemoryTable, Import> {
    if !obj.hasattr("__arrow_c_stream__").map_err(Import::Python)? {
        return Err(Import::Type(format!(
            "a {} has no __arrow_c_stream__ (give a path, a pyarrow Table or RecordBatchReader, a pandas or polars DataFrame)",
            obj.get_type()
                .name()
                .map_or_else(|_| "object".to_string(), |n| n.to_string())
        )));
    }
    let capsule = obj
        .call_method0("__arrow_c_stream__")
        .map_err(Import::Python)?;
    let capsule = capsule
        .cast::<PyCapsule>()
        .map_err(|_| Import::Type("__arrow_c_stream__ did not return a PyCapsule".into()))?;
    let ptr = capsule
        .pointer_checked(Some(c"arrow_array_stream"))
        .map_err(Import::Python)?;
    // SAFETY: the capsule is named `arrow_array_stream`, so by the PyCapsule protocol it
    // holds an initialised FFI_ArrowArrayStream; `from_raw` moves it out and leaves a
    // released stream behind, which the capsule's destructor then skips.
    #[allow(unsafe_code)]
    let reader =
        unsafe { ArrowArrayStreamReader::from_raw(ptr.cast::<FFI_ArrowArrayStream>().as_ptr()) }
            .map_err(|e| Import::Arrow(e.to_string()))?;
    let schema = reader.schema();
    let mut batches = Vec::new();
    for b in reader {
        batches.push(b.map_err(|e| Import::Arrow(e.to_string()))?);
    }
    Ok(MemoryTable { schema, batches })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(main, m)?)?;
    m.add_function(wrap_pyfunction!(call, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(schema_to_json, m)?)?;
    Ok(())
}
