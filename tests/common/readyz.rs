//! Waiting for a Ballista scheduler started by a test or a benchmark (also included by
//! `benches/cluster.rs` by its path).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Wait until the scheduler on 127.0.0.1:`port` answers `GET /readyz` with 200: its
/// `--min-executors` executors registered.
pub fn wait_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = write!(
                s,
                "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            );
            let mut body = String::new();
            let _ = s.read_to_string(&mut body);
            if body.starts_with("HTTP/1.1 200") {
                return;
            }
            last = body;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the cluster did not become ready: {last}");
}
