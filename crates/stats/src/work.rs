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
