//! A progress line on stderr for inputs that take more than a second, and only when
//! stderr is a terminal: pipes and CI logs stay clean.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct Progress {
    done: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Progress {
    /// Start watching `rows`; shows nothing for the first second.
    pub fn start(what: String, rows: Arc<AtomicU64>) -> Self {
        Self::show(what, Some(rows))
    }

    /// A step whose size is not known in advance (the label audit's model, a join): its
    /// name and the time so far, after the first second.
    pub fn spinner(what: String) -> Self {
        Self::show(what, None)
    }

    fn show(what: String, rows: Option<Arc<AtomicU64>>) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        if crate::ui::quiet() || !std::io::stderr().is_terminal() {
            return Self { done, handle: None };
        }
        let flag = done.clone();
        let handle = std::thread::spawn(move || {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(1) {
                if flag.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            while !flag.load(Ordering::Relaxed) {
                match &rows {
                    Some(rows) => {
                        let n = rows.load(Ordering::Relaxed);
                        bar.set_message(message(&what, n, start.elapsed()));
                    }
                    None => bar.set_message(what.clone()),
                }
                bar.tick();
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        Self {
            done,
            handle: Some(handle),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// `profiling x.csv: 1,234,567 rows (412,345 rows/s)`: the rows so far, grouped, and the
/// rate since the start.
fn message(what: &str, rows: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        format!(
            " ({} rows/s)",
            crate::render::number::count((rows as f64 / secs) as u64)
        )
    } else {
        String::new()
    };
    format!("{what}: {} rows{rate}", crate::render::number::count(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_rows_and_rate() {
        assert_eq!(
            message("profiling x.csv", 1_234_567, Duration::from_secs(2)),
            "profiling x.csv: 1,234,567 rows (617,283 rows/s)"
        );
        assert_eq!(message("p", 0, Duration::ZERO), "p: 0 rows");
    }
}
