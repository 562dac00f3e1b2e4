//! Drift statistics: pure functions over numbers, no I/O (except [`sample`] and
//! [`skew`], which query a [`crate::source::Dataset`] through DataFusion).
//!
//! - [`compare`]: one column of a reference and a current dataset, from every value
//!   (exact) or from a profile's sketches, with Evidently's method choice;
//! - [`plan`]: two whole profiles ([`plan::compare_profiles`]): column pairing, skip
//!   rules, methods and schema comparators per column, an exact-refinement hook, the
//!   order of the results; what `drift`, `report` and the schema's comparators share;
//! - [`sample`]: reads every numeric value of some columns for the exact path;
//! - [`skew`]: feature skew of two datasets joined on a key, in SQL.
//!
//! Each function names the reference implementation it mirrors, and the tests in this
//! module check it against values computed by scipy/numpy
//! (`fixtures/reference/gen_drift_scipy.py` writes `drift_scipy.json`).
//!
//! | function | mirrors | notes |
//! | --- | --- | --- |
//! | [`ks_2samp`] | `scipy.stats.ks_2samp(a, b)` (two-sided, `method='auto'`) | exact p-value when both sizes are <= 10000, else `kstwo.sf(D, round(n*m/(n+m)))` |
//! | [`kolmogorov_sf`] | `scipy.stats.kstwo.sf(d, n)` | Simard & L'Ecuyer's choice of algorithm, as scipy; see [`ks`] for the one deliberate difference |
//! | [`wasserstein_distance`] | `scipy.stats.wasserstein_distance(u, v)` | |
//! | [`wasserstein_distance_norm`] | Evidently's `wasserstein` stat test | divided by `max(np.std(reference), 0.001)` (ddof = 0) |
//! | [`psi`], [`kl_divergence`] | Evidently's `psi` / `kl_div` | empty bins get Evidently's tiny floor ([`evidently_floor`]) |
//! | [`jensen_shannon_distance`] | `scipy.spatial.distance.jensenshannon(p, q, base)` | a distance: square root of the divergence |
//! | [`hellinger`] | Evidently's `hellinger` | on proportions, no floor |
//! | [`sturges_edges`], [`histogram`], [`bin_numeric`] | `numpy.histogram_bin_edges(.., 'sturges')`, `numpy.histogram`, Evidently's `get_binned_data` | last bin closed |
//! | [`chi2_contingency`] | `scipy.stats.chi2_contingency(table)` on the 2 x K table | scipy's default: Yates' correction only when dof == 1 |
//! | [`chi2_goodness_of_fit`] | Evidently's `chisquare` stat test | expected = reference counts rescaled to the current total |
//! | [`z_test`] | Evidently's `z` stat test | pooled proportion, two-sided |
//! | [`cramers_v`] | `scipy.stats.contingency.association(.., 'cramer')` | from the uncorrected chi-square |
//! | [`l_infinity`], [`total_variation`] | TFDV's L-infinity comparator; total variation distance | |
//! | [`tfdv_jensen_shannon`] | TFDV's approximate Jensen-Shannon divergence on histograms | log2, capped at 1.0 |
//! | [`auto_method`], [`drifted`] | Evidently's default stat test choice and drift decision | see [`Method`] |
//!
//! Deliberate differences from the reference tools, all at the edges:
//! - Empty samples, NaN, negative counts or mismatched lengths give a [`DriftError`]
//!   where scipy raises or returns NaN.
//! - A single category (dof 0 for the goodness-of-fit test) gives p = 1 where scipy
//!   returns NaN; Evidently then reports "no drift" too.
//! - Categories with a zero count on both sides are dropped by [`Contingency`]; scipy
//!   would refuse the table (zero expected frequency).
//! - The z-test p-value is `2 * sf(|z|)`, where Evidently computes `2 * (1 - cdf(|z|))`,
//!   which rounds to 0 below about 1e-16.

mod categorical;
pub mod compare;
mod distance;
pub mod ks;
mod method;
pub mod plan;
pub mod sample;
pub mod skew;
mod tfdv;

pub use categorical::{
    ChiSquareResult, Contingency, LInfinity, ZTestResult, chi2_contingency, chi2_goodness_of_fit,
    cramers_v, l_infinity, total_variation, z_test,
};
pub use distance::{
    Binned, Bins, VALUE_BIN_MAX_DISTINCT, WASSERSTEIN_STD_FLOOR, bin_numeric, distinct_count,
    evidently_floor, hellinger, histogram, jensen_shannon_distance, kl_divergence, psi,
    sturges_edges, sturges_edges_range, wasserstein_distance, wasserstein_distance_norm,
    wasserstein_scale,
};
pub use ks::{KsMethod, KsResult, kolmogorov_sf, ks_2samp};
pub use method::{AUTO_METHOD_HELP, Method, MethodKind, UnknownMethod, auto_method, drifted};
pub use tfdv::{HistogramBucket, TfdvHistogram, tfdv_jensen_shannon};

