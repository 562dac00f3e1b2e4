//! Checks on input files that DataFusion would get wrong, or panic on, if left to it:
//! corrupt Parquet footers, duplicate CSV header names, and (on the error path only)
//! locating the CSV cell that does not fit its column's type.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use arrow::array::{Array, AsArray, StringArray};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::file::metadata::ParquetMetaDataReader;

use crate::error::{Error, Result};
use crate::profile::type_name;
use crate::source::Compression;

/// Validate a Parquet file's magic bytes and footer before DataFusion reads it: the
/// parquet crate can panic on a footer whose lengths point outside the file. Gives the
/// file's row count (the sum of its row groups').
pub fn parquet_footer(path: &Path) -> Result<u64> {
    let err = |m: String| Error::input(path, m);
    let mut f = File::open(path).map_err(|e| err(e.to_string()))?;
    let len = f.metadata().map_err(|e| err(e.to_string()))?.len();
    if len < 12 {
        return parquet_check(path, len, &[], &[], &[]);
    }
    let mut head = [0u8; 4];
    f.read_exact(&mut head).map_err(|e| err(e.to_string()))?;
    let mut tail = [0u8; 8];
    f.seek(SeekFrom::End(-8)).map_err(|e| err(e.to_string()))?;
    f.read_exact(&mut tail).map_err(|e| err(e.to_string()))?;
    let meta_len = footer_len(&tail).filter(|m| m + 12 <= len).unwrap_or(0);
    let mut meta = vec![0u8; usize::try_from(meta_len).map_err(|e| err(e.to_string()))?];
    f.seek(SeekFrom::Start(len - 8 - meta_len))
        .map_err(|e| err(e.to_string()))?;
    f.read_exact(&mut meta).map_err(|e| err(e.to_string()))?;
    parquet_check(path, len, &head, &tail, &meta)
}

/// [`parquet_footer`] for a remote file of `len` bytes, in ranged reads of its first 4
/// bytes and its footer: the data pages are not fetched.
pub async fn parquet_footer_remote(url: &Path, len: u64) -> Result<u64> {
    let name = url.to_string_lossy();
    if len < 12 {
        return parquet_check(url, len, &[], &[], &[]);
    }
    let (head, tail) = crate::remote::ends(&name, len, 4, 8).await?;
    let meta_len = footer_len(&tail).filter(|m| m + 12 <= len).unwrap_or(0);
    let meta = if meta_len > 0 {
        crate::remote::range(&name, len - 8 - meta_len..len - 8).await?
    } else {
        bytes::Bytes::new()
    };
    parquet_check(url, len, &head, &tail, &meta)
}

/// The metadata length a Parquet file's last 8 bytes declare.
fn footer_len(tail: &[u8]) -> Option<u64> {
    let b: [u8; 4] = tail.get(..4)?.try_into().ok()?;
    Some(u64::from(u32::from_le_bytes(b)))
}

/// The checks of [`parquet_footer`] on a file's length, first 4 bytes, last 8 bytes and
/// the metadata before those (empty when the declared length does not fit).
fn parquet_check(path: &Path, len: u64, head: &[u8], tail: &[u8], meta: &[u8]) -> Result<u64> {
    let err = |m: String| Error::input(path, m);
    if len < 12 {
        return Err(err(format!(
            "not a Parquet file ({len} bytes is too short)"
        )));
    }
    if tail.get(4..) == Some(b"PARE") {
        return Err(err("encrypted Parquet files are not supported".into()));
    }
    if head != b"PAR1" || tail.get(4..) != Some(b"PAR1") {
        return Err(err("not a Parquet file (missing PAR1 magic bytes)".into()));
    }
    let meta_len = footer_len(tail).unwrap_or(0);
    if meta_len + 12 > len {
        return Err(err(format!(
            "corrupt Parquet footer: metadata length {meta_len} exceeds the file size {len}"
        )));
    }
    let parsed = std::panic::catch_unwind(|| ParquetMetaDataReader::decode_metadata(meta));
    match parsed {
        Ok(Ok(meta)) => {
            // The arrow reader keys columns by name: a second `a` would be dropped silently.
            let root = meta.file_metadata().schema_descr().root_schema();
            let names: Vec<&str> = root.get_fields().iter().map(|f| f.name()).collect();
            if let Some((a, i, j)) = duplicate_names(&names) {
                return Err(err(format!(
                    "column name `{a}` appears twice in the file's schema (columns {i} and {j}); rename one"
                )));
            }
            parquet_layout(&meta, len).map_err(err)?;
            // Checked by parquet_layout: no row group has a negative count.
            Ok(meta
                .row_groups()
                .iter()
                .map(|g| u64::try_from(g.num_rows()).unwrap_or(0))
                .sum())
        }
        Ok(Err(e)) => Err(err(format!("corrupt Parquet footer: {e}"))),
        Err(_) => Err(err("corrupt Parquet footer".into())),
    }
}

