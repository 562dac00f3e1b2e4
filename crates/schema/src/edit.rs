//! `infer --update` edits the schema file's text in place: a person's comments, key order
//! and formatting are what make the file theirs, and a YAML library that parses and
//! prints again drops all of them. The editor here changes only the lines of what the
//! update changed: a scalar replaced where it stands (an inline comment after it kept),
//! domain values appended to their list (block or one-line flow), a key's lines removed,
//! new features and comparators inserted at the end of their block.
//!
//! It reads the layout line by line (indentation, `key:` at a column, `- ` items) and
//! knows nothing of YAML's rarer shapes; so every result is parsed again and must equal
//! the schema the update computed, or [`update_text`] regenerates the file and says why.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::Result;
use crate::model::{Comparator, DomainValue, Feature, Schema};

/// The new text of a schema file.
#[derive(Debug, Clone, PartialEq)]
pub enum Updated {
    /// The original text with only the changed values edited.
    Edited(String),
    /// The file printed again from the model: comments and formatting are lost. The
    /// reason says which shape the editor could not patch.
    Regenerated { text: String, reason: String },
}

impl Updated {
    pub fn text(&self) -> &str {
        match self {
            Self::Edited(t) | Self::Regenerated { text: t, .. } => t,
        }
    }
}

/// The text of `new`, made by editing `text` (the file `old` was parsed from) where
/// possible.
pub fn update_text(text: &str, old: &Schema, new: &Schema) -> Result<Updated> {
    let reason = match patch(text, old, new) {
        Ok(edited) => match Schema::parse(&edited, Path::new("schema")) {
            Ok(s) if s == *new => return Ok(Updated::Edited(edited)),
            _ => "the edited text did not read back as the updated schema".to_string(),
        },
        Err(why) => why,
    };
    Ok(Updated::Regenerated {
        text: new.to_yaml()?,
        reason,
    })
}

type Why = String;

/// The lines of the file, and the edits to make to them.
struct Doc<'a> {
    lines: Vec<&'a str>,
    eol: &'static str,
    final_eol: bool,
    replaced: BTreeMap<usize, String>,
    /// Lines to insert before line `i` (`i == lines.len()`: at the end).
    inserted: BTreeMap<usize, Vec<String>>,
    deleted: Vec<std::ops::Range<usize>>,
}

fn indent(l: &str) -> usize {
    l.len() - l.trim_start_matches(' ').len()
}

fn is_content(l: &str) -> bool {
    let t = l.trim();
    !t.is_empty() && !t.starts_with('#')
}

fn is_item(l: &str) -> bool {
    let t = l.trim_start();
    t == "-" || t.starts_with("- ")
}

/// The byte offset where the value of `key:` starts, when `key` begins at column `col`
/// of the line (after spaces, or after the `- ` of a sequence item).
fn key_at(line: &str, col: usize, key: &str) -> Option<usize> {
    let pre = line.get(..col)?;
    if !pre.chars().all(|c| c == ' ' || c == '-') {
        return None;
    }
    let rest = line[col..].strip_prefix(key)?.strip_prefix(':')?;
    if rest.is_empty() || rest.starts_with([' ', '\t']) {
        Some(line.len() - rest.len())
    } else {
        None
    }
}

