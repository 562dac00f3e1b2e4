//! Daily batches for the history tests: resampled from the penguins table
//! (fixtures/penguins.csv, see fixtures/MANIFEST.json) with a trend and a weekly
//! seasonality, and incidents injected on known days.

use std::path::Path;

/// What went wrong on a day, and the metric a check must flag for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incident {
    /// The batch has half its usual rows (`rows`).
    RowsHalve,
    /// `flipper_length_mm` missing in 30% of rows instead of 2%
    /// (`flipper_length_mm.missing_fraction`).
    MissingJump,
    /// `bill_length_mm` shifted up by 2 standard deviations (`bill_length_mm.mean`).
    MeanShift,
    /// No `Chinstrap` penguin in the batch (`species.distinct`).
    CategoryGone,
}

impl Incident {
    pub fn metric(self) -> &'static str {
        match self {
            Self::RowsHalve => "rows",
            Self::MissingJump => "flipper_length_mm.missing_fraction",
            Self::MeanShift => "bill_length_mm.mean",
            Self::CategoryGone => "species.distinct",
        }
    }
}

/// The incidents of the 60 days, by day (0-based).
pub const INCIDENTS: [(usize, Incident); 4] = [
    (20, Incident::RowsHalve),
    (30, Incident::MissingJump),
    (40, Incident::MeanShift),
    (50, Incident::CategoryGone),
];

/// Deterministic uniform numbers in [0, 1) (xorshift64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f64) as usize).min(n - 1)
    }
}

/// The table: header and rows of cells.
pub fn penguins() -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(super::fixture("penguins.csv")).expect("penguins.csv");
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// Write day `day`'s batch (`base` rows on an average weekday) to `dir/day_NN.csv`;
/// gives its path. Row count: `base` x (1 + 0.5% a day) x a weekly pattern (weekends
/// low) x +-3% noise. `body_mass_g` drifts up 3 g a day; `flipper_length_mm` is missing
/// in 2% of rows.
pub fn write_day(dir: &Path, day: usize, base: usize, seed: u64) -> String {
    const WEEK: [f64; 7] = [1.0, 1.05, 1.1, 1.05, 1.0, 0.8, 0.75];
    let (header, rows) = penguins();
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    let (species, bill, flipper, mass) = (
        col("species"),
        col("bill_length_mm"),
        col("flipper_length_mm"),
        col("body_mass_g"),
    );
    let incident = INCIDENTS.iter().find(|(d, _)| *d == day).map(|(_, i)| *i);
    let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(day as u64 + 1));
    let noise = 1.0 + 0.06 * (rng.uniform() - 0.5);
    let mut n = (base as f64 * (1.0 + 0.005 * day as f64) * WEEK[day % 7] * noise).round() as usize;
    if incident == Some(Incident::RowsHalve) {
        n /= 2;
    }
    let pool: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| incident != Some(Incident::CategoryGone) || r[species] != "Chinstrap")
        .collect();
    let missing = if incident == Some(Incident::MissingJump) {
        0.30
    } else {
        0.02
    };
    let mut out = header.join(",");
    out.push('\n');
    for _ in 0..n {
        let mut r = pool[rng.below(pool.len())].clone();
        if rng.uniform() < missing {
            r[flipper].clear();
        }
        if let Ok(m) = r[mass].parse::<f64>() {
            r[mass] = format!("{}", m + 3.0 * day as f64);
        }
        if incident == Some(Incident::MeanShift)
            && let Ok(b) = r[bill].parse::<f64>()
        {
            // 2 standard deviations of bill_length_mm (5.46 mm in the whole table).
            r[bill] = format!("{:.1}", b + 2.0 * 5.46);
        }
        out.push_str(&r.join(","));
        out.push('\n');
    }
    super::write(dir, &format!("day_{day:02}.csv"), out.as_bytes())
}

/// Day `day` of the test's calendar (2026-10-01 + day) as `YYYY-MM-DD`.
pub fn date(day: usize) -> String {
    let days_in = [31, 30, 31];
    let (mut m, mut d) = (0usize, day);
    while d >= days_in[m] {
        d -= days_in[m];
        m += 1;
    }
    format!("2026-{:02}-{:02}", 10 + m, d + 1)
}