/// What the reader decodes from the footer before it reads any data: the Arrow schema the
/// writer embedded (`ARROW:schema`), which arrow-ipc panics on when a type is unknown or
/// impossible (an integer 0 bits wide), and each column chunk's byte range, which the
/// parquet crate panics on when negative. Both are decoded here, under `catch_unwind`, so
/// that the error names the file rather than surfacing as a panic.
fn parquet_layout(
    meta: &parquet::file::metadata::ParquetMetaData,
    len: u64,
) -> std::result::Result<(), String> {
    let file = meta.file_metadata();
    let schema = std::panic::catch_unwind(|| {
        parquet::arrow::parquet_to_arrow_schema(file.schema_descr(), file.key_value_metadata())
    });
    match schema {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(format!("corrupt Parquet schema: {e}")),
        Err(_) => {
            return Err(
                "corrupt Parquet footer: its embedded Arrow schema (ARROW:schema) names a type that cannot be decoded"
                    .into(),
            );
        }
    }
    // The reader sizes columns as rows x value width (up to 32 bytes): a row count that is
    // negative (read as 2^64 - n) or too large for that product overflows the engine.
    const MAX_ROWS: u64 = (isize::MAX as u64) / 32;
    let mut rows: u64 = 0;
    for (g, rg) in meta.row_groups().iter().enumerate() {
        let n = rg.num_rows();
        rows = u64::try_from(n)
            .ok()
            .and_then(|n| rows.checked_add(n))
            .filter(|&r| r <= MAX_ROWS)
            .ok_or_else(|| {
                if n < 0 {
                    format!("corrupt Parquet footer: row group {g} claims a negative row count ({n})")
                } else {
                    format!(
                        "corrupt Parquet footer: row group {g} claims {n} rows, more than a file can hold"
                    )
                }
            })?;
        for (c, col) in rg.columns().iter().enumerate() {
            // Where the reader starts, as in `ColumnChunkMetaData::byte_range`.
            let start = col
                .dictionary_page_offset()
                .unwrap_or(col.data_page_offset());
            let size = col.compressed_size();
            let fits = start >= 0
                && size >= 0
                && (start as u64)
                    .checked_add(size as u64)
                    .is_some_and(|end| end <= len);
            if !fits {
                return Err(format!(
                    "corrupt Parquet footer: column chunk {c} (`{}`) of row group {g} lies outside the file (offset {start}, {size} bytes; the file has {len})",
                    col.column_path().string()
                ));
            }
        }
    }
    Ok(())
}

/// Validate an Arrow IPC file (file or stream format) before DataFusion reads it: the
/// reader allocates what the file declares (metadata and body lengths, the uncompressed
/// size of compressed buffers) before it finds the file too short, so a crafted or
/// truncated file of a few bytes could take gigabytes. Every declared length must fit in
/// the file. Only the message headers are read.
pub fn arrow_ipc(path: &Path) -> Result<()> {
    let err = |m: String| Error::input(path, m);
    let mut f = File::open(path).map_err(|e| err(e.to_string()))?;
    let len = f.metadata().map_err(|e| err(e.to_string()))?.len();
    let mut head = [0u8; 8];
    let n = read_at(&mut f, 0, &mut head).map_err(|e| err(e.to_string()))?;
    if n >= 6 && &head[..6] == b"ARROW1" {
        ipc_file(&mut f, len).map_err(|m| err(format!("corrupt Arrow IPC file: {m}")))
    } else {
        ipc_stream(&mut f, 0, len, None)
            .map_err(|m| err(format!("corrupt Arrow IPC stream: {m}")))
            .map(|_| ())
    }
}