/// The byte range of the scalar that starts at or after `from` in `line` (plain, single
/// or double quoted), ending before a comment (and, inside a flow collection, before
/// the `,`, `}` or `]` after it).
fn scalar_span(line: &str, from: usize, flow: bool) -> Option<(usize, usize)> {
    let start = from + (line[from..].len() - line[from..].trim_start().len());
    let rest = &line[start..];
    let end = match rest.chars().next()? {
        '"' => {
            let mut escaped = false;
            let mut close = None;
            for (i, ch) in rest.char_indices().skip(1) {
                match ch {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => {
                        close = Some(i + 1);
                        break;
                    }
                    _ => escaped = false,
                }
            }
            close?
        }
        '\'' => {
            let b = rest.as_bytes();
            let mut i = 1;
            loop {
                match b.get(i)? {
                    b'\'' if b.get(i + 1) == Some(&b'\'') => i += 2,
                    b'\'' => break i + 1,
                    _ => i += 1,
                }
            }
        }
        '{' | '[' | '|' | '>' | '&' | '*' | '!' => return None,
        _ => {
            let comment = rest.find(" #").unwrap_or(rest.len());
            let stop = if flow {
                rest.find([',', '}', ']']).unwrap_or(rest.len())
            } else {
                rest.len()
            };
            comment.min(stop)
        }
    };
    let token = rest[..end].trim_end();
    Some((start, start + token.len()))
}

/// A scalar as YAML prints it in block context (`no` quoted, numbers as numbers).
fn token<T: Serialize>(v: &T) -> std::result::Result<String, Why> {
    let t = serde_yaml_ng::to_string(v).map_err(|e| e.to_string())?;
    let t = t.trim_end();
    if t.contains('\n') {
        return Err("a value that spans lines".into());
    }
    Ok(t.to_string())
}

/// A domain value inside a flow sequence: plain when that is safe, else double quoted.
fn flow_token(v: &DomainValue) -> std::result::Result<String, Why> {
    match v {
        DomainValue::Str(s) => {
            let plain = token(v)?;
            if plain == *s && !s.contains([',', '[', ']', '{', '}', '#', ':']) {
                Ok(plain)
            } else {
                serde_json::to_string(s).map_err(|e| e.to_string())
            }
        }
        _ => token(v),
    }
}

/// Where a `[` or `{` opened at byte `open` closes on the same line (quotes skipped).
fn closing(line: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in line[open..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            (None, '#') => return None,
            _ => {}
        }
    }
    None
}

/// The byte offset of the value of `key` inside the one-line flow mapping that opens at
/// `open`, at its top level.
fn flow_key(line: &str, open: usize, key: &str) -> Option<usize> {
    let close = closing(line, open)?;
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut entry_start = open + 1;
    for (i, c) in line[open..=close].char_indices() {
        let at = open + i;
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') if depth == 1 && at == close => {
                if let Some(v) = entry_key(line, entry_start, at, key) {
                    return Some(v);
                }
                depth -= 1;
            }
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 1 => {
                if let Some(v) = entry_key(line, entry_start, at, key) {
                    return Some(v);
                }
                entry_start = at + 1;
            }
            _ => {}
        }
    }
    None
}

fn entry_key(line: &str, start: usize, end: usize, key: &str) -> Option<usize> {
    let entry = &line[start..end];
    let lead = entry.len() - entry.trim_start().len();
    let rest = entry.trim_start().strip_prefix(key)?.strip_prefix(':')?;
    (rest.is_empty() || rest.starts_with(' ')).then_some(start + lead + key.len() + 1)
}

impl<'a> Doc<'a> {
    fn parse(text: &'a str) -> std::result::Result<Self, Why> {
        let final_eol = text.ends_with('\n');
        let body = text.strip_suffix('\n').unwrap_or(text);
        let mut lines: Vec<&str> = body.split('\n').collect();
        let crlf = lines.iter().filter(|l| l.ends_with('\r')).count();
        let eol = if crlf == 0 {
            "\n"
        } else if crlf == lines.len() {
            for l in &mut lines {
                *l = &l[..l.len() - 1];
            }
            "\r\n"
        } else {
            return Err("mixed line endings".into());
        };
        if lines
            .iter()
            .any(|l| l.starts_with('\t') || l.contains(" \t"))
        {
            return Err("tabs in the indentation".into());
        }
        Ok(Self {
            lines,
            eol,
            final_eol,
            replaced: BTreeMap::new(),
            inserted: BTreeMap::new(),
            deleted: Vec::new(),
        })
    }

