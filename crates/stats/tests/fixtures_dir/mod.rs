//! The repository's `fixtures/` (real tables with provenance), for this crate's tests.

/// The path of fixture `name` as text.
pub fn fixture(name: &str) -> String {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}
