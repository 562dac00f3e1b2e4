#!/usr/bin/env bash
# Lists every dependency that `cargo run` (the binary) or maturin (the Python wheel) would
# build with other features than `cargo test --workspace` does: each one is a second build
# of that crate and of everything above it (DataFusion, when it is serde, ahash or arrow).
# Prints nothing but two counts of 0 when the builds share everything. Needs nightly cargo
# (for --unit-graph); reads no network.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
graph() { cargo +nightly "$@" --unit-graph -Z unstable-options 2>/dev/null; }
graph test --workspace --no-run >"$dir/test.json"
graph rustc --manifest-path crates/python/Cargo.toml --lib >"$dir/wheel.json"
graph build --bin preflight >"$dir/bin.json"
python3 - "$dir" <<'PY'
import json, sys
def units(path):
    out = {}
    for u in json.load(open(path))["units"]:
        if u["mode"] in ("build", "run-custom-build"):
            key = (u["pkg_id"], u["target"]["name"], u["mode"])
            out.setdefault(key, set()).add(tuple(sorted(u["features"])))
    return out
test = units(f"{sys.argv[1]}/test.json")
bad = 0
for name in ("wheel", "bin"):
    other = units(f"{sys.argv[1]}/{name}.json")
    diff = [(k, other[k], test[k]) for k in other if k in test and not other[k] & test[k]]
    print(f"{name}: {len(diff)} dependency builds differ from the test build")
    for (pkg, target, _), mine, theirs in diff:
        print(f"  {pkg.split('#')[-1]} ({target}): {sorted(mine)} vs the tests' {sorted(theirs)}")
    bad += len(diff)
sys.exit(1 if bad else 0)
PY