/// Why a drift statistic could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DriftError {
    /// One side has no values (or only zero counts).
    #[error("a sample is empty: nothing to compare")]
    EmptySample,
    /// A sample holds NaN (or, where a finite value is required, an infinity).
    #[error("a sample holds NaN or infinite values")]
    NonFinite,
    /// Two vectors that must be aligned have different lengths.
    #[error("reference has {reference} bins but current has {current}: bins must be aligned")]
    LengthMismatch { reference: usize, current: usize },
    /// A count or probability is negative or not finite.
    #[error("counts must be finite and non-negative")]
    InvalidCount,
    /// The two-proportion z-test needs at most two categories.
    #[error("the z-test compares two categories, got {0}")]
    TooManyCategories(usize),
}

#[cfg(test)]
pub(crate) mod fixture {
    //! The scipy reference values, and the sample generator the Python script documents.
    use serde::Deserialize;
    use std::collections::BTreeMap;

    pub const JSON: &str = include_str!("../../../../fixtures/reference/drift_scipy.json");

    #[derive(Deserialize)]
    pub struct Fixture {
        pub numeric: Vec<NumericCase>,
        pub kstwo_sf: Vec<KsTwoCase>,
        pub categorical: Vec<CategoricalCase>,
    }

    #[derive(Deserialize, Clone, Copy)]
    pub struct GenSpec {
        pub seed: u64,
        pub n: usize,
        pub terms: u32,
        pub modulus: u64,
        pub offset: u64,
        pub scale: f64,
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    pub enum Sample {
        Inline(Vec<f64>),
        Generated { r#gen: GenSpec },
    }

    impl Sample {
        pub fn values(&self) -> Vec<f64> {
            match self {
                Self::Inline(v) => v.clone(),
                Self::Generated { r#gen } => lcg_values(*r#gen),
            }
        }
    }

    /// The generator of `gen_drift_scipy.py`: integer arithmetic up to one final division.
    pub fn lcg_values(spec: GenSpec) -> Vec<f64> {
        let mut state = spec.seed;
        (0..spec.n)
            .map(|_| {
                let mut total = spec.offset;
                for _ in 0..spec.terms {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    total += (state >> 33) % spec.modulus;
                }
                total as f64 / spec.scale
            })
            .collect()
    }

    #[derive(Deserialize)]
    pub struct NumericCase {
        pub name: String,
        pub a: Sample,
        pub b: Sample,
        pub ks_statistic: f64,
        pub ks_pvalue: f64,
        pub ks_method: String,
        pub ks_location: f64,
        pub ks_sign: i8,
        pub wasserstein: f64,
        pub ref_std: f64,
        pub wasserstein_norm: f64,
        pub bins: BinsSpec,
        pub ref_props: Vec<f64>,
        pub cur_props: Vec<f64>,
        pub psi: f64,
        pub kl: f64,
        pub js: f64,
        pub js_base2: f64,
        pub hellinger: f64,
    }

    #[derive(Deserialize)]
    pub struct BinsSpec {
        /// IEEE bits: the edges must match numpy bit for bit.
        pub edges_bits: Option<Vec<u64>>,
        pub values: Option<Vec<f64>>,
    }

    #[derive(Deserialize)]
    pub struct KsTwoCase {
        pub n: u64,
        /// IEEE bits: branch boundaries such as `n d == 1` must be hit exactly.
        pub d_bits: u64,
        pub sf: f64,
    }

    #[derive(Deserialize)]
    pub struct CategoricalCase {
        pub name: String,
        #[serde(rename = "ref")]
        pub reference: BTreeMap<String, u64>,
        pub cur: BTreeMap<String, u64>,
        pub keys: Vec<String>,
        pub chi2: f64,
        pub chi2_p: f64,
        pub chi2_dof: u64,
        pub chi2_nc: f64,
        pub chi2_nc_p: f64,
        pub cramer_v: f64,
        #[serde(deserialize_with = "float_or_name")]
        pub gof_chi2: f64,
        pub gof_p: f64,
        pub linf: f64,
        pub linf_key: String,
        pub tvd: f64,
        pub z: Option<f64>,
        pub z_p: Option<f64>,
        pub ref_props: Vec<f64>,
        pub cur_props: Vec<f64>,
        pub psi: f64,
        pub kl: f64,
        pub js: f64,
        pub js_base2: f64,
        pub hellinger: f64,
    }

    /// The script writes non-finite floats as "inf", "-inf" or "nan" (JSON has none).
    fn float_or_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Num {
            F(f64),
            S(String),
        }
        match Num::deserialize(d)? {
            Num::F(x) => Ok(x),
            Num::S(s) => match s.as_str() {
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                "nan" => Ok(f64::NAN),
                other => Err(serde::de::Error::custom(format!("not a float: {other}"))),
            },
        }
    }

    pub fn load() -> Fixture {
        serde_json::from_str(JSON).expect("drift_scipy.json parses")
    }

    /// 1e-6 relative, or 1e-12 absolute for values near 0.
    pub fn close(actual: f64, expected: f64) -> bool {
        if actual == expected {
            return true;
        }
        if !actual.is_finite() || !expected.is_finite() {
            return false;
        }
        let diff = (actual - expected).abs();
        diff <= 1e-12 || diff <= 1e-6 * expected.abs()
    }

    #[track_caller]
    pub fn assert_close(actual: f64, expected: f64, what: &str) {
        assert!(
            close(actual, expected),
            "{what}: got {actual:e}, scipy {expected:e} (rel diff {:e})",
            ((actual - expected) / expected).abs()
        );
    }
}
