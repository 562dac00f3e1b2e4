//! Every Arrow type a user meets is profiled: ints, floats, decimals, strings (plain,
//! large, view), booleans, dates, timestamps with time zones, dictionary-encoded columns,
//! binary, lists and structs. Written as an Arrow IPC file, read back by `preflight`.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod common;

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, DictionaryArray,
    Float32Array, Int8Array, Int64Array, LargeStringArray, ListArray, RecordBatch, StringArray,
    StringViewArray, StructArray, TimestampNanosecondArray, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Int32Type, Int64Type, Schema};
use common::{column, profile_json};

/// `batch` as an Arrow IPC file at `path`.
fn write_arrow(path: &std::path::Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = arrow::ipc::writer::FileWriter::try_new(file, &batch.schema()).unwrap();
    w.write(batch).unwrap();
    w.finish().unwrap();
}

#[test]
fn all_arrow_types() {
    let n = 6;
    let list = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
        Some(vec![Some(1), Some(2)]),
        None,
        Some(vec![]),
        Some(vec![Some(3), None, Some(5)]),
        Some(vec![Some(7)]),
        Some(vec![Some(8), Some(9)]),
    ]);
    let strukt = StructArray::from(vec![
        (
            Arc::new(Field::new("a", DataType::Int64, true)),
            Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5, 6])) as ArrayRef,
        ),
        (
            Arc::new(Field::new("b", DataType::Utf8, true)),
            Arc::new(StringArray::from(vec!["x"; 6])) as ArrayRef,
        ),
    ]);
    let dict: DictionaryArray<Int32Type> = vec!["red", "green", "red", "red", "blue", "green"]
        .into_iter()
        .collect();
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "i8",
            Arc::new(Int8Array::from(vec![
                Some(-3),
                Some(0),
                None,
                Some(7),
                Some(7),
                Some(1),
            ])),
        ),
        ("u64", Arc::new(UInt64Array::from(vec![1, 2, 3, 4, 5, 6]))),
        (
            "f32",
            Arc::new(Float32Array::from(vec![
                Some(0.5),
                Some(f32::NAN),
                Some(f32::INFINITY),
                None,
                Some(1.5),
                Some(-0.0),
            ])),
        ),
        (
            "dec",
            Arc::new(
                Decimal128Array::from(vec![
                    Some(12345),
                    Some(-100),
                    None,
                    Some(0),
                    Some(1),
                    Some(99999),
                ])
                .with_precision_and_scale(10, 2)
                .unwrap(),
            ),
        ),
        (
            "utf8",
            Arc::new(StringArray::from(vec![
                Some("a"),
                Some("bb"),
                None,
                Some("a"),
                Some("héllo"),
                Some(""),
            ])),
        ),
        (
            "large",
            Arc::new(LargeStringArray::from(vec!["x", "y", "x", "x", "z", "x"])),
        ),
        (
            "view",
            Arc::new(StringViewArray::from(vec![
                "longer than twelve bytes",
                "s",
                "s",
                "s",
                "t",
                "u",
            ])),
        ),
        (
            "flag",
            Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                Some(true),
                None,
                Some(true),
                Some(true),
            ])),
        ),
        (
            "day",
            Arc::new(Date32Array::from(vec![
                19_000, 19_001, 19_002, 19_003, 19_004, 19_005,
            ])),
        ),
        (
            "ts",
            Arc::new(
                TimestampNanosecondArray::from(vec![1_700_000_000_000_000_000i64; n])
                    .with_timezone("America/New_York"),
            ),
        ),
        ("color", Arc::new(dict)),
        (
            "blob",
            Arc::new(BinaryArray::from(vec![
                Some(&b"ab"[..]),
                None,
                Some(b""),
                Some(b"abcd"),
                Some(b"a"),
                Some(b"abc"),
            ])),
        ),
        ("tags", Arc::new(list)),
        ("nested", Arc::new(strukt)),
    ];
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("types.arrow");
    write_arrow(&path, &batch);

    let p = profile_json(&[path.to_str().unwrap()]);
    assert_eq!(p["row_count"], 6);
    let expect = [
        ("i8", "int8", "integer"),
        ("u64", "uint64", "integer"),
        ("f32", "float", "float"),
        ("dec", "decimal128(10, 2)", "decimal"),
        ("utf8", "string", "string"),
        ("large", "string", "string"),
        ("view", "string", "string"),
        ("flag", "bool", "boolean"),
        ("day", "date32[day]", "date"),
        ("ts", "timestamp[ns, tz=America/New_York]", "timestamp"),
        ("color", "string", "string"),
        ("blob", "binary", "binary"),
        ("tags", "list<int64>", "list"),
        ("nested", "struct<a: int64, b: string>", "struct"),
    ];
    for (name, ty, kind) in expect {
        let c = column(&p, name);
        assert_eq!(c["type"], ty, "{name}");
        assert_eq!(c["kind"], kind, "{name}");
        assert_eq!(c["count"], 6, "{name}");
    }
    let i8c = column(&p, "i8");
    assert_eq!(i8c["missing"], 1);
    assert_eq!(i8c["numeric"]["min"], -3.0);
    assert_eq!(i8c["numeric"]["zeros"], 1);
    assert_eq!(i8c["top_values"][0]["value"], 7);
    let f = &column(&p, "f32")["numeric"];
    assert_eq!(
        (
            f["nan"].as_u64(),
            f["pos_inf"].as_u64(),
            f["zeros"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(f["finite"], 3);
    assert_eq!(f["max"], 1.5);
    let dec = &column(&p, "dec")["numeric"];
    assert_eq!(dec["min"], -1.0);
    assert_eq!(dec["max"], 999.99);
    let utf8 = column(&p, "utf8");
    assert_eq!(utf8["string"]["max_length"], 5, "characters, not bytes");
    assert_eq!(utf8["string"]["min_length"], 0);
    assert_eq!(utf8["top_values"][0]["value"], "a");
    assert_eq!(column(&p, "view")["string"]["max_length"], 24);
    let flag = column(&p, "flag");
    assert_eq!(flag["boolean"]["true_count"], 4);
    assert_eq!(flag["boolean"]["false_count"], 1);
    assert_eq!(flag["missing"], 1);
    let day = column(&p, "day");
    assert_eq!(day["temporal"]["min"], "2022-01-08");
    assert_eq!(day["temporal"]["max"], "2022-01-13");
    let ts = column(&p, "ts");
    assert_eq!(ts["temporal"]["min"], "2023-11-14T22:13:20Z");
    let color = column(&p, "color");
    assert_eq!(color["distinct"], 3);
    assert_eq!(color["top_values"][0]["value"], "red");
    assert_eq!(color["top_values"][0]["count"], 3);
    let blob = column(&p, "blob");
    assert_eq!(blob["binary"]["max_length"], 4);
    assert_eq!(blob["missing"], 1);
    let tags = column(&p, "tags");
    assert_eq!(tags["missing"], 1);
    assert_eq!(tags["list"]["total_values"], 8);
    assert_eq!(tags["list"]["max_values"], 3);
    assert_eq!(tags["list"]["min_values"], 0);
    assert_eq!(tags["list"]["elements"]["missing"], 1);
    assert_eq!(tags["list"]["elements"]["numeric"]["max"], 9.0);
    assert_eq!(column(&p, "nested")["missing"], 0);
}

/// A duration column reads as durations in the table (`1h30m0s`), from its numbers in the
/// JSON, which stay counts of the unit: the flights' `air_time` (minutes) as seconds.
#[test]
fn durations_read_as_durations_in_the_table() {
    use arrow::array::{Array, AsArray, DurationSecondArray};
    use arrow::datatypes::Int64Type as I64;
    let file = std::fs::File::open(common::fixture("nycflights13_flights.parquet")).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut secs: Vec<Option<i64>> = Vec::new();
    for b in reader {
        let b = b.unwrap();
        let a = b.column_by_name("air_time").unwrap().as_primitive::<I64>();
        secs.extend((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i) * 60)));
    }
    let schema = Arc::new(Schema::new(vec![Field::new(
        "air_time",
        DataType::Duration(arrow::datatypes::TimeUnit::Second),
        true,
    )]));
    let col: ArrayRef = Arc::new(DurationSecondArray::from(secs.clone()));
    let batch = RecordBatch::try_new(schema.clone(), vec![col]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("air_time.arrow");
    write_arrow(&path, &batch);
    let p = path.to_str().unwrap();

    let v = profile_json(&[p]);
    let c = column(&v, "air_time");
    let present: Vec<i64> = secs.iter().flatten().copied().collect();
    let (min, max) = (present.iter().min().unwrap(), present.iter().max().unwrap());
    assert_eq!(c["numeric"]["min"].as_f64(), Some(*min as f64));
    assert_eq!(c["numeric"]["max"].as_f64(), Some(*max as f64));
    // Hours, minutes and seconds, written out here apart from the renderer.
    let hms = |s: i64| match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    };
    assert_eq!((hms(*min), hms(*max)), ("20m0s".into(), "11h35m0s".into()));
    let median = c["numeric"]["median"].as_f64().unwrap();
    assert_eq!(median.fract(), 0.0, "{median}");
    let top = c["top_values"][0]["value"].as_f64().unwrap() as i64;
    let top_count = c["top_values"][0]["count"].as_u64().unwrap();

    let r = common::run(&["profile", p]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let row = (r.stdout.lines()).find(|l| l.contains("air_time")).unwrap();
    let cells: Vec<&str> = row.split('┆').map(|c| c.trim_matches(['│', ' '])).collect();
    assert_eq!(
        cells[3..6],
        [hms(*min), hms(median as i64), hms(*max)],
        "{row}"
    );
    assert_eq!(
        cells[7],
        format!(
            "{} ({})",
            hms(top),
            preflight_stats::number::count(top_count)
        ),
        "{row}"
    );
    // The HTML report's feature card says the same.
    let html = dir.path().join("r.html");
    let r = common::run(&["report", p, "-o", html.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = std::fs::read_to_string(&html).unwrap();
    for (name, v) in [("min", *min), ("median", median as i64), ("max", *max)] {
        let cell = format!("{name}</th><td>{}</td>", hms(v));
        assert!(html.contains(&cell), "no `{cell}` in the report");
    }
}
