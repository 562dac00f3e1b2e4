//! The profile aggregate on a real Ballista cluster inside the test process
//! (`SessionContext::standalone_with_state`: a scheduler and an executor on localhost
//! ports, plans sent as protobuf, partial states through Arrow Flight): the same
//! statistics as the local tuned scan, on real tables.
#![cfg(feature = "cluster")]
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod fixtures_dir;

use fixtures_dir::fixture;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::prelude::{SessionConfig, SessionContext};
use preflight_stats::source::{Dataset, SourceOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standalone_cluster_profiles_as_the_local_scan_does() {
    // Three files, so that the cluster merges partial states.
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<String> = (0..3)
        .map(|i| {
            let p = dir.path().join(format!("part-{i}.parquet"));
            std::fs::copy(fixture("nycflights13_flights.parquet"), &p).unwrap();
            p.to_string_lossy().into_owned()
        })
        .collect();
    let mut ds = Dataset::open(&paths, &SourceOptions::default())
        .await
        .unwrap();
    let config = ds.plan_config(SessionConfig::new_with_ballista());
    let state = preflight_stats::cluster::session_state(config).unwrap();
    let ctx = SessionContext::standalone_with_state(state).await.unwrap();
    let on_cluster = ds.profile_in(&ctx).await.unwrap();
    let local = ds.profile(Arc::new(AtomicU64::new(0))).await.unwrap();
    assert_eq!(on_cluster.row_count, 3 * 336_776);
    let json = |p: &preflight_stats::profile::Profile| serde_json::to_value(p).unwrap();
    // Planned with the local profile's configuration: the same partitions, merged in the
    // same order, so the same bits.
    assert_eq!(json(&local), json(&on_cluster));
    // Twice on the cluster: the same bits.
    let again = ds.profile_in(&ctx).await.unwrap();
    assert_eq!(json(&on_cluster), json(&again));
}