fn read_at(f: &mut File, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    f.seek(SeekFrom::Start(offset))?;
    let mut done = 0;
    while done < buf.len() {
        match f.read(&mut buf[done..])? {
            0 => break,
            n => done += n,
        }
    }
    Ok(done)
}

/// The file format: magic, messages, footer (flatbuffer), footer length, magic.
fn ipc_file(f: &mut File, len: u64) -> std::result::Result<(), String> {
    if len < 8 + 10 {
        return Err(format!(
            "{len} bytes is too short for a footer (truncated?)"
        ));
    }
    let mut tail = [0u8; 10];
    read_at(f, len - 10, &mut tail).map_err(|e| e.to_string())?;
    if &tail[4..] != b"ARROW1" {
        return Err("the file does not end with the ARROW1 magic bytes (truncated?)".into());
    }
    let footer_len = i32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    let data_end = len - 10;
    if footer_len <= 0 || u64::from(footer_len.unsigned_abs()) > data_end - 8 {
        return Err(format!(
            "footer length {footer_len} does not fit in the file's {len} bytes"
        ));
    }
    let footer_start = data_end - u64::from(footer_len.unsigned_abs());
    let mut footer = vec![0u8; footer_len.unsigned_abs() as usize];
    read_at(f, footer_start, &mut footer).map_err(|e| e.to_string())?;
    let footer = arrow::ipc::root_as_footer(&footer).map_err(|e| format!("footer: {e}"))?;
    let blocks = footer
        .recordBatches()
        .into_iter()
        .flatten()
        .chain(footer.dictionaries().into_iter().flatten());
    for b in blocks {
        let (offset, meta, body) = (b.offset(), b.metaDataLength(), b.bodyLength());
        let fits = offset >= 8
            && meta > 0
            && body >= 0
            && (offset as u64)
                .checked_add(meta as u64)
                .and_then(|x| x.checked_add(body as u64))
                .is_some_and(|end| end <= footer_start);
        if !fits {
            return Err(format!(
                "a block at byte {offset} declares {meta} bytes of metadata and {body} of data, beyond the data's {footer_start} bytes"
            ));
        }
        let end = ipc_stream(f, offset as u64, footer_start, Some(1))?;
        if end > offset as u64 + meta as u64 + body as u64 {
            return Err(format!(
                "the message at byte {offset} is longer than its block"
            ));
        }
    }
    Ok(())
}

/// Walk the messages from `start` (all of them, or `limit`), checking that each one's
/// metadata and body end before `end`. Returns where the last one read ends.
fn ipc_stream(
    f: &mut File,
    start: u64,
    end: u64,
    limit: Option<usize>,
) -> std::result::Result<u64, String> {
    let mut pos = start;
    let mut count = 0usize;
    while pos < end && limit.is_none_or(|l| count < l) {
        let mut word = [0u8; 4];
        if read_at(f, pos, &mut word).map_err(|e| e.to_string())? < 4 {
            return Err(format!("truncated message length at byte {pos}"));
        }
        let mut at = pos + 4;
        if word == [0xFF; 4] {
            if read_at(f, at, &mut word).map_err(|e| e.to_string())? < 4 {
                return Err(format!("truncated message length at byte {at}"));
            }
            at += 4;
        }
        let meta = i32::from_le_bytes(word);
        if meta == 0 {
            return Ok(at); // end of stream
        }
        if meta < 0 || at + u64::from(meta.unsigned_abs()) > end {
            return Err(format!(
                "the message at byte {pos} declares {meta} bytes of metadata, beyond the end of the data ({end} bytes)"
            ));
        }
        let mut buf = vec![0u8; meta.unsigned_abs() as usize];
        read_at(f, at, &mut buf).map_err(|e| e.to_string())?;
        let message = arrow::ipc::root_as_message(&buf)
            .map_err(|e| format!("the message at byte {pos}: {e}"))?;
        let body = message.bodyLength();
        let body_start = at + u64::from(meta.unsigned_abs());
        if body < 0 || body_start + body as u64 > end {
            return Err(format!(
                "the message at byte {pos} declares a body of {body} bytes, beyond the end of the data ({end} bytes)"
            ));
        }
        let batch = message
            .header_as_record_batch()
            .or_else(|| message.header_as_dictionary_batch().and_then(|d| d.data()));
        if let Some(batch) = batch {
            check_buffers(f, &batch, body_start, body as u64)
                .map_err(|m| format!("the message at byte {pos}: {m}"))?;
        }
        pos = body_start + body as u64;
        count += 1;
    }
    Ok(pos)
}

