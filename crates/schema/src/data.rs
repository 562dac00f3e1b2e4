//! The checks a profile cannot answer, run by DataFusion over the table `data`:
//! uniqueness, patterns, custom SQL, and the example rows (with exact counts) of the
//! anomalies the profile found. Nothing here runs when the schema has no such checks and
//! the profile found no anomaly: a clean batch costs one profile pass.
//!
//! The row scan needs the input's row order for row numbers, so give it a session whose
//! table `data` is read by one partition (`SourceOptions::partitions = 1`).

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::{CastOptions, cast, cast_with_options};
use arrow::datatypes::{DataType, Float64Type};
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use preflight_stats::Severity;
use regex::Regex;
use serde_json::{Value, json};

use crate::model::{CustomCheck, Schema};
use crate::sql::{self, Refused};
use crate::validate::{
    Anomaly, AnomalyKind, Example, Matcher, Outcome, Validation, ValueCount, pct,
};
use crate::{Error, Result};

/// Example rows kept per anomaly.
pub const MAX_EXAMPLES: usize = 20;

/// Whether [`run`] has anything to do.
pub fn needed(schema: &Schema, v: &Validation) -> bool {
    !schema.checks.is_empty()
        || schema.features.iter().any(|f| f.unique.is_some())
        || v.outcomes.iter().any(|o| o.scan.is_some())
}

/// A column name as a quoted SQL identifier.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Run the data checks, adding their outcomes to `v` and examples to its anomalies.
pub async fn run(
    schema: &Schema,
    schema_path: &Path,
    v: &mut Validation,
    ctx: &SessionContext,
) -> Result<()> {
    let present: Vec<String> = v
        .outcomes
        .iter()
        .filter(|o| o.check == "column" && o.anomaly.is_none())
        .filter_map(|o| o.column.clone())
        .collect();
    let columns = ctx.table("data").await?.schema().clone();
    for f in &schema.features {
        let Some(sev) = f.unique else { continue };
        if !present.contains(&f.name) || columns.field_with_unqualified_name(&f.name).is_err() {
            continue;
        }
        v.outcomes.push(unique(ctx, &f.name, sev).await?);
    }
    for c in &schema.checks {
        let Some(sql) = &c.sql else { continue };
        let value = match scalar(ctx, sql).await {
            Ok(value) => value,
            Err(Refused::Schema(e)) => return Err(refused(schema_path, &c.name, &e)),
            Err(Refused::Data(e)) => {
                v.outcomes.push(could_not_run(c, &e));
                continue;
            }
        };
        let failed = match &value {
            Value::Bool(b) => !b,
            // NULL fails, as in a WHERE clause (an aggregate over no present values).
            Value::Null => true,
            Value::Number(n) => fails_mostly(n.as_f64().unwrap_or(0.0), v.rows as f64, c.mostly),
            other => {
                return Err(refused(
                    schema_path,
                    &c.name,
                    &format!("the query returned {other}, expected a boolean or a count"),
                ));
            }
        };
        let anomaly = failed.then(|| {
            let mut a = Anomaly::new(
                None,
                AnomalyKind::CustomCheck,
                c.severity,
                format!("check `{}` failed: `{sql}` returned {value}", c.name),
            );
            a.observed = Some(value.clone());
            a
        });
        v.outcomes.push(Outcome {
            column: None,
            check: c.name.clone(),
            anomaly,
            scan: None,
        });
    }
    scan(schema, schema_path, v, ctx).await
}

/// A check the schema got wrong: the run stops, naming the check.
fn refused(schema_path: &Path, name: &str, e: &str) -> Error {
    Error::schema(schema_path, format!("check '{name}': {e}"))
}

