//! Checks on input files that DataFusion would get wrong, or panic on, if left to it:
//! corrupt Parquet footers, duplicate CSV header names, and (on the error path only)
//! locating the CSV cell that does not fit its column's type.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use arrow::array::{Array, AsArray, StringArray};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Schema};
use arrow::record_batch::RecordBatch;
use parquet::file::metadata::ParquetMetaDataReader;

use crate::error::{Error, Result};
use crate::profile::type_name;
use crate::source::Compression;

/// Validate a Parquet file's magic bytes and footer before DataFusion reads it: the
/// parquet crate can panic on a footer whose lengths point outside the file.
pub fn parquet_footer(path: &Path) -> Result<()> {
    let err = |m: String| Error::input(path, m);
    let mut f = File::open(path).map_err(|e| err(e.to_string()))?;
    let len = f.metadata().map_err(|e| err(e.to_string()))?.len();
    if len < 12 {
        return Err(err(format!(
            "not a Parquet file ({len} bytes is too short)"
        )));
    }
    let mut head = [0u8; 4];
    f.read_exact(&mut head).map_err(|e| err(e.to_string()))?;
    let mut tail = [0u8; 8];
    f.seek(SeekFrom::End(-8)).map_err(|e| err(e.to_string()))?;
    f.read_exact(&mut tail).map_err(|e| err(e.to_string()))?;
    if &tail[4..] == b"PARE" {
        return Err(err("encrypted Parquet files are not supported".into()));
    }
    if &head != b"PAR1" || &tail[4..] != b"PAR1" {
        return Err(err("not a Parquet file (missing PAR1 magic bytes)".into()));
    }
    let meta_len = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if meta_len + 12 > len {
        return Err(err(format!(
            "corrupt Parquet footer: metadata length {meta_len} exceeds the file size {len}"
        )));
    }
    let parsed = std::panic::catch_unwind(|| ParquetMetaDataReader::new().parse_and_finish(&f));
    match parsed {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(err(format!("corrupt Parquet footer: {e}"))),
        Err(_) => Err(err("corrupt Parquet footer".into())),
    }
}

/// Header names of a CSV file must be unique: DataFusion would silently merge them.
pub fn csv_header(path: &Path, compression: Compression, delimiter: u8, quote: u8) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::input(path, e.to_string()))?;
    let reader: Box<dyn Read> = match compression {
        Compression::None => Box::new(file),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(file)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::new(file)
                .map_err(|e| Error::input(path, e.to_string()))?,
        ),
        // DataFusion reports these itself; the header check is a nicety.
        Compression::Bzip2 | Compression::Xz => return Ok(()),
    };
    let mut line = Vec::new();
    // A header longer than 16 MiB is not a header; leave it to the reader to complain.
    let mut limited = BufReader::new(reader.take(16 << 20));
    if limited.read_until(b'\n', &mut line).is_err() {
        return Ok(()); // decoding errors are reported, with context, by the reader
    }
    let text = String::from_utf8_lossy(&line);
    let names = split_header(
        text.trim_end_matches(['\n', '\r']),
        delimiter as char,
        quote as char,
    );
    for (i, a) in names.iter().enumerate() {
        if let Some(j) = names.iter().skip(i + 1).position(|b| b == a) {
            return Err(Error::input(
                path,
                format!(
                    "column name `{a}` appears twice in the header (columns {} and {}); rename one",
                    i + 1,
                    i + j + 2
                ),
            ));
        }
    }
    // A header and nothing else: there is nothing to profile or validate, and DataFusion
    // would infer every column as Null.
    let mut rest = Vec::new();
    loop {
        rest.clear();
        match limited.read_until(b'\n', &mut rest) {
            Ok(0) => {
                return Err(
                    Error::input(path, "no data rows: the file holds only a header line")
                        .into_no_rows(),
                );
            }
            Ok(_) if rest.iter().all(u8::is_ascii_whitespace) => continue,
            _ => return Ok(()),
        }
    }
}

fn split_header(line: &str, delimiter: char, quote: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == quote {
            if quoted && chars.peek() == Some(&quote) {
                cur.push(quote);
                chars.next();
            } else {
                quoted = !quoted;
            }
        } else if c == delimiter && !quoted {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

/// Find the first cell of a text batch that does not convert to its column's type.
/// `first_line` is the 1-based file line of the batch's first row, minus one.
pub fn typed_cells(
    batch: &RecordBatch,
    typed: &Schema,
    nulls: &[String],
    first_line: usize,
) -> std::result::Result<(), String> {
    let strict = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
        let Ok(target) = typed.field_with_name(field.name()) else {
            continue;
        };
        if *target.data_type() == DataType::Utf8 || *array.data_type() != DataType::Utf8 {
            continue;
        }
        let text = array.as_string::<i32>();
        let cleaned: StringArray = text
            .iter()
            .map(|v| v.filter(|s| !s.is_empty() && !nulls.iter().any(|n| n == s)))
            .collect();
        if cast_with_options(&cleaned, target.data_type(), &strict).is_ok() {
            continue;
        }
        for (i, v) in cleaned.iter().enumerate() {
            let Some(v) = v else { continue };
            let one = StringArray::from(vec![v]);
            if cast_with_options(&one, target.data_type(), &strict).is_err() {
                return Err(format!(
                    "line {}, column `{}`: `{}` is not a valid {}",
                    first_line + i + 1,
                    field.name(),
                    v,
                    type_name(target.data_type())
                ));
            }
        }
        if cleaned.null_count() < cleaned.len() {
            return Err(format!(
                "column `{}` does not convert to {}",
                field.name(),
                type_name(target.data_type())
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split_header;

    #[test]
    fn header_split_honours_quotes() {
        assert_eq!(
            split_header(r#"a,"b,c","d""e""#, ',', '"'),
            vec!["a", "b,c", "d\"e"]
        );
    }
}