/// Buffers lie within the body; a compressed buffer's declared size (its first 8 bytes)
/// is bounded by the most any codec reaches on real data.
fn check_buffers(
    f: &mut File,
    batch: &arrow::ipc::RecordBatch,
    body_start: u64,
    body: u64,
) -> std::result::Result<(), String> {
    const MAX_RATIO: u64 = 1 << 15;
    let compressed = batch.compression().is_some();
    for b in batch.buffers().into_iter().flatten() {
        let (offset, length) = (b.offset(), b.length());
        if offset < 0
            || length < 0
            || (offset as u64)
                .checked_add(length as u64)
                .is_none_or(|e| e > body)
        {
            return Err(format!(
                "a buffer at {offset} of {length} bytes lies outside the body of {body} bytes"
            ));
        }
        if compressed && length >= 8 {
            let mut prefix = [0u8; 8];
            read_at(f, body_start + offset as u64, &mut prefix).map_err(|e| e.to_string())?;
            let declared = i64::from_le_bytes(prefix);
            if declared > 0
                && declared as u64 > (length as u64).saturating_mul(MAX_RATIO) + (1 << 20)
            {
                return Err(format!(
                    "a compressed buffer of {length} bytes declares {declared} bytes uncompressed"
                ));
            }
        }
    }
    Ok(())
}

/// The first name that appears twice, with both 1-based positions. Linear: a header may
/// have 100,000 names.
pub(crate) fn duplicate_names<'a>(names: &[&'a str]) -> Option<(&'a str, usize, usize)> {
    let mut seen = ahash::AHashMap::with_capacity(names.len());
    for (j, n) in names.iter().enumerate() {
        if let Some(i) = seen.insert(*n, j) {
            return Some((n, i + 1, j + 1));
        }
    }
    None
}

/// What [`csv_header`] found in a CSV file's first line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CsvHeader {
    /// Fields of the first line (0 when it cannot be read here).
    pub width: usize,
    /// A warning for the user: the line is one field that another common delimiter
    /// would split (see [`delimiter_hint`]).
    pub warning: Option<String>,
}

/// Header names of a CSV file must be unique: DataFusion would silently merge them.
pub fn csv_header(
    path: &Path,
    compression: Compression,
    delimiter: u8,
    quote: u8,
    has_header: bool,
) -> Result<CsvHeader> {
    let file = crate::remote::open_path(path)?;
    let reader: Box<dyn Read> = match compression {
        Compression::None => Box::new(file),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(file)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::new(file)
                .map_err(|e| Error::input(path, e.to_string()))?,
        ),
        // DataFusion reports these itself; the header check is a nicety.
        Compression::Bzip2 | Compression::Xz => return Ok(CsvHeader::default()),
    };
    let mut line = Vec::new();
    // A header longer than 16 MiB is not a header; leave it to the reader to complain.
    let mut limited = BufReader::new(reader.take(16 << 20));
    if limited.read_until(b'\n', &mut line).is_err() {
        // Decoding errors are reported, with context, by the reader.
        return Ok(CsvHeader::default());
    }
    let text = String::from_utf8_lossy(&line);
    let first = text.trim_end_matches(['\n', '\r']);
    let names = split_header(first, delimiter as char, quote as char);
    let header = CsvHeader {
        width: names.len(),
        warning: delimiter_hint(first, names.len(), delimiter, quote)
            .map(|h| format!("{}: {h}", path.display())),
    };
    if !has_header {
        return Ok(header);
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    if let Some((a, i, j)) = duplicate_names(&names) {
        return Err(Error::input(
            path,
            format!(
                "column name `{a}` appears twice in the header (columns {i} and {j}); rename one"
            ),
        ));
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
            _ => return Ok(header),
        }
    }
}