/// A valid check that cannot run on this data (it names a column the data lacks, a cell
/// does not convert): a failed check beside every other finding, not the end of the run.
fn could_not_run(c: &CustomCheck, reason: &str) -> Outcome {
    let mut a = Anomaly::new(
        None,
        AnomalyKind::CustomCheck,
        c.severity,
        format!("check `{}` could not run on this data: {reason}", c.name),
    );
    a.observed = Some(Value::Null);
    Outcome {
        column: None,
        check: c.name.clone(),
        anomaly: Some(a),
        scan: None,
    }
}

/// The single value of a one-row, one-column query, as JSON.
async fn scalar(ctx: &SessionContext, sql: &str) -> std::result::Result<Value, Refused> {
    let batches = sql::query(ctx, sql)
        .await?
        .collect()
        .await
        .map_err(|e| Refused::Data(sql::reason(&e)))?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else {
        // A filter this data leaves empty: the check cannot pass on it.
        return Err(Refused::Data("the query returned no rows".into()));
    };
    if rows != 1 || b.num_columns() != 1 {
        return Err(Refused::Schema(format!(
            "the query returned {rows} rows of {} columns, expected one value",
            b.num_columns()
        )));
    }
    let col = b.column(0);
    if col.is_null(0) {
        return Ok(Value::Null);
    }
    Ok(match col.data_type() {
        DataType::Boolean => Value::Bool(col.as_boolean().value(0)),
        dt if dt.is_numeric() => {
            let f = cast(col, &DataType::Float64).map_err(|e| Refused::Data(e.to_string()))?;
            json!(f.as_primitive::<Float64Type>().value(0))
        }
        _ => Value::String(text_at(col, 0)),
    })
}

async fn unique(ctx: &SessionContext, name: &str, sev: Severity) -> Result<Outcome> {
    let q = quote(name);
    let counts = scalar(
        ctx,
        &format!("SELECT count({q}) - count(DISTINCT {q}) FROM data"),
    )
    .await
    .map_err(|e| Error::Internal(e.message().to_string()))?;
    let dupes = counts.as_f64().unwrap_or(0.0) as u64;
    let mut anomaly = None;
    let mut scan = None;
    if dupes > 0 {
        let batches = ctx
            .sql(&format!(
                "SELECT CAST({q} AS VARCHAR) AS v, count(*) AS n FROM data WHERE {q} IS NOT NULL \
                 GROUP BY {q} HAVING count(*) > 1 ORDER BY n DESC, v LIMIT {MAX_EXAMPLES}"
            ))
            .await?
            .collect()
            .await?;
        let mut values = Vec::new();
        for b in &batches {
            let n = cast(b.column(1), &DataType::Float64)?;
            let n = n.as_primitive::<Float64Type>();
            for i in 0..b.num_rows() {
                values.push(ValueCount {
                    value: Value::String(text_at(b.column(0), i)),
                    count: n.value(i) as u64,
                });
            }
        }
        let shown: Vec<String> = values
            .iter()
            .take(3)
            .map(|v| format!("`{}` x{}", v.value.as_str().unwrap_or(""), v.count))
            .collect();
        let mut a = Anomaly::new(
            Some(name),
            AnomalyKind::NotUnique,
            sev,
            format!(
                "column `{name}` has {dupes} repeated values ({}), expected every value unique",
                shown.join(", ")
            ),
        );
        a.observed = Some(json!(dupes));
        a.expected = Some(json!(0));
        a.unexpected_count = Some(dupes);
        // The scan then finds the rows that hold these values.
        scan = Some((
            Matcher::In(
                values
                    .iter()
                    .filter_map(|v| v.value.as_str())
                    .map(String::from)
                    .collect(),
            ),
            None,
        ));
        a.unexpected_values = values;
        anomaly = Some(a);
    }
    Ok(Outcome {
        column: Some(name.to_string()),
        check: "unique".into(),
        anomaly,
        scan,
    })
}

fn text_at(a: &ArrayRef, i: usize) -> String {
    if a.is_null(i) {
        return String::new();
    }
    match cast(&a.slice(i, 1), &DataType::Utf8) {
        Ok(t) => t.as_string::<i32>().value(0).to_string(),
        Err(_) => String::new(),
    }
}

