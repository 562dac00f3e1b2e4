//! Column names and types of each input file, and the dataset's columns merged from them
//! by name.
//!
//! DataFusion infers one schema for a listing of files and reads CSV columns by position,
//! so files whose headers differ in order were stacked column by column (prices under
//! `weight`), and files past the first thousand rows were never looked at. Here every
//! file is inferred on its own (CSV and NDJSON from their first rows, Parquet and Arrow
//! from their footers) and the dataset's columns are the union of the files' columns, in
//! first-seen order, each with a type every file's values fit.
//!
//! CSV types follow arrow-csv's inference (the same patterns, so the same types), with
//! two corrections: `Infinity`, `INF` and the like are floats, and a date or timestamp
//! that does not exist (`2024-02-31`, `25:00:00`) makes its column text, as any other
//! value that does not fit would.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::StringArray;
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::error::{Error, Result};
use crate::precheck::open_text;
use crate::profile::type_name;
use crate::source::{Compression, Format};

/// How a CSV file is written.
pub(crate) struct CsvDialect<'a> {
    pub delimiter: u8,
    pub quote: u8,
    pub escape: Option<u8>,
    pub has_header: bool,
    /// Cell texts that mean missing, besides the empty cell.
    pub nulls: &'a [String],
}

/// The inference classes of arrow-csv, as bit positions.
const BOOL: u16 = 0;
const INT: u16 = 1;
const FLOAT: u16 = 2;
const DATE: u16 = 3;
const TS_S: u16 = 4;
const TS_MS: u16 = 5;
const TS_US: u16 = 6;
const TS_NS: u16 = 7;
const TEXT: u16 = 8;

/// Dates and timestamps are checked in batches of this many values.
const TEMPORAL_BATCH: usize = 1024;

#[derive(Default)]
struct Inferred {
    packed: u16,
    /// Temporal values not yet checked for existence.
    pending: Vec<String>,
}

impl Inferred {
    fn get(&self) -> DataType {
        match self.packed {
            0 => DataType::Null,
            1 => DataType::Boolean,
            2 => DataType::Int64,
            4 | 6 => DataType::Float64,
            b if b != 0 && (b & !0b1111_1000) == 0 => match b.leading_zeros() {
                8 => DataType::Timestamp(TimeUnit::Nanosecond, None),
                9 => DataType::Timestamp(TimeUnit::Microsecond, None),
                10 => DataType::Timestamp(TimeUnit::Millisecond, None),
                11 => DataType::Timestamp(TimeUnit::Second, None),
                _ => DataType::Date32,
            },
            _ => DataType::Utf8,
        }
    }

    fn update(&mut self, s: &str) {
        if self.packed & (1 << TEXT) != 0 {
            return; // text absorbs everything
        }
        let class = classify(s);
        self.packed |= 1 << class;
        if (DATE..=TS_NS).contains(&class) {
            self.pending.push(s.to_string());
            if self.pending.len() >= TEMPORAL_BATCH {
                self.check_temporal();
            }
        }
    }

    /// A value that looks like a date but does not exist would fail the read: the column
    /// is text. Checking against the widest type seen so far is enough: a value valid as
    /// a date or a coarser timestamp is valid as a finer one.
    fn check_temporal(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let target = self.get();
        if matches!(target, DataType::Date32 | DataType::Timestamp(..)) {
            let values = StringArray::from(std::mem::take(&mut self.pending));
            let strict = CastOptions {
                safe: false,
                ..CastOptions::default()
            };
            if cast_with_options(&values, &target, &strict).is_err() {
                self.packed |= 1 << TEXT;
            }
        }
        self.pending.clear();
    }
}

/// The arrow-csv class of a cell, by the same patterns as its regular expressions
/// (ASCII digits only: a value arrow would call a number but could not cast is text).
fn classify(s: &str) -> u16 {
    let b = s.as_bytes();
    if b.first() == Some(&b'"') {
        return TEXT;
    }
    if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") {
        return BOOL;
    }
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
        return if b.len() >= 19 && s.parse::<i64>().is_err() {
            TEXT // beyond i64
        } else {
            INT
        };
    }
    if is_decimal(digits) || is_special_float(s) {
        return FLOAT;
    }
    temporal_class(b).unwrap_or(TEXT)
}