/// Delimiters that CSV files commonly use: a file read with one of them whose first line
/// is a single field that another of them splits was most likely written with that other
/// one (a semicolon file from a spreadsheet with a decimal comma, read with `,`), and
/// every row would become one text column.
const COMMON_DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// The warning for a first line `line` of `width` fields under `delimiter`: when it is
/// one field that another common delimiter splits into several, which one and how many.
/// Only a guess, so a warning: a file of one column whose name holds a `;` is legitimate.
fn delimiter_hint(line: &str, width: usize, delimiter: u8, quote: u8) -> Option<String> {
    if width != 1 {
        return None;
    }
    let (other, fields) = COMMON_DELIMITERS
        .iter()
        .filter(|&&d| d != delimiter)
        .map(|&d| (d, split_header(line, d as char, quote as char).len()))
        .max_by_key(|&(_, n)| n)?;
    let shown = if other == b'\t' {
        "\\t".to_string()
    } else {
        (other as char).to_string()
    };
    (fields > 1).then(|| {
        format!(
            "the first line is one column, which `{shown}` would split into {fields}; \
             if `{shown}` separates the fields, pass --delimiter '{shown}'"
        )
    })
}

/// The file's bytes, decompressed as the reader will see them.
pub(crate) fn open_text(path: &Path, compression: Compression) -> Result<Box<dyn Read + Send>> {
    let file = crate::remote::open_path(path)?;
    compression
        .to_datafusion()
        .convert_read(file)
        .map_err(|e| Error::input(path, e.to_string()))
}

/// A quote that opens a field and is never closed makes the CSV reader take the rest of
/// the file as one cell: rows vanish without an error. Find it before reading, naming the
/// line where the quote opened. One pass of `memchr` over the bytes, looking only at
/// quote characters.
pub fn csv_quotes(
    path: &Path,
    compression: Compression,
    delimiter: u8,
    quote: u8,
    escape: Option<u8>,
) -> Result<()> {
    let mut reader = open_text(path, compression)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut scan = QuoteScan::new(delimiter, quote, escape);
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => scan.feed(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // Decoding errors are reported, with context, by the reader.
            Err(_) => return Ok(()),
        }
    }
    let Some(open) = scan.finish() else {
        return Ok(());
    };
    let line = line_at(path, compression, open)?;
    Err(Error::input(
        path,
        format!(
            "unterminated quote: the quoted field that opens at line {line} runs to the end of the file"
        ),
    ))
}

/// The 1-based line of a byte offset.
fn line_at(path: &Path, compression: Compression, offset: u64) -> Result<u64> {
    let mut reader = open_text(path, compression)?.take(offset);
    let mut buf = vec![0u8; 1 << 16];
    let mut newlines = 0u64;
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => newlines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::input(path, e.to_string())),
        }
    }
    Ok(newlines + 1)
}

/// The quoting state of a CSV byte stream fed in chunks, as csv-core (arrow's CSV parser)
/// reads it: a quote opens a quoted field only at the start of a field; inside one, a
/// doubled quote or an escaped character is literal and any other quote closes it.
struct QuoteScan {
    delimiter: u8,
    quote: u8,
    escape: Option<u8>,
    /// Offset of the next chunk's first byte.
    offset: u64,
    /// The byte before the next chunk (a line end at the start of the file).
    prev: u8,
    /// Offset of the quote that opened the quoted field we are in.
    open: Option<u64>,
    /// The last chunk ended inside a quoted field on a quote or an escape character,
    /// whose meaning depends on the next byte.
    pending: Option<u8>,
    bom: bool,
}