/// What one request found in the rows.
#[derive(Default)]
struct Found {
    /// Non-null values examined.
    seen: u64,
    hits: u64,
    examples: Vec<Example>,
}

enum Test {
    Matcher(Matcher, Option<Regex>, Option<DataType>),
    /// A custom `where` check: the boolean column it was computed into.
    Where,
}

struct Request {
    /// Index of the column in the scan's select list.
    column: usize,
    test: Test,
    /// Outcome index, or the custom check index for `Where`.
    target: usize,
    found: Found,
}

async fn scan(
    schema: &Schema,
    schema_path: &Path,
    v: &mut Validation,
    ctx: &SessionContext,
) -> Result<()> {
    let mut select: Vec<String> = Vec::new();
    let mut position: BTreeMap<String, usize> = BTreeMap::new();
    let mut requests = Vec::new();
    for (i, o) in v.outcomes.iter().enumerate() {
        let (Some((m, _)), Some(col)) = (&o.scan, &o.column) else {
            continue;
        };
        let next = select.len();
        let column = *position.entry(col.clone()).or_insert(next);
        if column == next {
            select.push(quote(col));
        }
        let regex = match m {
            Matcher::Pattern(p) => Some(Regex::new(p).map_err(|e| {
                Error::schema(schema_path, format!("pattern `{p}`: {e}")).caused_by(e)
            })?),
            _ => None,
        };
        let target_type = match m {
            Matcher::NotParse(t) => preflight_stats::source::parse_type(t).ok(),
            _ => None,
        };
        requests.push(Request {
            column,
            test: Test::Matcher(m.clone(), regex, target_type),
            target: i,
            found: Found::default(),
        });
    }
    for (i, c) in schema.checks.iter().enumerate() {
        let Some(expr) = &c.where_ else { continue };
        let column = format!("coalesce(({expr}), false) AS \"__preflight_check_{i}\"");
        // Planned alone first: a check that cannot run on this data fails by itself, and
        // the others still run.
        match sql::plan(ctx, &format!("SELECT {column} FROM data")).await {
            Ok(_) => {}
            Err(Refused::Schema(e)) => return Err(refused(schema_path, &c.name, &e)),
            Err(Refused::Data(e)) => {
                v.outcomes.push(could_not_run(c, &e));
                continue;
            }
        }
        requests.push(Request {
            column: select.len(),
            test: Test::Where,
            target: i,
            found: Found::default(),
        });
        select.push(column);
    }
    if requests.is_empty() {
        return Ok(());
    }
    let row0 = loop {
        match read_rows(ctx, &select, &mut requests).await {
            Ok(rows) => break rows,
            Err(e) => {
                // A `where` expression failed on a value (a cast, a division): find which,
                // fail it with the reason, and read the rows again without it.
                let mut guilty = Vec::new();
                for (k, r) in requests.iter().enumerate() {
                    if !matches!(r.test, Test::Where) {
                        continue;
                    }
                    // Summed, so that the expression is evaluated on every row.
                    let probe = format!(
                        "SELECT sum(CASE WHEN \"__preflight_check_{}\" THEN 1 ELSE 0 END) \
                         FROM (SELECT {} FROM data)",
                        r.target, select[r.column]
                    );
                    if let Err(Refused::Data(why) | Refused::Schema(why)) =
                        scalar(ctx, &probe).await
                    {
                        guilty.push((k, why));
                    }
                }
                if guilty.is_empty() {
                    return Err(blame_check(schema, schema_path, e.message()));
                }
                for (k, why) in guilty.into_iter().rev() {
                    let r = requests.remove(k);
                    select[r.column] = format!("NULL AS \"__preflight_unused_{}\"", r.column);
                    v.outcomes
                        .push(could_not_run(&schema.checks[r.target], &why));
                }
                if requests.is_empty() {
                    return Ok(());
                }
                for r in &mut requests {
                    r.found = Found::default();
                }
            }
        }
    };
    for r in requests {
        match r.test {
            Test::Where => {
                let c = &schema.checks[r.target];
                let share = r.found.hits as f64 / row0.max(1) as f64;
                let failed = fails_mostly(r.found.hits as f64, row0 as f64, c.mostly);
                let anomaly = failed.then(|| {
                    let mut a = Anomaly::new(
                        None,
                        AnomalyKind::CustomCheck,
                        c.severity,
                        format!(
                            "check `{}` failed on {} of {row0} rows ({}): `{}`, expected at most {}",
                            c.name,
                            r.found.hits,
                            pct(share),
                            c.where_.as_deref().unwrap_or_default(),
                            pct(1.0 - c.mostly)
                        ),
                    );
                    a.unexpected_count = Some(r.found.hits);
                    a.unexpected_share = Some(share);
                    a.examples = r.found.examples;
                    a
                });
                v.outcomes.push(Outcome {
                    column: None,
                    check: c.name.clone(),
                    anomaly,
                    scan: None,
                });
            }
            Test::Matcher(Matcher::Pattern(p), ..) => {
                let o = &mut v.outcomes[r.target];
                let mostly = o.scan.as_ref().and_then(|s| s.1).unwrap_or(1.0);
                let share = r.found.hits as f64 / r.found.seen.max(1) as f64;
                if fails_mostly(r.found.hits as f64, r.found.seen as f64, mostly) {
                    let f = o.column.clone().unwrap_or_default();
                    let severity = schema
                        .feature(&f)
                        .and_then(|x| x.pattern.as_ref())
                        .map_or(Severity::Error, |x| x.severity);
                    let mut a = Anomaly::new(
                        Some(&f),
                        AnomalyKind::PatternMismatch,
                        severity,
                        format!(
                            "column `{f}` has {} values ({}) not matching `{p}`, expected at most {}",
                            r.found.hits,
                            pct(share),
                            pct(1.0 - mostly)
                        ),
                    );
                    a.unexpected_count = Some(r.found.hits);
                    a.unexpected_share = Some(share);
                    a.examples = r.found.examples;
                    o.anomaly = Some(a);
                }
            }
            Test::Matcher(Matcher::In(_), ..) => {
                // Rows of repeated values: examples only; the count stays the profile's.
                if let Some(a) = v.outcomes[r.target].anomaly.as_mut() {
                    a.examples = r.found.examples;
                }
            }
            Test::Matcher(..) => {
                let Some(a) = v.outcomes[r.target].anomaly.as_mut() else {
                    continue;
                };
                let share = r.found.hits as f64 / r.found.seen.max(1) as f64;
                if a.unexpected_count.is_none() {
                    let n = r.found.hits;
                    a.message = format!(
                        "{}; {n} {} ({}) affected",
                        a.message,
                        if n == 1 { "row" } else { "rows" },
                        pct(share)
                    );
                }
                a.unexpected_count = Some(r.found.hits);
                a.unexpected_share = Some(share);
                a.examples = r.found.examples;
            }
        }
    }
    Ok(())
}

