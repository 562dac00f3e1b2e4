//! How far a long computation has got, for a front end's progress line: the current
//! step's name, the units of it done, and its total. The computation updates it with
//! relaxed atomics; a display thread reads it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Work {
    step: Mutex<&'static str>,
    done: AtomicU64,
    total: AtomicU64,
}

/// What [`Work::now`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub step: &'static str,
    pub done: u64,
    pub total: u64,
}

impl Work {
    /// A new step of `total` units, none done.
    pub fn begin(&self, step: &'static str, total: u64) {
        if let Ok(mut s) = self.step.lock() {
            *s = step;
        }
        self.done.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
    }

    /// `n` more units of the current step done.
    pub fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    pub fn now(&self) -> Progress {
        Progress {
            step: self.step.lock().map_or("", |s| *s),
            done: self.done.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
        }
    }
}

/// `f` of every item on up to `threads` threads, results in the items' order. Items are
/// taken one at a time from a shared counter, so a few large ones do not leave a thread
/// idle; each result depends on its item only, never on the thread count.
pub fn par_map<T, R, F>(items: Vec<T>, threads: usize, f: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.into_iter().map(f).collect();
    }
    let n = items.len();
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let next = AtomicU64::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                        if i >= n {
                            break;
                        }
                        // Each slot is taken once, by the thread that drew its index; a
                        // poisoned lock (a panic elsewhere, resumed below) still holds it.
                        let item = slots[i]
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .take();
                        if let Some(item) = item {
                            out.push((i, f(item)));
                        }
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// The threads [`par_map`] is given by default: the machine's.
pub fn machine_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod par_tests {
    use super::*;

    #[test]
    fn par_map_keeps_order_and_every_item_at_any_thread_count() {
        let items: Vec<u64> = (0..1000).collect();
        let want: Vec<u64> = items.iter().map(|x| x * x + 1).collect();
        for threads in [0, 1, 2, 3, 8, 2000] {
            assert_eq!(
                par_map(items.clone(), threads, |x| x * x + 1),
                want,
                "{threads}"
            );
        }
        assert!(par_map(Vec::<u64>::new(), 4, |x| x).is_empty());
    }
}
