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

/// What a progress line counts.
enum Count {
    /// Rows read so far, of a total when the inputs tell it.
    Rows(Arc<AtomicU64>, Option<u64>),
    /// Steps of known size (the label audit's model): done of total, with an ETA.
    Steps(Arc<preflight_stats::work::Work>),
    /// Nothing: a spinner with the time so far.
    Nothing,
}

impl Progress {
    /// Start watching `rows`; shows nothing for the first second.
    pub fn start(what: String, rows: Arc<AtomicU64>, total: Option<u64>) -> Self {
        Self::show(what, Count::Rows(rows, total))
    }

    /// Work whose size is not known in advance (a join): its name and the time so far,
    /// after the first second.
    pub fn spinner(what: String) -> Self {
        Self::show(what, Count::Nothing)
    }

    /// Work in steps of known size (the label audit's model): the step, how much of it is
    /// done, and an estimate of the time it has left.
    pub fn steps(what: String, work: Arc<preflight_stats::work::Work>) -> Self {
        Self::show(what, Count::Steps(work))
    }

    fn show(what: String, count: Count) -> Self {
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
            // When the current step began, as first seen.
            let mut step = ("", 0, Instant::now());
            while !flag.load(Ordering::Relaxed) {
                match &count {
                    Count::Rows(rows, total) => {
                        let n = rows.load(Ordering::Relaxed);
                        bar.set_message(message(&what, n, *total, start.elapsed()));
                    }
                    Count::Steps(work) => {
                        let now = work.now();
                        if now.step != step.0 || now.done < step.1 {
                            step = (now.step, now.done, Instant::now());
                        }
                        step.1 = now.done;
                        bar.set_message(steps_message(&what, now, step.2.elapsed()));
                    }
                    Count::Nothing => bar.set_message(what.clone()),
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
/// rate since the start; with a known total, `1,234,567 of 3,000,000 rows (412,345 rows/s,
/// ETA 5 s)`.
fn message(what: &str, rows: u64, total: Option<u64>, elapsed: Duration) -> String {
    use crate::render::number::count;
    let secs = elapsed.as_secs_f64();
    let rate = rows as f64 / secs;
    let mut extra = Vec::new();
    if secs > 0.0 {
        extra.push(format!("{} rows/s", count(rate as u64)));
    }
    let of = match total {
        Some(t) => {
            if rows > 0 && rows < t && rate > 0.0 {
                extra.push(format!("ETA {}", eta((t - rows) as f64 / rate)));
            }
            format!(" of {}", count(t))
        }
        None => String::new(),
    };
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(" ({})", extra.join(", "))
    };
    format!("{what}: {}{of} rows{extra}", count(rows))
}

/// `auditing x.csv: nearest neighbours 1,200 of 20,000 (ETA 41 s)`: the step, how much of
/// it is done, and the time left at the rate so far in this step.
fn steps_message(what: &str, now: preflight_stats::work::Progress, in_step: Duration) -> String {
    use crate::render::number::count;
    if now.step.is_empty() {
        return what.to_string();
    }
    let mut out = format!(
        "{what}: {} {} of {}",
        now.step,
        count(now.done),
        count(now.total)
    );
    if now.done > 0 && now.done < now.total {
        let left = in_step.as_secs_f64() * (now.total - now.done) as f64 / now.done as f64;
        out.push_str(&format!(" (ETA {})", eta(left)));
    }
    out
}

fn eta(secs: f64) -> String {
    let s = secs.ceil() as u64;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min {} s", s / 60, s % 60)
    } else {
        format!("{} h {} min", s / 3600, s % 3600 / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steps_line_says_the_step_its_share_and_the_time_left() {
        use preflight_stats::work::Progress as Now;
        let now = |done, total| Now {
            step: "nearest neighbours",
            done,
            total,
        };
        assert_eq!(
            steps_message("auditing x.csv", now(1_200, 20_000), Duration::from_secs(3)),
            "auditing x.csv: nearest neighbours 1,200 of 20,000 (ETA 47 s)"
        );
        assert_eq!(
            steps_message("a", now(1, 5), Duration::from_secs(100)),
            "a: nearest neighbours 1 of 5 (ETA 6 min 40 s)"
        );
        // Nothing done yet, or all done: no estimate; no step yet: the name alone.
        assert_eq!(
            steps_message("a", now(0, 5), Duration::from_secs(1)),
            "a: nearest neighbours 0 of 5"
        );
        assert_eq!(
            steps_message("a", now(5, 5), Duration::from_secs(1)),
            "a: nearest neighbours 5 of 5"
        );
        let none = Now {
            step: "",
            done: 0,
            total: 0,
        };
        assert_eq!(steps_message("a", none, Duration::ZERO), "a");
    }

    #[test]
    fn the_line_says_rows_and_rate() {
        assert_eq!(
            message("profiling x.csv", 1_234_567, None, Duration::from_secs(2)),
            "profiling x.csv: 1,234,567 rows (617,283 rows/s)"
        );
        assert_eq!(message("p", 0, None, Duration::ZERO), "p: 0 rows");
        assert_eq!(
            message("p", 1_000_000, Some(3_000_000), Duration::from_secs(2)),
            "p: 1,000,000 of 3,000,000 rows (500,000 rows/s, ETA 4 s)"
        );
        assert_eq!(message("p", 0, Some(10), Duration::ZERO), "p: 0 of 10 rows");
    }
}