/// Read the selected columns in row order, feeding every request; returns the row count.
async fn read_rows(
    ctx: &SessionContext,
    select: &[String],
    requests: &mut [Request],
) -> std::result::Result<u64, Refused> {
    let text = format!("SELECT {} FROM data", select.join(", "));
    let engine = |e: datafusion::error::DataFusionError| Refused::Data(sql::reason(&e));
    let mut stream = sql::query(ctx, &text)
        .await?
        .execute_stream()
        .await
        .map_err(engine)?;
    let mut row0 = 0u64;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(engine)?;
        for r in requests.iter_mut() {
            evaluate(r, batch.column(r.column), row0).map_err(|e| Refused::Data(e.to_string()))?;
        }
        row0 += batch.num_rows() as u64;
    }
    Ok(row0)
}

/// SQL errors of the scan come from a custom `where` expression (the rest is generated).
fn blame_check(schema: &Schema, path: &Path, e: &str) -> Error {
    let names: Vec<String> = schema
        .checks
        .iter()
        .filter(|c| c.where_.is_some())
        .map(|c| format!("`{}`", c.name))
        .collect();
    let msg = e.split_whitespace().collect::<Vec<_>>().join(" ");
    if names.is_empty() {
        Error::Internal(msg)
    } else {
        Error::schema(path, format!("checks {}: {msg}", names.join(", ")))
    }
}