    fn line(&self, i: usize) -> &str {
        self.replaced.get(&i).map_or(self.lines[i], String::as_str)
    }

    fn finish(self) -> String {
        let mut out = Vec::with_capacity(self.lines.len());
        for i in 0..=self.lines.len() {
            if let Some(ins) = self.inserted.get(&i) {
                out.extend(ins.iter().cloned());
            }
            if i == self.lines.len() || self.deleted.iter().any(|r| r.contains(&i)) {
                continue;
            }
            out.push(self.line(i).to_string());
        }
        let mut text = out.join(self.eol);
        if self.final_eol {
            text.push_str(self.eol);
        }
        text
    }

    /// The line of `key` at column `col` among lines `range`.
    fn entry(&self, range: std::ops::Range<usize>, col: usize, key: &str) -> Option<usize> {
        range
            .into_iter()
            .find(|&i| key_at(self.line(i), col, key).is_some())
    }

    /// The lines after the entry at line `i` (key at column `col`) that belong to its
    /// value, up to its last content line.
    fn block(&self, i: usize, col: usize) -> std::ops::Range<usize> {
        let mut last = i;
        for j in i + 1..self.lines.len() {
            let l = self.line(j);
            if !is_content(l) {
                continue;
            }
            let n = indent(l);
            if n < col || (n == col && !is_item(l)) {
                break;
            }
            last = j;
        }
        i + 1..last + 1
    }

    /// The column of the keys of the block mapping under line `i`.
    fn child_col(&self, i: usize, col: usize) -> Option<usize> {
        let b = self.block(i, col);
        let first = b.clone().find(|&j| is_content(self.line(j)))?;
        let l = self.line(first);
        (indent(l) > col && !is_item(l)).then(|| indent(l))
    }

    /// Replace the scalar at `path` under the mapping at column `col` in `range`.
    fn set(
        &mut self,
        range: std::ops::Range<usize>,
        col: usize,
        path: &[&str],
        new: &str,
    ) -> std::result::Result<(), Why> {
        let missing = || format!("no `{}` line to edit", path.join("."));
        let i = self.entry(range, col, path[0]).ok_or_else(missing)?;
        let line = self.line(i).to_string();
        let v = key_at(&line, col, path[0]).ok_or_else(missing)?;
        let value_start = v + (line[v..].len() - line[v..].trim_start().len());
        let (at, flow) = match path {
            [_] => (v, false),
            [_, rest @ ..] if line[value_start..].starts_with('{') => {
                let mut open = value_start;
                let mut at = 0;
                for (k, key) in rest.iter().enumerate() {
                    at = flow_key(&line, open, key).ok_or_else(missing)?;
                    if k + 1 < rest.len() {
                        open = at + (line[at..].len() - line[at..].trim_start().len());
                        if !line[open..].starts_with('{') {
                            return Err(missing());
                        }
                    }
                }
                (at, true)
            }
            [_, rest @ ..] if !is_content(&line[value_start..]) => {
                let child = self.child_col(i, col).ok_or_else(missing)?;
                let b = self.block(i, col);
                return self.set(b, child, rest, new);
            }
            _ => return Err(missing()),
        };
        let (a, b) = scalar_span(&line, at, flow).ok_or_else(missing)?;
        self.replaced
            .insert(i, format!("{}{new}{}", &line[..a], &line[b..]));
        Ok(())
    }

    /// Remove the entry `key` (its line and its block) under the mapping at `col`.
    fn delete(
        &mut self,
        range: std::ops::Range<usize>,
        col: usize,
        key: &str,
    ) -> std::result::Result<(), Why> {
        let i = self
            .entry(range, col, key)
            .ok_or_else(|| format!("no `{key}` line to remove"))?;
        if is_item(self.line(i)) {
            return Err(format!("`{key}` opens a sequence item"));
        }
        let b = self.block(i, col);
        self.deleted.push(i..b.end);
        Ok(())
    }

