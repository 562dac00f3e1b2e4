//! A stored profile (`preflight merge`, `drift`, `infer` read them): any bytes either are
//! refused with an error or give a profile that summarises, merges with itself (or
//! refuses to, on overflow) and serialises, without a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use preflight_stats::profile::Profile;

fuzz_target!(|data: &[u8]| {
    let Ok(profile) = Profile::from_json(data, Path::new("fuzz.profile.json")) else {
        return;
    };
    let _ = serde_json::to_vec(&profile);
    let both = [
        ("a.profile.json".to_string(), profile.clone()),
        ("b.profile.json".to_string(), profile),
    ];
    if let Ok(merged) = Profile::merge_all(&both)
        && let Ok(bytes) = serde_json::to_vec(&merged)
    {
        // What merge writes reads back.
        assert!(Profile::from_json(&bytes, Path::new("merged.profile.json")).is_ok());
    }
});