/// A `mostly` check fails when the passing share is below `mostly`; `mostly: 1` fails on
/// any bad value at all (no float rounding lets one slip through).
fn fails_mostly(bad: f64, total: f64, mostly: f64) -> bool {
    1.0 - bad / total.max(1.0) < mostly || (mostly >= 1.0 && bad > 0.0)
}

impl Found {
    fn hit(&mut self, row: u64, value: Value) {
        self.hits += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(Example { row, value });
        }
    }

    /// Count the non-null values of `array` read as text, and the ones `bad` flags.
    fn texts(&mut self, array: &ArrayRef, row0: u64, bad: impl Fn(&str) -> bool) -> Result<()> {
        let t = cast(array, &DataType::Utf8)?;
        let t = t.as_string::<i32>();
        for (i, s) in t.iter().enumerate() {
            let Some(s) = s else { continue };
            self.seen += 1;
            if bad(s) {
                self.hit(row0 + i as u64, Value::String(s.to_string()));
            }
        }
        Ok(())
    }

    /// The same over values read as floats.
    fn floats(&mut self, array: &ArrayRef, row0: u64, bad: impl Fn(f64) -> bool) -> Result<()> {
        let f = cast(array, &DataType::Float64)?;
        for (i, x) in f.as_primitive::<Float64Type>().iter().enumerate() {
            let Some(x) = x else { continue };
            self.seen += 1;
            if bad(x) {
                let shown = if x.is_finite() {
                    json!(x)
                } else {
                    Value::String(x.to_string())
                };
                self.hit(row0 + i as u64, shown);
            }
        }
        Ok(())
    }
}