    /// Insert `lines` (already indented) after the last content line of `range`.
    fn insert_after(&mut self, range: std::ops::Range<usize>, lines: Vec<String>) {
        let last = range
            .clone()
            .rev()
            .find(|&j| is_content(self.line(j)))
            .unwrap_or(range.start);
        self.inserted.entry(last + 1).or_default().extend(lines);
    }

    /// Append values to the domain's `values` under the mapping at `col`.
    fn append_values(
        &mut self,
        range: std::ops::Range<usize>,
        col: usize,
        values: &[DomainValue],
    ) -> std::result::Result<(), Why> {
        let missing = || "no `domain.values` list to extend".to_string();
        let i = self.entry(range, col, "domain").ok_or_else(missing)?;
        let line = self.line(i).to_string();
        let v = key_at(&line, col, "domain").ok_or_else(missing)?;
        let (vi, vline, at) = if line[v..].trim_start().starts_with('{') {
            let open = v + (line[v..].len() - line[v..].trim_start().len());
            (
                i,
                line.clone(),
                flow_key(&line, open, "values").ok_or_else(missing)?,
            )
        } else if !is_content(&line[v..]) {
            let child = self.child_col(i, col).ok_or_else(missing)?;
            let b = self.block(i, col);
            let j = self.entry(b, child, "values").ok_or_else(missing)?;
            let l = self.line(j).to_string();
            let at = key_at(&l, child, "values").ok_or_else(missing)?;
            if !is_content(&l[at..]) {
                // A block sequence: one `- value` line per value, after the last one.
                let items = self.block(j, child);
                let last = items
                    .clone()
                    .rev()
                    .find(|&k| is_content(self.line(k)))
                    .ok_or_else(missing)?;
                let item = self.line(last);
                if !is_item(item) {
                    return Err(missing());
                }
                let prefix = format!("{}- ", " ".repeat(indent(item)));
                let mut lines = Vec::new();
                for x in values {
                    lines.push(format!("{prefix}{}", token(x)?));
                }
                self.inserted.entry(last + 1).or_default().extend(lines);
                return Ok(());
            }
            (j, l, at)
        } else {
            return Err(missing());
        };
        // A one-line flow sequence: the values go before its `]`.
        let open = at + (vline[at..].len() - vline[at..].trim_start().len());
        if !vline[open..].starts_with('[') {
            return Err(missing());
        }
        let close = closing(&vline, open).ok_or_else(missing)?;
        let shown = values
            .iter()
            .map(flow_token)
            .collect::<std::result::Result<Vec<_>, _>>()?
            .join(", ");
        let inner = vline[open + 1..close].trim_end();
        let edited = if inner.trim().is_empty() {
            format!("{}{shown}{}", &vline[..open + 1], &vline[close..])
        } else {
            let end = open + 1 + inner.len();
            format!("{}, {shown}{}", &vline[..end], &vline[end..])
        };
        self.replaced.insert(vi, edited);
        Ok(())
    }
}

/// YAML of `value` as the lines of a block, each indented by `by` spaces.
fn block_lines<T: Serialize>(value: &T, by: usize) -> std::result::Result<Vec<String>, Why> {
    let text = serde_yaml_ng::to_string(value).map_err(|e| e.to_string())?;
    Ok(text
        .lines()
        .map(|l| format!("{}{l}", " ".repeat(by)))
        .collect())
}

/// Lines, and the column of the keys of the mapping they hold.
type Block = (std::ops::Range<usize>, usize);

/// The `features` sequence: its lines, the column of its `- `, and each feature's item.
struct Features {
    lines: std::ops::Range<usize>,
    dash: usize,
    items: BTreeMap<String, Block>,
}

