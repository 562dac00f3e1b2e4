pub mod merge;
pub mod profile;
