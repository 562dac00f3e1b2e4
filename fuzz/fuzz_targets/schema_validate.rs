//! A schema file (`validate -s`; it may come from a pull request): any text is either
//! refused with an error or validates a fixed small profile (penguins, with nulls and
//! strings) without a panic.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use preflight_schema::Schema;
use preflight_stats::profile::Profile;

static PROFILE: LazyLock<Profile> = LazyLock::new(|| {
    Profile::from_json(
        include_bytes!("../seeds/penguins.profile.json"),
        Path::new("penguins.profile.json"),
    )
    .unwrap_or_else(|e| panic!("seed profile: {e}"))
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(schema) = Schema::parse(text, Path::new("fuzz.schema.yaml")) else {
        return;
    };
    for env in [None, Some("training"), Some("serving")] {
        let v = preflight_schema::validate::validate(&schema, &PROFILE, env);
        let _ = v.anomalies();
    }
    let _ = schema.to_yaml();
});