fn evaluate(r: &mut Request, array: &ArrayRef, row0: u64) -> Result<()> {
    let found = &mut r.found;
    let Test::Matcher(m, regex, target) = &r.test else {
        // A custom `where` check: its boolean column, NULL already coalesced to false.
        for (i, ok) in array.as_boolean().iter().enumerate() {
            found.seen += 1;
            if ok != Some(true) {
                found.hit(row0 + i as u64, Value::Null);
            }
        }
        return Ok(());
    };
    match m {
        Matcher::NotIn(set) => found.texts(array, row0, |s| !set.contains(s)),
        Matcher::In(set) => found.texts(array, row0, |s| set.contains(s)),
        Matcher::OutOfRange { min, max } => found.floats(array, row0, |x| {
            min.is_some_and(|m| x < m) || max.is_some_and(|m| x > m)
        }),
        Matcher::NonFinite => found.floats(array, row0, |x| !x.is_finite()),
        Matcher::NotInteger => found.floats(array, row0, |x| x.fract() != 0.0),
        Matcher::Length { min, max } => found.texts(array, row0, |s| {
            let n = s.chars().count() as u64;
            min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m)
        }),
        Matcher::Pattern(_) => match regex {
            Some(re) => found.texts(array, row0, |s| !re.is_match(s)),
            None => Ok(()),
        },
        Matcher::NotParse(_) => {
            let Some(target) = target else { return Ok(()) };
            let t = cast(array, &DataType::Utf8)?;
            let converted = cast_with_options(
                &t,
                target,
                &CastOptions {
                    safe: true,
                    ..Default::default()
                },
            )?;
            for (i, s) in t.as_string::<i32>().iter().enumerate() {
                let Some(s) = s else { continue };
                found.seen += 1;
                if converted.is_null(i) {
                    found.hit(row0 + i as u64, Value::String(s.to_string()));
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{Field, Schema as ArrowSchema};
    use datafusion::prelude::SessionConfig;
    use preflight_stats::profile::ProfileBuilder;

    use super::*;
    use crate::validate::validate;

    const PATH: &str = "s.yaml";

    /// id 1..=6, a name, and a score with two values out of [0, 10].
    fn batch() -> RecordBatch {
        let schema = Arc::new(ArrowSchema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("score", DataType::Float64, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3, 3, 5, 5])),
                Arc::new(StringArray::from(vec![
                    Some("ann"),
                    Some("bob"),
                    Some("Cy"),
                    None,
                    Some("dee4"),
                    Some("eve"),
                ])),
                Arc::new(Float64Array::from(vec![
                    Some(1.0),
                    Some(12.0),
                    Some(3.0),
                    Some(-1.0),
                    None,
                    Some(5.0),
                ])),
            ],
        )
        .unwrap()
    }

    /// Validate the batch against `yaml`, then run the data checks over it.
    fn check(yaml: &str) -> Result<Validation> {
        let schema = Schema::parse(yaml, Path::new(PATH)).unwrap();
        let b = batch();
        let mut builder = ProfileBuilder::new(&b.schema());
        builder.update(&b).unwrap();
        let profile = builder.finish(vec!["mem".into()]);
        let mut v = validate(&schema, &profile, None);
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(1));
        ctx.register_batch("data", b).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(run(&schema, Path::new(PATH), &mut v, &ctx))?;
        Ok(v)
    }

    fn anomaly<'a>(v: &'a Validation, check: &str) -> &'a Anomaly {
        v.outcomes
            .iter()
            .find(|o| o.check == check)
            .and_then(|o| o.anomaly.as_ref())
            .unwrap_or_else(|| panic!("no anomaly for {check}: {:#?}", v.outcomes))
    }

    fn rows(a: &Anomaly) -> Vec<u64> {
        a.examples.iter().map(|e| e.row).collect()
    }

    #[test]
    fn unique_counts_repeats_and_finds_their_rows() {
        let v = check(
            "version: 1
features:
  - name: id
    type: int64
    unique: warning
  - name: name
    type: string
    unique: error
",
        )
        .unwrap();
        let a = anomaly(&v, "unique");
        assert_eq!(a.column.as_deref(), Some("id"));
        assert_eq!(a.severity, Severity::Warning);
        assert_eq!(
            a.message,
            "column `id` has 2 repeated values (`3` x2, `5` x2), expected every value unique"
        );
        assert_eq!(a.unexpected_count, Some(2));
        assert_eq!(rows(a), [2, 3, 4, 5]);
        // Names are unique (the null is not a value).
        let names = v
            .outcomes
            .iter()
            .find(|o| o.check == "unique" && o.column.as_deref() == Some("name"))
            .unwrap();
        assert!(names.anomaly.is_none());
    }

    #[test]
    fn the_rows_of_a_range_anomaly_are_found_in_order() {
        let v = check(
            "version: 1
features:
  - name: score
    type: double
    range: {min: 0, max: 10}
",
        )
        .unwrap();
        let a = anomaly(&v, "range");
        assert_eq!(rows(a), [1, 3]);
        assert_eq!(a.examples[0].value, json!(12.0));
        assert_eq!(a.unexpected_count, Some(2));
        assert_eq!(a.unexpected_share, Some(0.4));
    }

    #[test]
    fn a_pattern_is_decided_by_the_rows_and_mostly() {
        let yaml = |mostly: f64| {
            format!(
                "version: 1
features:
  - name: name
    type: string
    pattern: {{regex: '^[a-z]+$', mostly: {mostly}}}
"
            )
        };
        let v = check(&yaml(1.0)).unwrap();
        let a = anomaly(&v, "pattern");
        assert_eq!(
            a.message,
            "column `name` has 2 values (40.0%) not matching `^[a-z]+$`, expected at most 0.0%"
        );
        assert_eq!(rows(a), [2, 4]);
        assert_eq!(a.examples[0].value, json!("Cy"));
        // 60% matching is enough for mostly 0.5.
        let v = check(&yaml(0.5)).unwrap();
        let o = v.outcomes.iter().find(|o| o.check == "pattern").unwrap();
        assert!(o.anomaly.is_none());
    }

    #[test]
    fn custom_sql_and_where_checks() {
        let v = check(
            "version: 1
features:
  - name: id
    type: int64
checks:
  - name: enough_rows
    sql: SELECT count(*) >= 100 FROM data
  - name: few_rows
    sql: SELECT count(*) < 100 FROM data
  - name: positive
    where: score >= 0
    mostly: 0.9
  - name: no_such
    sql: SELECT max(nosuch) > 0 FROM data
",
        )
        .unwrap();
        let a = anomaly(&v, "enough_rows");
        assert_eq!(
            a.message,
            "check `enough_rows` failed: `SELECT count(*) >= 100 FROM data` returned false"
        );
        assert!(
            v.outcomes
                .iter()
                .any(|o| o.check == "few_rows" && o.anomaly.is_none())
        );
        // A null score is not >= 0 either: rows 3 (-1) and 4 (null) fail.
        let a = anomaly(&v, "positive");
        assert_eq!(rows(a), [3, 4]);
        assert_eq!(
            a.message,
            "check `positive` failed on 2 of 6 rows (33.3%): `score >= 0`, expected at most 10.0%"
        );
        let a = anomaly(&v, "no_such");
        assert_eq!(
            a.message,
            "check `no_such` could not run on this data: column `nosuch` is not in the data"
        );
    }

    #[test]
    fn a_check_that_is_not_a_query_stops_the_run() {
        let schema = Schema::parse(
            "version: 1
features: []
checks:
  - name: sneaky
    sql: SELECT 1
",
            Path::new(PATH),
        )
        .unwrap();
        // The text was checked when the file was read; the plan guard checks it again.
        let mut schema = schema;
        schema.checks[0].sql = Some("COPY (SELECT 1 AS a) TO '/tmp/x.csv' STORED AS CSV".into());
        let b = batch();
        let mut builder = ProfileBuilder::new(&b.schema());
        builder.update(&b).unwrap();
        let mut v = validate(&schema, &builder.finish(vec![]), None);
        let ctx = SessionContext::new();
        ctx.register_batch("data", b).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let err = runtime
            .block_on(run(&schema, Path::new(PATH), &mut v, &ctx))
            .unwrap_err();
        assert!(matches!(err, Error::Schema { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("s.yaml: check 'sneaky': {}", sql::READ_ONLY)
        );
    }

    #[test]
    fn nothing_to_run_on_a_clean_profile_without_checks() {
        let schema = Schema::parse(
            "version: 1
features:
  - name: id
    type: int64
",
            Path::new(PATH),
        )
        .unwrap();
        let b = batch();
        let mut builder = ProfileBuilder::new(&b.schema());
        builder.update(&b).unwrap();
        let v = validate(&schema, &builder.finish(vec![]), None);
        assert!(!needed(&schema, &v));
        let unique = Schema::parse(
            "version: 1
features:
  - name: id
    type: int64
    unique: error
",
            Path::new(PATH),
        )
        .unwrap();
        assert!(needed(&unique, &v));
    }

    #[test]
    fn quoting_and_mostly() {
        assert_eq!(quote("a\"b c"), "\"a\"\"b c\"");
        assert!(!fails_mostly(0.0, 10.0, 1.0));
        assert!(fails_mostly(1.0, 10.0, 1.0));
        assert!(!fails_mostly(1.0, 10.0, 0.9));
        assert!(fails_mostly(2.0, 10.0, 0.9));
        // No rows: nothing failed.
        assert!(!fails_mostly(0.0, 0.0, 1.0));
    }
}