impl QuoteScan {
    fn new(delimiter: u8, quote: u8, escape: Option<u8>) -> Self {
        Self {
            delimiter,
            quote,
            escape,
            offset: 0,
            prev: b'\n',
            open: None,
            pending: None,
            bom: false,
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        let Some(&last) = chunk.last() else { return };
        if self.offset == 0 && chunk.starts_with(b"\xEF\xBB\xBF") {
            self.bom = true;
        }
        let mut i = 0;
        match self.pending.take() {
            Some(b) if b == self.quote => {
                if chunk[0] == self.quote {
                    i = 1; // a doubled quote: still inside
                } else {
                    self.open = None;
                }
            }
            Some(_) => i = 1, // the escaped byte
            None => {}
        }
        while i < chunk.len() {
            let rest = &chunk[i..];
            if self.open.is_none() {
                let Some(k) = memchr::memchr(self.quote, rest) else {
                    break;
                };
                let p = i + k;
                let abs = self.offset + p as u64;
                let before = if p == 0 { self.prev } else { chunk[p - 1] };
                if before == self.delimiter
                    || before == b'\n'
                    || before == b'\r'
                    || abs == 0
                    || (abs == 3 && self.bom)
                {
                    self.open = Some(abs);
                }
                i = p + 1;
            } else {
                let found = match self.escape {
                    Some(e) => memchr::memchr2(self.quote, e, rest),
                    None => memchr::memchr(self.quote, rest),
                };
                let Some(k) = found else { break };
                let p = i + k;
                let b = chunk[p];
                if p + 1 == chunk.len() {
                    self.pending = Some(b);
                    break;
                }
                if b != self.quote {
                    i = p + 2; // escape: the next byte is literal
                } else if chunk[p + 1] == self.quote {
                    i = p + 2; // doubled quote
                } else {
                    self.open = None;
                    i = p + 1;
                }
            }
        }
        self.prev = last;
        self.offset += chunk.len() as u64;
    }

    /// Where the quoted field that the input ends in opened, if it does.
    fn finish(self) -> Option<u64> {
        if self.pending == Some(self.quote) {
            return None; // closed by the last byte
        }
        self.open
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
    // Columns by name through a map: a schema search per column is quadratic in wide files.
    let by_name: std::collections::HashMap<&str, &Field> = typed
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.as_ref()))
        .collect();
    for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
        let Some(target) = by_name.get(field.name().as_str()) else {
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

/// The JSON type of a value, as NDJSON readers tell columns apart (integers and floats
/// are one: both fit a float column).
fn json_kind(v: &serde_json::Value) -> Option<&'static str> {
    use serde_json::Value as V;
    match v {
        V::Null => None,
        V::Bool(_) => Some("a boolean"),
        V::Number(_) => Some("a number"),
        V::String(_) => Some("a string"),
        V::Array(_) => Some("an array"),
        V::Object(_) => Some("an object"),
    }
}

/// Where a key was first seen: its JSON type, the line, the value as shown.
type FirstSeen = (&'static str, u64, String);

/// A key whose type changed: the key, its new type, the new value as shown, and where
/// it was first seen.
type KindChange = (String, &'static str, String, FirstSeen);

/// Records each key's JSON type (nested keys as `a.b`, array elements as `a[]`) and
/// returns the first key whose type differs from the one it had before.
fn json_kinds_of(
    prefix: &str,
    v: &serde_json::Value,
    line: u64,
    seen: &mut std::collections::HashMap<String, FirstSeen>,
) -> Option<KindChange> {
    let kind = json_kind(v)?;
    let shown = || {
        let t = v.to_string();
        if t.chars().count() > 40 {
            t.chars().take(39).collect::<String>() + "…"
        } else {
            t
        }
    };
    if !prefix.is_empty() {
        match seen.get(prefix) {
            Some(first) if first.0 != kind => {
                return Some((prefix.to_string(), kind, shown(), first.clone()));
            }
            Some(_) => {}
            None => {
                seen.insert(prefix.to_string(), (kind, line, shown()));
            }
        }
    }
    match v {
        serde_json::Value::Object(m) => m.iter().find_map(|(k, x)| {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            json_kinds_of(&key, x, line, seen)
        }),
        serde_json::Value::Array(a) => {
            let key = format!("{prefix}[]");
            a.iter().find_map(|x| json_kinds_of(&key, x, line, seen))
        }
        _ => None,
    }
}

/// NDJSON whose key holds a number on one line and a string (or an object, ...) on another
/// cannot be read into one column: arrow-json infers the column as text, then fails on the
/// number, naming neither line. Run when reading has failed, this finds the first line
/// where a key changes type and names both lines.
pub fn ndjson_kinds(path: &Path, compression: Compression) -> Result<()> {
    let mut reader = BufReader::new(open_text(path, compression)?);
    let mut seen = std::collections::HashMap::new();
    let mut text = String::new();
    let mut line = 0u64;
    loop {
        text.clear();
        line += 1;
        match reader.read_line(&mut text) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            // Other problems (bad UTF-8, bad JSON) are reported by the key scan.
            Err(_) => return Ok(()),
        }
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if let Some((key, kind, shown, (first, first_line, first_shown))) =
            json_kinds_of("", &value, line, &mut seen)
        {
            return Err(Error::input(
                path,
                format!(
                    "key `{}` holds {kind} ({shown}) at line {line} but {first} ({first_shown}) at line {first_line}; every value of a key must have one JSON type, or be null",
                    crate::error::one_line(&key)
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{QuoteScan, delimiter_hint, ndjson_kinds, split_header};
    use crate::source::Compression;

    #[test]
    fn a_first_line_another_delimiter_splits_is_named() {
        let hint = |line: &str, delim: u8| {
            let width = split_header(line, delim as char, '"').len();
            delimiter_hint(line, width, delim, b'"')
        };
        // The delimiter that splits the line into the most fields is the one named.
        assert_eq!(
            hint("a;b;c|d", b',').as_deref(),
            Some(
                "the first line is one column, which `;` would split into 3; \
                 if `;` separates the fields, pass --delimiter ';'"
            )
        );
        assert!(
            hint("a\tb", b',')
                .unwrap()
                .contains("`\\t` would split into 2")
        );
        assert!(hint("a,b", b'\t').unwrap().contains("pass --delimiter ','"));
        // Several fields already, one plain name, or the other delimiter only quoted.
        assert_eq!(hint("a,b;c", b','), None);
        assert_eq!(hint("species", b','), None);
        assert_eq!(hint("\"a;b\"", b','), None);
    }

    /// Feed `text` in chunks of `step` bytes; where the unclosed quote opened.
    fn open_quote(text: &[u8], step: usize) -> Option<u64> {
        let mut s = QuoteScan::new(b',', b'"', None);
        for c in text.chunks(step) {
            s.feed(c);
        }
        s.finish()
    }

    #[test]
    fn quote_scan_finds_the_unclosed_quote_whatever_the_chunking() {
        let cases: [(&[u8], Option<u64>); 7] = [
            (b"a,b\n1,\"x\"\"y\"\n2,z\n", None),
            (b"a,b\n1,\"x\n2,z\n", Some(6)),
            (b"a,b\n1,5'11\"\n2,z\n", None),
            (b"\"a\",b\n\"1\n2\",3\n", None),
            (b"\"a\",b\n\"1\n2,3\n", Some(6)),
            (b"a,b\r\n\"x\"y\"z,1\r\n", None),
            (b"a,b\n1,\"\"", None),
        ];
        for (text, want) in cases {
            for step in 1..=text.len() {
                assert_eq!(
                    open_quote(text, step),
                    want,
                    "{} in chunks of {step}",
                    String::from_utf8_lossy(text)
                );
            }
        }
    }

    #[test]
    fn header_split_honours_quotes() {
        assert_eq!(
            split_header(r#"a,"b,c","d""e""#, ',', '"'),
            vec!["a", "b,c", "d\"e"]
        );
    }

    fn kinds(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.ndjson");
        std::fs::write(&p, text).unwrap();
        match ndjson_kinds(&p, Compression::None) {
            Ok(()) => String::new(),
            Err(e) => e
                .to_string()
                .split(": ")
                .skip(1)
                .collect::<Vec<_>>()
                .join(": "),
        }
    }

    #[test]
    fn ndjson_kinds_names_the_line_where_a_key_changes_type() {
        assert_eq!(
            kinds("{\"a\":1,\"b\":\"x\"}\n{\"a\":null}\n\n{\"a\":\"three\"}\n"),
            "key `a` holds a string (\"three\") at line 4 but a number (1) at line 1; every value of a key must have one JSON type, or be null"
        );
        // Integers and floats share a column; nulls fit any.
        assert_eq!(kinds("{\"a\":1}\n{\"a\":2.5}\n{\"a\":null}\n"), "");
        // Nested keys and array elements are named by path.
        assert!(
            kinds("{\"s\":{\"x\":1}}\n{\"s\":{\"x\":[1]}}\n")
                .starts_with("key `s.x` holds an array ([1]) at line 2 but a number (1) at line 1")
        );
        assert!(
            kinds("{\"l\":[1,\"a\"]}\n").starts_with(
                "key `l[]` holds a string (\"a\") at line 1 but a number (1) at line 1"
            )
        );
    }
}