/// `(\d*\.\d+|\d+\.\d*)([eE][-+]?\d+)?|\d+([eE][-+]?\d+)`
fn is_decimal(b: &[u8]) -> bool {
    let int = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = int;
    let mut frac = 0;
    let dot = b.get(i) == Some(&b'.');
    if dot {
        i += 1;
        frac = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac;
    }
    let mut exponent = false;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let n = b[j.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if n == 0 {
            return false;
        }
        exponent = true;
        i = j + n;
    }
    i == b.len()
        && if dot {
            int + frac > 0
        } else {
            int > 0 && exponent
        }
}

/// Infinities and NaN as spreadsheets, R, numpy and Java write them. The cast to float
/// reads all of these.
fn is_special_float(s: &str) -> bool {
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    ["inf", "infinity", "nan"]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
}

/// `\d{4}-\d\d-\d\d` alone (a date), or followed by `[T ]\d\d:\d\d:\d\d` and an optional
/// fraction whose digits give the unit.
fn temporal_class(b: &[u8]) -> Option<u16> {
    let d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let date = (0..4).all(d) && b.get(4) == Some(&b'-') && d(5) && d(6);
    if !(date && b.get(7) == Some(&b'-') && d(8) && d(9)) {
        return None;
    }
    if b.len() == 10 {
        return Some(DATE);
    }
    let time = matches!(b.get(10), Some(b'T' | b' '))
        && d(11)
        && d(12)
        && b.get(13) == Some(&b':')
        && d(14)
        && d(15)
        && b.get(16) == Some(&b':')
        && d(17)
        && d(18);
    if !time {
        return None;
    }
    match b.get(19) {
        None => Some(TS_S),
        Some(b'.') => {
            let n = b[20..].iter().take_while(|c| c.is_ascii_digit()).count();
            match n {
                1..=3 => Some(TS_MS),
                4..=6 => Some(TS_US),
                7..=9 => Some(TS_NS),
                _ => None,
            }
        }
        Some(c) if !c.is_ascii_digit() => Some(TS_S),
        Some(_) => None,
    }
}

/// Column names and types of one CSV file, from its header and its first `max_rows`
/// records. Errors name the line: a ragged record, invalid UTF-8.
pub(crate) fn csv_schema(
    path: &Path,
    compression: Compression,
    dialect: &CsvDialect,
    max_rows: usize,
) -> Result<Schema> {
    let reader = open_text(path, compression)?;
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(dialect.has_header)
        .delimiter(dialect.delimiter)
        .quote(dialect.quote)
        .escape(dialect.escape)
        .double_quote(true)
        .flexible(false)
        .from_reader(reader);
    let err = |e: csv::Error| csv_error(path, e);
    let names: Vec<String> = if dialect.has_header {
        let header = csv.byte_headers().map_err(err)?.clone();
        header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                String::from_utf8(h.to_vec()).map_err(|_| {
                    Error::input(
                        path,
                        format!("invalid UTF-8 at line 1 (the header, column {})", i + 1),
                    )
                })
            })
            .collect::<Result<_>>()?
    } else {
        let n = csv.byte_headers().map_err(err)?.len();
        (1..=n).map(|i| format!("column_{i}")).collect()
    };
    let mut types: Vec<Inferred> = (0..names.len()).map(|_| Inferred::default()).collect();
    let mut record = csv::ByteRecord::new();
    let mut rows = 0usize;
    while rows < max_rows && csv.read_byte_record(&mut record).map_err(err)? {
        rows += 1;
        for (i, (cell, t)) in record.iter().zip(&mut types).enumerate() {
            let Ok(s) = std::str::from_utf8(cell) else {
                let line = record.position().map_or(0, csv::Position::line);
                return Err(Error::input(
                    path,
                    format!("invalid UTF-8 at line {line}, column {}", i + 1),
                ));
            };
            if !s.is_empty() && !dialect.nulls.iter().any(|n| n == s) {
                t.update(s);
            }
        }
    }
    let fields: Vec<Field> = names
        .iter()
        .zip(&mut types)
        .map(|(n, t)| {
            t.check_temporal();
            Field::new(n, t.get(), true)
        })
        .collect();
    Ok(Schema::new(fields))
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => format!(
            "incorrect number of fields for line {}, expected {expected_len} got {len}",
            pos.as_ref().map_or(0, csv::Position::line)
        ),
        csv::ErrorKind::Utf8 { pos, err } => format!(
            "invalid UTF-8 at line {}, column {}",
            pos.as_ref().map_or(0, csv::Position::line),
            err.field() + 1
        ),
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => e.to_string(),
    };
    Error::input(path, message).caused_by(e)
}

