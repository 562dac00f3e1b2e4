pub mod drift;
pub mod merge;
pub mod profile;
pub mod skew;
