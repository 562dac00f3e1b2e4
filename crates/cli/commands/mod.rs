pub mod drift;
pub mod infer;
pub mod labels;
pub mod merge;
pub mod profile;
pub mod report;
pub mod skew;
pub mod validate;
