//! Profiles computed on an Apache DataFusion Ballista cluster (`--cluster df://host:port`).
//!
//! The client plans `SELECT preflight_profile(c1..c64), preflight_profile(c65..) ... FROM
//! data` ([`crate::profile::udaf`]) and the cluster runs it: partial aggregates next to the
//! scan on the executors, the final merge in one task, and only the merged states (a few
//! kilobytes per column) come back. The scheduler and the executors must know the
//! function: `preflight cluster scheduler|executor` are Ballista's processes with it
//! registered ([`session_state`] for the scheduler, [`function_registry`] for executors),
//! and with preflight's object stores ([`crate::remote::runtime_env`]).
//!
//! What the cluster cannot read it must not report as data: Ballista plans a path its
//! executors do not see as an empty scan (apache/datafusion-ballista#353). A cluster result
//! with fewer rows than the files' footers hold, or none where the listing had data, is an
//! error ([`check_rows`]).

use std::net::ToSocketAddrs;
use std::sync::Arc;
use std::time::Duration;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::execution::FunctionRegistry;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::{Error, Result};

/// How long the client waits for the scheduler's port to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A session state with preflight's functions and object stores: what the client plans
/// with and what the scheduler decodes the client's plans with.
pub fn session_state(config: SessionConfig) -> datafusion::error::Result<SessionState> {
    let runtime = crate::remote::runtime_env().build_arc()?;
    let mut state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .build();
    // Registered on the built state: the builder's `with_aggregate_functions` would
    // replace the built-in aggregates rather than add to them.
    state.register_udaf(Arc::new(crate::profile::udaf::profile_udaf()))?;
    Ok(state)
}

/// The executors' function registry: DataFusion's built-ins and `preflight_profile`.
pub fn function_registry() -> Arc<ballista_core::registry::BallistaFunctionRegistry> {
    let mut registry = ballista_core::registry::BallistaFunctionRegistry::default();
    let udaf = Arc::new(crate::profile::udaf::profile_udaf());
    registry
        .aggregate_functions
        .insert(udaf.name().to_string(), udaf);
    Arc::new(registry)
}

/// `host:port` of a `df://host:port` URL, checked.
pub fn scheduler_address(url: &str) -> Result<(String, u16)> {
    let bad = || {
        Error::Usage(format!(
            "--cluster {url}: expected df://HOST:PORT (a Ballista scheduler, e.g. df://localhost:50050)"
        ))
    };
    let rest = url.strip_prefix("df://").ok_or_else(bad)?;
    let rest = rest.trim_end_matches('/');
    let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() || port == 0 {
        return Err(bad());
    }
    Ok((host.to_string(), port))
}

/// A client session on the cluster at `url`, after checking within a few seconds that its
/// scheduler answers (Ballista itself would retry for much longer before it fails). Its
/// plans are made with the local profile's configuration
/// ([`crate::source::profile_config`], batches of `batch_size` rows), so that the cluster
/// splits the data into the partitions a local run reads.
pub async fn connect(url: &str, batch_size: usize) -> Result<SessionContext> {
    let (host, port) = scheduler_address(url)?;
    let unreachable = |why: String| {
        Error::Usage(format!(
            "--cluster {url}: cannot reach the Ballista scheduler: {why}"
        ))
    };
    let addrs: Vec<_> = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| unreachable(format!("cannot resolve `{host}`: {e}")))?
        .collect();
    let mut last = String::from("no address");
    let mut reached = false;
    for a in addrs {
        match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(a)).await {
            Ok(Ok(_)) => {
                reached = true;
                break;
            }
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
        }
    }
    if !reached {
        return Err(unreachable(last));
    }
    let config = crate::source::profile_config(
        SessionConfig::new_with_ballista().with_ballista_job_name("preflight"),
        batch_size,
    );
    let state = session_state(config)?;
    Ok(SessionContext::remote_with_state(url, state).await?)
}

/// How long a job may go on after one of the cluster's executors stopped: Ballista runs the
/// lost tasks again elsewhere, or, as measured with Ballista 55, waits for them forever.
const LOST_EXECUTOR_GRACE: Duration = Duration::from_secs(30);

/// Executors the scheduler counts as alive, from its `/readyz` ("ready: 2 executors
/// registered", "not ready: 0/1 executors registered"); `None` if it does not answer.
async fn alive_executors(host: &str, port: u16) -> Option<usize> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ask = async {
        let mut s = tokio::net::TcpStream::connect((host, port)).await.ok()?;
        let request = format!("GET /readyz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        s.write_all(request.as_bytes()).await.ok()?;
        let mut body = String::new();
        s.read_to_string(&mut body).await.ok()?;
        let text = body.split("\r\n\r\n").nth(1)?;
        let count = text
            .split_whitespace()
            .find_map(|w| w.split('/').next()?.parse::<usize>().ok())?;
        Some(count)
    };
    tokio::time::timeout(CONNECT_TIMEOUT, ask)
        .await
        .ok()
        .flatten()
}