/// Top-level keys of one NDJSON file's first `max_records` records, in the order they
/// first appear. Fails on the first line that is not a JSON object, naming it: records
/// are lines, so an unfinished record is reported where it is, not where the parser
/// gave up.
pub(crate) fn json_keys(
    path: &Path,
    compression: Compression,
    max_records: usize,
) -> Result<Vec<String>> {
    let mut reader = BufReader::new(open_text(path, compression)?);
    let mut order = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut text = String::new();
    let mut line = 0u64;
    let mut records = 0usize;
    while records < max_records {
        text.clear();
        line += 1;
        match reader.read_line(&mut text) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(
                    Error::input(path, format!("invalid UTF-8 at line {line}")).caused_by(e)
                );
            }
            Err(e) => return Err(Error::input(path, e.to_string()).caused_by(e)),
        }
        if text.trim().is_empty() {
            continue;
        }
        records += 1;
        match serde_json::from_str::<Keys>(&text) {
            Ok(Keys(keys)) => {
                for k in keys {
                    if seen.insert(k.clone()) {
                        order.push(k);
                    }
                }
            }
            Err(e) => {
                let what = e.to_string();
                let what = what.split(" at line ").next().unwrap_or(&what).to_string();
                let what = if e.is_eof() || e.is_syntax() {
                    format!("not valid JSON ({what})")
                } else {
                    what
                };
                return Err(Error::input(
                    path,
                    format!("{what}, at line {line} column {}", e.column()),
                ));
            }
        }
    }
    Ok(order)
}

/// The keys of a JSON object, values skipped.
struct Keys(Vec<String>);

impl<'de> serde::Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object (one record per line)")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    keys.push(k);
                }
                Ok(Keys(keys))
            }
        }
        d.deserialize_map(V)
    }
}

/// Column names and types of one NDJSON file from its first `max_records` records, in
/// the file's key order.
pub(crate) fn json_schema(
    path: &Path,
    compression: Compression,
    max_records: usize,
) -> Result<Schema> {
    let order = json_keys(path, compression, max_records)?;
    let reader = BufReader::new(open_text(path, compression)?);
    let (schema, _) = match arrow::json::reader::infer_json_schema(reader, Some(max_records)) {
        Ok(inferred) => inferred,
        Err(e) => {
            // arrow-json names neither line of a key that changes type: find them.
            crate::precheck::ndjson_kinds(path, compression)?;
            return Err(Error::input(path, e.to_string()).caused_by(e));
        }
    };
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    let rank: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    fields.sort_by_key(|f| rank.get(f.name().as_str()).copied().unwrap_or(usize::MAX));
    Ok(Schema::new(fields))
}

/// The dataset's columns merged from its files' columns.
pub(crate) struct Merged {
    pub schema: SchemaRef,
    /// Per column of `schema`: indexes of the files that lack it.
    pub absent: Vec<Vec<usize>>,
}

