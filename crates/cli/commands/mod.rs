pub mod infer;
pub mod merge;
pub mod profile;
pub mod validate;