/// Run `job` on the cluster at `url` while watching its executors: when fewer are alive
/// than when the job started and the job has not finished [`LOST_EXECUTOR_GRACE`] later,
/// the job is given up with an error rather than waited for without end.
pub async fn watched<T>(url: &str, job: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    watched_for(url, LOST_EXECUTOR_GRACE, job).await
}

/// [`watched`] with the grace period given (tests use a short one).
async fn watched_for<T>(
    url: &str,
    grace: Duration,
    job: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let (host, port) = scheduler_address(url)?;
    let at_start = alive_executors(&host, port).await;
    let mut job = std::pin::pin!(job);
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    let mut lost: Option<(std::time::Instant, usize)> = None;
    loop {
        tokio::select! {
            done = &mut job => return done,
            _ = tick.tick() => {
                let now = alive_executors(&host, port).await;
                if let (Some(before), Some(now)) = (at_start, now)
                    && now < before
                {
                    lost.get_or_insert((std::time::Instant::now(), now));
                }
                if let (Some((since, now)), Some(before)) = (lost, at_start)
                    && since.elapsed() > grace
                {
                    return Err(Error::Usage(format!(
                        "--cluster {url}: an executor stopped during the job ({before} alive at its start, {now} after) and the job did not finish within {} s of it; run it again",
                        grace.as_secs()
                    )));
                }
            }
        }
    }
}

/// A cluster result is data only if it holds every row the inputs are known to have
/// (`known`: the Parquet footers' total), or at least one row when the listing found
/// non-empty files.
pub fn check_rows(url: &str, got: u64, known: Option<u64>, files: usize) -> Result<()> {
    let hint = "the scheduler and every executor must see the input at the same path (a shared mount, or an object store URL)";
    match known {
        Some(k) if got != k => Err(Error::Usage(format!(
            "--cluster {url}: the cluster read {got} rows where the {files} input files hold {k}; {hint}"
        ))),
        None if got == 0 => Err(Error::Usage(format!(
            "--cluster {url}: the cluster read no rows from {files} input files; {hint}"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduler_urls_are_checked() {
        assert_eq!(
            scheduler_address("df://localhost:50050").ok(),
            Some(("localhost".to_string(), 50050))
        );
        for bad in [
            "localhost:50050",
            "df://localhost",
            "df://:50050",
            "df://h:0",
            "df://h:x",
        ] {
            assert!(scheduler_address(bad).is_err(), "{bad}");
        }
    }

    /// A scheduler's `/readyz` on 127.0.0.1 that counts `first` executors on the first
    /// request and `then` on every later one; stopped when dropped (also when a test
    /// fails).
    struct Readyz {
        port: u16,
        stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
        thread: Option<std::thread::JoinHandle<()>>,
    }

    impl Drop for Readyz {
        fn drop(&mut self) {
            self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        }
    }

    fn readyz(first: usize, then: usize) -> Readyz {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut served = 0;
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                let mut s = match listener.accept() {
                    Ok((s, _)) => s,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                };
                let _ = s.set_nonblocking(false);
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
                let n = if served == 0 { first } else { then };
                served += 1;
                let body = if n >= first {
                    format!("ready: {n} executors registered")
                } else {
                    format!("not ready: {n}/{first} executors registered")
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Readyz {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// The watchdog's give-up path, deterministically: an executor is gone from the
    /// second look on, and the job never ends; after the grace period the job is given
    /// up with one line naming both counts.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_that_outlives_a_lost_executor_is_given_up() {
        let lost = readyz(2, 1);
        let url = format!("df://127.0.0.1:{}", lost.port);
        let started = std::time::Instant::now();
        let watch = watched_for(
            &url,
            Duration::from_secs(1),
            std::future::pending::<Result<()>>(),
        );
        let e = tokio::time::timeout(Duration::from_secs(20), watch)
            .await
            .expect("the job was given up within 20 s")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("an executor stopped during the job (2 alive at its start, 1 after)"),
            "{e}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        // No executor lost: the job's own result, however long it takes.
        let steady = readyz(2, 2);
        let url = format!("df://127.0.0.1:{}", steady.port);
        let job = async {
            tokio::time::sleep(Duration::from_millis(2500)).await;
            Ok(7)
        };
        assert_eq!(
            watched_for(&url, Duration::from_secs(1), job)
                .await
                .unwrap(),
            7
        );
    }

    #[test]
    fn short_results_are_refused() {
        assert!(check_rows("df://h:1", 10, Some(10), 2).is_ok());
        assert!(check_rows("df://h:1", 7, None, 2).is_ok());
        let e = check_rows("df://h:1", 0, Some(10), 2)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("read 0 rows where the 2 input files hold 10"),
            "{e}"
        );
        let e = check_rows("df://h:1", 0, None, 3).unwrap_err().to_string();
        assert!(e.contains("no rows from 3 input files"), "{e}");
    }
}
