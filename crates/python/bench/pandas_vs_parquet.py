"""Benchmark: profiling a 3M-row pandas DataFrame through the Python API against
profiling the same rows from a Parquet file, in the same process (issue 16's target:
within 1.2x). Build the wheel in release first:

    maturin build --release -m crates/python/Cargo.toml --out /tmp/wheels
    pip install --force-reinstall /tmp/wheels/preflight_dq-*.whl
    python crates/python/bench/pandas_vs_parquet.py [copies of flights, default 9]

Prints each time (best of 3), the ratios, and the bytes the process wrote while
profiling the DataFrame (the profile's JSON only: the data is not copied to disk).
"""

import os
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import preflight

ROOT = Path(__file__).resolve().parents[3]


def best(f, runs=3):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def written():
    with open("/proc/self/io") as f:
        return int(next(l for l in f if l.startswith("wchar:")).split()[1])


def main():
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    flights = pq.read_table(ROOT / "fixtures/nycflights13_flights.parquet")
    table = pa.concat_tables([flights] * copies).combine_chunks()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "flights.parquet")
        pq.write_table(table, path, row_group_size=128 * 1024)
        df = table.to_pandas()
        print(f"{table.num_rows:,} rows x {table.num_columns} columns; "
              f"pandas {df.memory_usage(deep=True).sum() / 1e6:.0f} MB in memory, "
              f"Parquet {os.path.getsize(path) / 1e6:.0f} MB")
        t_parquet = best(lambda: preflight.profile(path))
        t_table = best(lambda: preflight.profile(table))
        t_pandas = best(lambda: preflight.profile(df))
        t_convert = best(lambda: pa.Table.from_pandas(df, preserve_index=False))
        w = written()
        preflight.profile(df)
        w = written() - w
    print(f"profile Parquet file        {t_parquet:7.3f} s")
    print(f"profile pyarrow Table       {t_table:7.3f} s  {t_table / t_parquet:.2f}x Parquet")
    print(f"profile pandas DataFrame    {t_pandas:7.3f} s  {t_pandas / t_parquet:.2f}x Parquet "
          f"(target <= 1.2x); of which pandas -> Arrow {t_convert:.3f} s")
    print(f"bytes written while profiling the DataFrame: {w:,}")


if __name__ == "__main__":
    main()
