pub mod labels;
pub mod merge;
pub mod profile;
