#!/usr/bin/env python3
"""Writes the committed bad-input corpus (tests/bad_inputs/files/). Run once with pyarrow
installed; the test (tests/bad_inputs.rs) reads only the committed files, plus a few large
cases it generates itself (10 MB cell, 100,000-column header, symlink loop, names with
control characters) so the repository stays small. Re-run only to add a case."""
import gzip
import io
import json
import os
import shutil

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "files")


def w(name, data):
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)


def parquet_bytes(table, **kw):
    buf = io.BytesIO()
    pq.write_table(table, buf, **kw)
    return buf.getvalue()


def ipc_file_bytes(table):
    sink = io.BytesIO()
    with ipc.new_file(sink, table.schema) as wr:
        wr.write_table(table)
    return sink.getvalue()


if os.path.isdir(OUT):
    shutil.rmtree(OUT)
os.makedirs(OUT)

# ---- CSV ------------------------------------------------------------------------------
w("csv/empty.csv", "")
w("csv/only_newlines.csv", "\n\n\n")
w("csv/header_only.csv", "a,b,c\n")
w("csv/ragged.csv", "a,b,c\n1,2,3\n4,5\n6,7,8\n")
w("csv/latin1.csv", "name,city\nx,Berlin\ny,K\xf6ln\n".encode("latin-1"))
w("csv/bom.csv", "\ufeffa,b\n1,2\n3,4\n")
w("csv/crlf.csv", "a,b\r\n1,x\r\n2,y\r\n")
w("csv/unterminated_quote.csv", 'a,b\n1,"open\n2,x\n3,y\n')
w("csv/nul_bytes.csv", "a,b\n1,x\x00y\n2,z\n")
w("csv/duplicate_columns.csv", "a,b,a\n1,2,3\n")
w("csv/empty_column_name.csv", "a,,c\n1,2,3\n4,5,6\n")
w("csv/mixed_types_late.csv", "n,s\n" + "".join(f"{i},v{i}\n" for i in range(1500)) + "oops,v\n")
w("csv/integers_beyond_i64.csv", "big\n1\n99999999999999999999\n-99999999999999999999\n")
w("csv/impossible_date_late.csv",
  "d,t\n" + "".join(f"2024-01-{(i % 28) + 1:02d},12:00:00\n" for i in range(1200)) + "2024-02-31,25:00:00\n")
w("csv/infinity.csv", "x\n1.5\nInfinity\n-Infinity\nINF\ninf\n-inf\nNaN\n2\n")
w("csv/quote_inside_field.csv", 'a,b\n1,x"y\n2,z\n')
w("csv/hostile_names.csv",
  '"<script>alert(1)</script>","evil\x1b[31mred","new\nline","rtl\u202egnp.exe"\n'
  '1,"\x1b[2J\x1b[Hcleared","cell\u202eabc","<b>bold</b>"\n2,"x","y","z"\n')
