//! Issue 12: `preflight report --baseline` passed (exit 0) when nothing at all was
//! compared (no column in common), where `preflight drift` fails unless --allow-empty.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod common;

use common::{run, write};
use tempfile::TempDir;

#[test]
fn report_with_no_column_in_common_fails_unless_allow_empty() {
    let dir = TempDir::new().unwrap();
    let data = write(dir.path(), "data.csv", b"a,b\n1,x\n2,y\n3,z\n");
    let base = write(dir.path(), "base.csv", b"c,d\n1,x\n2,y\n3,z\n");
    let page = dir.path().join("page.html");
    let page = page.to_str().unwrap();

    let r = run(&["report", &data, "--baseline", &base, "-o", page]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let html = std::fs::read_to_string(page).unwrap();
    assert!(
        html.contains("nothing_compared"),
        "the page names the failed check"
    );
    assert!(
        html.contains("no column to compare: nothing was compared (--allow-empty accepts this)")
    );

    let r = run(&[
        "report",
        &data,
        "--baseline",
        &base,
        "-o",
        page,
        "--allow-empty",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = std::fs::read_to_string(page).unwrap();
    assert!(html.contains("no column to compare: nothing was compared"));
    let r = run(&[
        "report",
        &data,
        "--baseline",
        &base,
        "-o",
        page,
        "--allow-empty",
        "--fail-on",
        "warning",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);

    // A column in common: compared, and the one-sided columns stay warnings.
    let base = write(dir.path(), "base2.csv", b"a,d\n1,x\n2,y\n3,z\n");
    let r = run(&["report", &data, "--baseline", &base, "-o", page]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}