/// Merge the files' columns by name, in first-seen order. A column forced with `--type`
/// takes that type whatever the files say. Otherwise types widen where no value changes
/// (integers to wider integers or to floats, dates to timestamps); text formats fall back
/// to text, as within one file; anything else in Parquet or Arrow is a conflict naming
/// both files.
pub(crate) fn merge(
    format: Format,
    files: &[PathBuf],
    schemas: &[SchemaRef],
    forced: &[(String, DataType)],
) -> Result<Merged> {
    let mut fields: Vec<Field> = Vec::new();
    let mut first_in: Vec<usize> = Vec::new();
    let mut present: Vec<Vec<bool>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (fi, schema) in schemas.iter().enumerate() {
        for f in schema.fields() {
            let Some(&ci) = index.get(f.name()) else {
                index.insert(f.name().clone(), fields.len());
                fields.push(f.as_ref().clone());
                first_in.push(fi);
                let mut p = vec![false; schemas.len()];
                p[fi] = true;
                present.push(p);
                continue;
            };
            present[ci][fi] = true;
            if f.is_nullable() {
                fields[ci].set_nullable(true);
            }
            let have = fields[ci].data_type();
            if have == f.data_type() || forced.iter().any(|(n, _)| n == f.name()) {
                continue;
            }
            match widen(format, have, f.data_type()) {
                Some(t) => fields[ci] = Field::new(f.name(), t, true),
                None => {
                    return Err(Error::input(
                        &files[fi],
                        format!(
                            "column `{}` is {} here but {} in {}; give --type {}=<type> to read it as one type",
                            f.name(),
                            type_name(f.data_type()),
                            type_name(have),
                            files[first_in[ci]].display(),
                            f.name()
                        ),
                    ));
                }
            }
        }
    }
    // A column some files lack is null in their rows.
    for (f, p) in fields.iter_mut().zip(&present) {
        if p.contains(&false) {
            f.set_nullable(true);
        }
    }
    let absent = present
        .iter()
        .map(|p| {
            p.iter()
                .enumerate()
                .filter(|(_, here)| !**here)
                .map(|(i, _)| i)
                .collect()
        })
        .collect();
    Ok(Merged {
        schema: Arc::new(Schema::new(fields)),
        absent,
    })
}

/// A type both `a` and `b` values fit without loss, if there is one.
fn widen(format: Format, a: &DataType, b: &DataType) -> Option<DataType> {
    use DataType as T;
    if a == b {
        return Some(a.clone());
    }
    match (a, b) {
        (T::Null, t) | (t, T::Null) => return Some(t.clone()),
        _ => {}
    }
    if let Some(t) = widen_numeric(a, b) {
        return Some(t);
    }
    let text = |t: &T| matches!(t, T::Utf8 | T::LargeUtf8 | T::Utf8View);
    if text(a) && text(b) {
        return Some(if matches!(a, T::Utf8View) || matches!(b, T::Utf8View) {
            T::Utf8View
        } else {
            T::LargeUtf8
        });
    }
    match (a, b) {
        (T::Timestamp(u1, z1), T::Timestamp(u2, z2)) if z1 == z2 => {
            return Some(T::Timestamp(finer(*u1, *u2), z1.clone()));
        }
        (T::Date32, T::Timestamp(u, z)) | (T::Timestamp(u, z), T::Date32) => {
            return Some(T::Timestamp(*u, z.clone()));
        }
        _ => {}
    }
    // CSV values are text before they are typed: a column whose files disagree is text,
    // as a column whose rows disagree is.
    (format == Format::Csv).then_some(T::Utf8)
}

fn finer(a: TimeUnit, b: TimeUnit) -> TimeUnit {
    let rank = |u: TimeUnit| match u {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 1,
        TimeUnit::Microsecond => 2,
        TimeUnit::Nanosecond => 3,
    };
    if rank(a) >= rank(b) { a } else { b }
}