w("csv/whitespace_values.csv", "island\nBiscoe \nBiscoe\nBiscoe \n Dream\nBiscoe \n")
w("csv/parquet_named.csv", parquet_bytes(pa.table({"a": [1, 2, 3]})))
gz = gzip.compress(b"a,b\n" + "".join(f"{i},{i * 7 % 13}\n" for i in range(5000)).encode())
w("csv/truncated.csv.gz", gz[: len(gz) // 2])
w("csv/swapped_headers/jan.csv", "price,weight\n10.5,1\n11.5,2\n")
w("csv/swapped_headers/feb.csv", "weight,price\n3,12.5\n4,13.5\n")
w("csv/different_headers/one.csv", "a,b\n1,2\n")
w("csv/different_headers/two.csv", "x,y\n3,4\n")
w("csv/br[1].csv", "a\n1\n2\n")
w("csv/conflicting_types/one.csv", "k,v\n1,2024-01-01\n")
w("csv/conflicting_types/two.csv", "k,v\n2,true\n")

# ---- Parquet ----------------------------------------------------------------------------
good = parquet_bytes(pa.table({"a": list(range(1000)), "b": [f"s{i}" for i in range(1000)]}))
w("parquet/empty.parquet", b"")
w("parquet/text_named.parquet", "a,b\n1,2\n")
w("parquet/truncated.parquet", good[: len(good) // 2])
corrupt = bytearray(good)
for i in range(len(corrupt) - 40, len(corrupt) - 8):
    corrupt[i] ^= 0xFF
w("parquet/corrupt_footer.parquet", bytes(corrupt))
# Crafted by the `parquet` fuzz target (fuzz/upstream/parquet/): arrow-ipc and parquet
# panic on these footers unless preflight's pre-check decodes them first.
UPSTREAM = os.path.join(HERE, "..", "..", "fuzz", "upstream", "parquet")
for name, crash in [
    # ARROW:schema holds an integer type of an impossible bit width
    ("bad_arrow_schema.parquet", "crash-22e2a7a4ffd709ef3b5f5a4cca5d173a792f6d62"),
    # a column chunk starting at a negative offset
    ("negative_chunk_offset.parquet", "crash-b4d56194ed9631298488d2c32a4b2b9debc6d6a4"),
    # a row group with a negative row count (DataFusion multiplied it, as usize, by the value width)
    ("impossible_row_count.parquet", "crash-4fe2c0e9d91c888e5da65914759fce842b7ee7e7"),
]:
    with open(os.path.join(UPSTREAM, crash), "rb") as f:
        w("parquet/" + name, f.read())
w("parquet/zero_rows.parquet",
  parquet_bytes(pa.table({"a": pa.array([], pa.int64()), "b": pa.array([], pa.string())})))
w("parquet/nested.parquet", parquet_bytes(pa.table({
    "s": pa.array([{"x": 1, "y": "a"}, None, {"x": 3, "y": None}]),
    "l": pa.array([[1, 2], [], None]),
    "m": pa.array([[("k", 1)], None, [("j", 2)]], pa.map_(pa.string(), pa.int64())),
})))
import decimal
w("parquet/decimal.parquet", parquet_bytes(pa.table({
    "d": pa.array([decimal.Decimal("1.23"), None, decimal.Decimal("-99.99")], pa.decimal128(10, 2))})))
w("parquet/dictionary.parquet", parquet_bytes(pa.table({
    "c": pa.array(["x", "y", "x", None]).dictionary_encode()})))
dup = pa.Table.from_arrays([pa.array([1, 2]), pa.array([3, 4])], names=["a", "a"])
w("parquet/duplicate_columns.parquet", parquet_bytes(dup))
w("parquet/evolution/part-0.parquet", parquet_bytes(pa.table({"id": pa.array([1, 2], pa.int32())})))
w("parquet/evolution/part-1.parquet",
  parquet_bytes(pa.table({"id": pa.array([3, 4], pa.int64()), "extra": ["a", "b"]})))
w("parquet/conflicting/part-0.parquet", parquet_bytes(pa.table({"v": pa.array([1, 2], pa.int64())})))
w("parquet/conflicting/part-1.parquet", parquet_bytes(pa.table({"v": ["a", "b"]})))

# ---- NDJSON -----------------------------------------------------------------------------
w("ndjson/empty.ndjson", "")
w("ndjson/broken_line3.ndjson", '{"a": 1}\n{"a": 2}\n{"a": \n{"a": 4}\n')
w("ndjson/not_objects.ndjson", "[1, 2]\n[3, 4]\n")
w("ndjson/mixed_types.ndjson", '{"a": 1}\n{"a": "x"}\n')
w("ndjson/scalar_then_object.ndjson", '{"a": 1}\n{"a": {"q": 1}}\n')
w("ndjson/deep.ndjson", '{"a": ' + "[" * 5000 + "]" * 5000 + "}\n")
gz = gzip.compress("".join(f'{{"a": {i}}}\n' for i in range(5000)).encode())
w("ndjson/truncated.ndjson.gz", gz[: len(gz) // 2])
w("ndjson/key_order.ndjson", '{"z": 1, "a": 2, "m": 3}\n{"z": 4, "a": 5, "m": 6}\n')

# ---- Arrow IPC --------------------------------------------------------------------------
arrow_good = ipc_file_bytes(pa.table({"a": list(range(100))}))
w("ipc/truncated.arrow", arrow_good[: len(arrow_good) // 2])
w("ipc/magic_only.arrow", b"ARROW1\x00\x00" + b"\x00" * 8 + b"ARROW1")
# A file whose footer claims a huge body: valid magic, then a footer length pointing far
# past the file's start (a crafted 108-byte header of this kind allocated 2 GB).
crafted = bytearray(b"ARROW1\x00\x00")
crafted += (0xFFFFFFFF).to_bytes(4, "little") + (0x7FFFFFF0).to_bytes(4, "little")
crafted += b"\x00" * (108 - len(crafted) - 10)
crafted += (0x7FFFFFF0).to_bytes(4, "little") + b"ARROW1"
w("ipc/crafted_length.arrow", bytes(crafted))

# ---- schema YAML (validated against fixtures/penguins.csv) ----------------------------------
w("schema/malformed.yaml", "version: 1\nfeatures:\n  - name: a\n   type: string\n")
w("schema/unknown_field.yaml", "version: 1\nfeatures:\n  - name: island\n    type: string\n    colour: blue\n")
w("schema/wrong_version.yaml", "version: 99\nfeatures: []\n")
w("schema/empty.yaml", "")
bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
for i in range(1, 9):
    bomb += f"{chr(97 + i)}: &{chr(97 + i)} [*{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}, *{chr(96 + i)}]\n"
w("schema/alias_bomb.yaml", bomb)
w("schema/catastrophic_regex.yaml",
  "version: 1\nfeatures:\n  - name: island\n    type: string\n    pattern: {regex: '(a+)+$'}\n")
w("schema/huge_regex.yaml",
  "version: 1\nfeatures:\n  - name: island\n    type: string\n    pattern: {regex: '\\w{1000}{1000}'}\n")
w("schema/sql_copy.yaml",
  "version: 1\nfeatures: []\nchecks:\n  - name: sneaky\n    sql: COPY (SELECT 1 AS a) TO 'DATA_PATH' STORED AS CSV\n")
w("schema/sql_external_table.yaml",
  "version: 1\nfeatures: []\nchecks:\n  - name: peek\n    sql: CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '/etc/passwd'\n")
w("schema/sql_second_statement.yaml",
  "version: 1\nfeatures: []\nchecks:\n  - name: two\n    where: \"1 = 1; DROP TABLE data\"\n")
w("schema/sql_missing_column.yaml",
  "version: 1\nfeatures:\n  - name: no_such_column\n    type: double\nchecks:\n  - name: uses_missing\n    where: no_such_column > 0\n")
w("schema/profile_as_schema.json", json.dumps({"version": 1, "row_count": 3, "columns": []}))

# ---- labels -------------------------------------------------------------------------------
w("labels/one_class.csv", "x,y\n1,a\n2,a\n3,a\n4,a\n")
w("labels/one_row.csv", "x,y\n1,a\n")
w("labels/all_null_labels.csv", "x,y\n1,\n2,\n3,\n")
w("labels/float_label.csv", "x,z,y\n" + "".join(f"{(i * 7919) % 1000 / 10},{i % 3},{i * 0.37:.4f}\n" for i in range(3000)))
w("labels/data.csv", "x,y\n" + "".join(f"{i},{'ab'[i % 2]}\n" for i in range(40)))
w("labels/probs_wrong_rows.csv", "a,b\n" + "0.5,0.5\n" * 39)
w("labels/probs_nan.csv", "a,b\n" + "0.5,0.5\n" * 10 + "NaN,0.5\n" + "0.5,0.5\n" * 29)
w("labels/probs_negative.csv", "a,b\n" + "0.5,0.5\n" * 10 + "-0.5,1.5\n" + "0.5,0.5\n" * 29)
w("labels/probs_unnormalised.csv", "a,b\n" + "0.5,0.5\n" * 10 + "3,4\n" + "0.5,0.5\n" * 29)

print("corpus written to", OUT)
