//! Type names as `preflight profile` prints them, grouped into families for validation.

use preflight_stats::profile::Kind;

/// The family of a type name (`int64` -> Integer, `timestamp[us, tz=UTC]` -> Timestamp).
pub fn family(type_name: &str) -> Option<Kind> {
    let t = type_name.trim().to_ascii_lowercase();
    let starts = |p: &str| t.starts_with(p);
    let integer = [
        "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "integer",
    ];
    Some(if integer.contains(&t.as_str()) {
        Kind::Integer
    } else if matches!(
        t.as_str(),
        "halffloat" | "float" | "double" | "float16" | "float32" | "float64"
    ) {
        Kind::Float
    } else if starts("decimal") {
        Kind::Decimal
    } else if matches!(
        t.as_str(),
        "string" | "large_string" | "utf8" | "large_utf8" | "string_view"
    ) {
        Kind::String
    } else if matches!(t.as_str(), "bool" | "boolean") {
        Kind::Boolean
    } else if starts("date") {
        Kind::Date
    } else if starts("timestamp") {
        Kind::Timestamp
    } else if starts("time") {
        Kind::Time
    } else if starts("duration") {
        Kind::Duration
    } else if starts("binary") || starts("large_binary") || starts("fixed_size_binary") {
        Kind::Binary
    } else if starts("list") || starts("large_list") || starts("fixed_size_list") {
        Kind::List
    } else if starts("struct") || starts("map") {
        Kind::Struct
    } else if t == "null" {
        Kind::Null
    } else {
        return None;
    })
}

/// Whether data of `observed` type satisfies a schema expecting `expected`: the same
/// family, or a lossless widening (integers where floats or decimals are expected,
/// decimals where floats are). A column with no values at all (Null) is reported as
/// all-null, not as a type mismatch.
pub fn compatible(expected: Kind, observed: Kind) -> bool {
    expected == observed
        || observed == Kind::Null
        || matches!(
            (expected, observed),
            (Kind::Float, Kind::Integer | Kind::Decimal) | (Kind::Decimal, Kind::Integer)
        )
}

/// The family's plain name, for messages.
pub fn family_name(k: Kind) -> &'static str {
    match k {
        Kind::Integer => "integer",
        Kind::Float => "float",
        Kind::Decimal => "decimal",
        Kind::Date => "date",
        Kind::Timestamp => "timestamp",
        Kind::Time => "time",
        Kind::Duration => "duration",
        Kind::String => "string",
        Kind::Boolean => "bool",
        Kind::Binary => "binary",
        Kind::List => "list",
        Kind::Struct => "struct",
        Kind::Null => "null",
        Kind::Other => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_widening() {
        assert_eq!(family("int64"), Some(Kind::Integer));
        assert_eq!(family("timestamp[us, tz=UTC]"), Some(Kind::Timestamp));
        assert_eq!(family("time64[us]"), Some(Kind::Time));
        assert_eq!(family("date32[day]"), Some(Kind::Date));
        assert_eq!(family("decimal128(10, 2)"), Some(Kind::Decimal));
        assert_eq!(family("list<int64>"), Some(Kind::List));
        assert_eq!(family("integr"), None);
        assert!(compatible(Kind::Float, Kind::Integer));
        assert!(!compatible(Kind::Integer, Kind::Float));
        assert!(!compatible(Kind::Integer, Kind::String));
        assert!(compatible(Kind::String, Kind::Null));
    }
}