/// The sequence item of each feature: its lines and the column of its keys.
fn feature_items(doc: &Doc) -> std::result::Result<Features, Why> {
    let n = doc.lines.len();
    let f = doc
        .entry(0..n, 0, "features")
        .ok_or("no top-level `features:` line")?;
    let l = doc.line(f);
    let v = key_at(l, 0, "features").ok_or("no top-level `features:` line")?;
    if is_content(&l[v..]) {
        return Err("`features` is written in flow style".into());
    }
    let block = doc.block(f, 0);
    let starts: Vec<usize> = block.clone().filter(|&j| is_content(doc.line(j))).collect();
    let Some(&first) = starts.first() else {
        return Err("`features` has no items".into());
    };
    let dash = indent(doc.line(first));
    let items: Vec<usize> = starts
        .into_iter()
        .filter(|&j| indent(doc.line(j)) == dash && is_item(doc.line(j)))
        .collect();
    let mut out = BTreeMap::new();
    for (k, &s) in items.iter().enumerate() {
        let end = items.get(k + 1).copied().unwrap_or(block.end);
        let dl = doc.line(s);
        let after = &dl[dash + 1..];
        let col = if after.trim().is_empty() || after.trim_start().starts_with('#') {
            (s + 1..end)
                .find(|&j| is_content(doc.line(j)))
                .map(|j| indent(doc.line(j)))
                .ok_or("an empty feature item")?
        } else {
            dash + 1 + (after.len() - after.trim_start().len())
        };
        let at = doc
            .entry(s..end, col, "name")
            .ok_or("a feature without a `name:` line")?;
        let nl = doc.line(at);
        let v = key_at(nl, col, "name").ok_or("a feature without a `name:` line")?;
        let (a, b) = scalar_span(nl, v, false).ok_or("a feature name that is not a scalar")?;
        let name: String = serde_yaml_ng::from_str(&nl[a..b])
            .map_err(|_| "a feature name that is not a string")?;
        out.insert(name, (s..end, col));
    }
    Ok(Features {
        lines: block,
        dash,
        items: out,
    })
}

fn patch(text: &str, old: &Schema, new: &Schema) -> std::result::Result<String, Why> {
    let mut doc = Doc::parse(text)?;
    let all = 0..doc.lines.len();
    if old.version != new.version
        || old.description != new.description
        || old.checks != new.checks
        || old.dataset.new_columns != new.dataset.new_columns
        || old.dataset.environments != new.dataset.environments
        || old.dataset.default_environment != new.dataset.default_environment
    {
        return Err("dataset settings changed".into());
    }
    match (&old.dataset.rows, &new.dataset.rows) {
        (a, b) if a == b => {}
        (Some(a), Some(b)) if a.severity == b.severity => {
            for (key, x, y) in [("min", a.min, b.min), ("max", a.max, b.max)] {
                if x != y {
                    let y = y.ok_or("a row bound removed")?;
                    x.ok_or("a row bound added")?;
                    doc.set(all.clone(), 0, &["dataset", "rows", key], &token(&y)?)?;
                }
            }
        }
        _ => return Err("row bounds added or removed".into()),
    }
    let Features {
        lines: features,
        dash,
        items,
    } = feature_items(&doc)?;
    if new.features.len() < old.features.len()
        || old
            .features
            .iter()
            .zip(&new.features)
            .any(|(a, b)| a.name != b.name)
    {
        return Err("features removed or reordered".into());
    }
    for (o, n) in old.features.iter().zip(&new.features) {
        if o == n {
            continue;
        }
        let (range, col) = items
            .get(&o.name)
            .cloned()
            .ok_or_else(|| format!("feature `{}` not found in the text", o.name))?;
        edit_feature(&mut doc, range, col, o, n)?;
    }
    let added = &new.features[old.features.len()..];
    if !added.is_empty() {
        let lines = block_lines(&added, dash)?;
        doc.insert_after(features, lines);
    }
    Ok(doc.finish())
}