/// Integers widen to the wider integer (signed if either is, when that holds both), and
/// integers and floats to `Float64`.
fn widen_numeric(a: &DataType, b: &DataType) -> Option<DataType> {
    use DataType as T;
    let int = |t: &T| -> Option<(bool, u8)> {
        Some(match t {
            T::Int8 => (true, 8),
            T::Int16 => (true, 16),
            T::Int32 => (true, 32),
            T::Int64 => (true, 64),
            T::UInt8 => (false, 8),
            T::UInt16 => (false, 16),
            T::UInt32 => (false, 32),
            T::UInt64 => (false, 64),
            _ => return None,
        })
    };
    let float = |t: &T| matches!(t, T::Float16 | T::Float32 | T::Float64);
    match (int(a), int(b)) {
        (Some((sa, wa)), Some((sb, wb))) => {
            let (signed, width) = if sa == sb {
                (sa, wa.max(wb))
            } else {
                let unsigned = if sa { wb } else { wa };
                let signed = if sa { wa } else { wb };
                if unsigned >= 64 {
                    return None;
                }
                (true, signed.max(unsigned * 2))
            };
            Some(match (signed, width) {
                (true, 8) => T::Int8,
                (true, 16) => T::Int16,
                (true, 32) => T::Int32,
                (true, _) => T::Int64,
                (false, 8) => T::UInt8,
                (false, 16) => T::UInt16,
                (false, 32) => T::UInt32,
                (false, _) => T::UInt64,
            })
        }
        _ if (int(a).is_some() || float(a)) && (int(b).is_some() || float(b)) => Some(T::Float64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_match_arrow_csv_patterns() {
        for (s, c) in [
            ("true", BOOL),
            ("False", BOOL),
            ("12", INT),
            ("-12", INT),
            ("99999999999999999999", TEXT),
            ("1.5", FLOAT),
            (".5", FLOAT),
            ("5.", FLOAT),
            ("-1e5", FLOAT),
            ("1.5E-3", FLOAT),
            ("e5", TEXT),
            (".", TEXT),
            ("1e", TEXT),
            ("NaN", FLOAT),
            ("inf", FLOAT),
            ("-inf", FLOAT),
            ("Infinity", FLOAT),
            ("-Infinity", FLOAT),
            ("INF", FLOAT),
            ("2024-01-31", DATE),
            ("2024-01-31 10:00:00", TS_S),
            ("2024-01-31T10:00:00Z", TS_S),
            ("2024-01-31T10:00:00.123", TS_MS),
            ("2024-01-31T10:00:00.1234", TS_US),
            ("2024-01-31T10:00:00.123456789", TS_NS),
            ("2024-01-31T10:00:00.1234567891", TEXT),
            ("2024-1-31", TEXT),
            ("abc", TEXT),
        ] {
            assert_eq!(classify(s), c, "{s}");
        }
    }

    #[test]
    fn an_impossible_date_makes_the_column_text() {
        let mut t = Inferred::default();
        t.update("2024-02-28");
        t.check_temporal();
        assert_eq!(t.get(), DataType::Date32);
        t.update("2024-02-31");
        t.check_temporal();
        assert_eq!(t.get(), DataType::Utf8);
        let mut t = Inferred::default();
        t.update("2024-02-28 25:00:00");
        t.check_temporal();
        assert_eq!(t.get(), DataType::Utf8);
    }

    #[test]
    fn special_floats_cast_as_floats() {
        let values = StringArray::from(vec!["Infinity", "-Infinity", "INF", "inf", "+inf", "NaN"]);
        let strict = CastOptions {
            safe: false,
            ..CastOptions::default()
        };
        let out = cast_with_options(&values, &DataType::Float64, &strict).unwrap();
        let out = out
            .as_any()
            .downcast_ref::<arrow::array::Float64Array>()
            .unwrap();
        assert!(out.value(0).is_infinite() && out.value(0) > 0.0);
        assert!(out.value(1).is_infinite() && out.value(1) < 0.0);
        assert!(out.value(5).is_nan());
    }

    #[test]
    fn widening_rules() {
        use DataType as T;
        assert_eq!(widen(Format::Parquet, &T::Int32, &T::Int64), Some(T::Int64));
        assert_eq!(
            widen(Format::Parquet, &T::Int64, &T::Float64),
            Some(T::Float64)
        );
        assert_eq!(
            widen(Format::Parquet, &T::UInt32, &T::Int32),
            Some(T::Int64)
        );
        assert_eq!(widen(Format::Parquet, &T::UInt64, &T::Int64), None);
        assert_eq!(widen(Format::Parquet, &T::Utf8, &T::Int64), None);
        assert_eq!(widen(Format::Csv, &T::Utf8, &T::Int64), Some(T::Utf8));
        assert_eq!(widen(Format::Csv, &T::Boolean, &T::Int64), Some(T::Utf8));
    }
}