fn edit_feature(
    doc: &mut Doc,
    range: std::ops::Range<usize>,
    col: usize,
    o: &Feature,
    n: &Feature,
) -> std::result::Result<(), Why> {
    let name = &o.name;
    let unsupported = |what: &str| format!("feature `{name}`: {what} changed");
    if o.severity != n.severity || o.environments != n.environments || o.pattern != n.pattern {
        return Err(unsupported("severity, environments or pattern"));
    }
    if o.type_name != n.type_name {
        doc.set(range.clone(), col, &["type"], &token(&n.type_name)?)?;
    }
    if o.role != n.role {
        if n.role == crate::model::Role::Feature {
            doc.delete(range.clone(), col, "role")?;
        } else {
            doc.set(range.clone(), col, &["role"], &token(&n.role)?)?;
        }
    }
    match (&o.presence, &n.presence) {
        (a, b) if a == b => {}
        (Some(a), Some(b)) if a.severity == b.severity => {
            doc.set(
                range.clone(),
                col,
                &["presence", "min_fraction"],
                &token(&b.min_fraction)?,
            )?;
        }
        _ => return Err(unsupported("presence")),
    }
    match (&o.domain, &n.domain) {
        (a, b) if a == b => {}
        (Some(a), Some(b))
            if a.severity == b.severity
                && a.min_mass.to_bits() == b.min_mass.to_bits()
                && b.values.starts_with(&a.values) =>
        {
            doc.append_values(range.clone(), col, &b.values[a.values.len()..])?;
        }
        (Some(_), None) => doc.delete(range.clone(), col, "domain")?,
        _ => return Err(unsupported("domain")),
    }
    match (&o.range, &n.range) {
        (a, b) if a == b => {}
        (Some(a), Some(b)) if a.severity == b.severity => {
            for (key, x, y) in [("min", a.min, b.min), ("max", a.max, b.max)] {
                if x != y {
                    let y = y.ok_or_else(|| unsupported("range"))?;
                    x.ok_or_else(|| unsupported("range"))?;
                    doc.set(range.clone(), col, &["range", key], &token(&y)?)?;
                }
            }
        }
        _ => return Err(unsupported("range")),
    }
    match (&o.length, &n.length) {
        (a, b) if a == b => {}
        (Some(a), Some(b)) if a.severity == b.severity => {
            for (key, x, y) in [("min", a.min, b.min), ("max", a.max, b.max)] {
                if x != y {
                    let y = y.ok_or_else(|| unsupported("length"))?;
                    x.ok_or_else(|| unsupported("length"))?;
                    doc.set(range.clone(), col, &["length", key], &token(&y)?)?;
                }
            }
        }
        _ => return Err(unsupported("length")),
    }
    for (key, a, b) in [
        ("finite", o.finite, n.finite),
        ("unique", o.unique, n.unique),
    ] {
        match (a, b) {
            (a, b) if a == b => {}
            (Some(_), None) => doc.delete(range.clone(), col, key)?,
            _ => return Err(unsupported(key)),
        }
    }
    for (key, a, b) in [("drift", &o.drift, &n.drift), ("skew", &o.skew, &n.skew)] {
        match (a, b) {
            (a, b) if a == b => {}
            (None, Some(c)) => {
                let entry: BTreeMap<&str, &Comparator> = [(key, c)].into_iter().collect();
                let lines = block_lines(&entry, col)?;
                doc.insert_after(range.clone(), lines);
            }
            _ => return Err(unsupported(key)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const TEXT: &str = "# Penguins, hand edited.
version: 1
dataset:
  rows: {min: 300}   # a full season
features:
  # The label.
  - name: species
    type: string
    domain: {values: [Adelie, Gentoo]}  # no Chinstrap yet
  - name: island
    type: string
    presence:
      min_fraction: 0.99 # measured
    domain:
      values:
      - Biscoe   # largest
      - Dream
  - name: mass
    type: int64
    range: {min: 0, max: 6000}
    finite: error
# end of features
checks:
  - name: heavy
    where: mass > 0
";

    fn parse(t: &str) -> Schema {
        Schema::parse(t, Path::new("s.yaml")).unwrap()
    }

    fn edited(old: &Schema, new: &Schema) -> String {
        match update_text(TEXT, old, new).unwrap() {
            Updated::Edited(t) => t,
            Updated::Regenerated { reason, .. } => panic!("regenerated: {reason}"),
        }
    }

    #[test]
    fn edits_only_the_changed_values_and_keeps_comments() {
        let old = parse(TEXT);
        let mut new = old.clone();
        new.dataset.rows.as_mut().unwrap().min = Some(250);
        let d = new.features[0].domain.as_mut().unwrap();
        d.values.push(DomainValue::Str("Chinstrap".into()));
        d.values.push(DomainValue::Str("a, b".into()));
        new.features[1].presence.as_mut().unwrap().min_fraction = 0.95;
        let d = new.features[1].domain.as_mut().unwrap();
        d.values.push(DomainValue::Str("Torgersen".into()));
        d.values.push(DomainValue::Str("no".into()));
        new.features[2].range.as_mut().unwrap().max = Some(6500.0);
        new.features[2].finite = None;
        let t = edited(&old, &new);
        let expected = TEXT
            .replace("{min: 300}", "{min: 250}")
            .replace("[Adelie, Gentoo]", "[Adelie, Gentoo, Chinstrap, \"a, b\"]")
            .replace("0.99 # measured", "0.95 # measured")
            .replace(
                "      - Dream\n",
                "      - Dream\n      - Torgersen\n      - no\n",
            )
            .replace("max: 6000", "max: 6500.0")
            .replace("    finite: error\n", "");
        assert_eq!(t, expected);
    }

    #[test]
    fn new_features_and_comparators_go_at_the_end_of_their_blocks() {
        let old = parse(TEXT);
        let mut new = old.clone();
        let mut f = old.features[2].clone();
        f.name = "flipper".into();
        f.finite = None;
        new.features.push(f);
        new.features[0].drift = Some(Comparator {
            method: "linf".into(),
            threshold: 0.1,
            severity: preflight_stats::Severity::Error,
        });
        let t = edited(&old, &new);
        assert!(
            t.contains("  # no Chinstrap yet\n    drift:\n      method: linf\n"),
            "{t}"
        );
        assert!(
            t.contains("    finite: error\n  - name: flipper\n    type: int64\n"),
            "{t}"
        );
        assert!(t.contains("# end of features\nchecks:"), "{t}");
    }

    #[test]
    fn the_readme_feature_block_is_edited_in_place() {
        let text = "version: 1\nfeatures:\n- name: island\n  type: string\n  \
                    presence: {min_fraction: 0.9704}      # Wilson bound\n  \
                    domain: {values: [Biscoe, Dream, Torgersen]}\n- name: species\n  \
                    type: string\n  role: label  # the label\n";
        let old = parse(text);
        let mut new = old.clone();
        new.features[0].presence.as_mut().unwrap().min_fraction = 0.9;
        new.features[0]
            .domain
            .as_mut()
            .unwrap()
            .values
            .push(DomainValue::Str("Atlantis".into()));
        let Updated::Edited(t) = update_text(text, &old, &new).unwrap() else {
            panic!("regenerated")
        };
        assert_eq!(
            t,
            text.replace("0.9704}", "0.9}")
                .replace("Torgersen]", "Torgersen, Atlantis]")
        );
    }

    #[test]
    fn flow_style_features_are_regenerated_with_a_reason() {
        let text = "version: 1\nfeatures: [{name: a, type: int64, range: {min: 0}}]\n";
        let old = parse(text);
        let mut new = old.clone();
        new.features[0].range.as_mut().unwrap().min = Some(-1.0);
        match update_text(text, &old, &new).unwrap() {
            Updated::Regenerated { text, reason } => {
                assert!(reason.contains("flow style"), "{reason}");
                assert_eq!(parse(&text), new);
            }
            Updated::Edited(t) => panic!("edited: {t}"),
        }
    }
}
