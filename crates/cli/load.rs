//! Loading the two sides of a comparison: stored profiles (merged when several) or data
//! (opened and profiled with a progress line), and the one tokio runtime every command
//! runs its DataFusion work on. Which kind of input a path is follows the one rule of
//! [`crate::inputs`].

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use anyhow::{Context, Result};
use preflight_stats::profile::Profile;
use preflight_stats::source::{Dataset, SourceOptions};
use serde::Serialize;

use crate::args::InputArgs;
use crate::progress::Progress;

/// Every value of the columns two datasets' profiles sketched (of the rows an SQL
/// predicate keeps, or of all), for exact comparisons: the hook of
/// [`preflight_stats::drift::plan::compare_profiles_with`], for `drift` over the whole
/// data and over each slice. Used inside the runtime (a `block_on` of it): each read
/// blocks its thread in place while the query runs.
pub struct DataValues<'a> {
    pub sides: [&'a Dataset; 2],
    pub filter: Option<String>,
}

impl<'a> DataValues<'a> {
    /// `read` of each side, reference first.
    fn both<T, Fut>(&self, read: impl Fn(&'a Dataset) -> Fut) -> Result<(T, T)>
    where
        Fut: std::future::Future<Output = preflight_stats::error::Result<T>>,
    {
        let [r, c] = self.sides;
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current()
                .block_on(async { anyhow::Ok((read(r).await?, read(c).await?)) })
        })
    }
}

impl preflight_stats::drift::plan::Refine for DataValues<'_> {
    type Error = anyhow::Error;

    fn numeric_values(
        &mut self,
        columns: &[String],
    ) -> Result<Option<preflight_stats::drift::plan::ColumnValues>> {
        let filter = self.filter.as_deref();
        let (r, c) =
            self.both(|ds| preflight_stats::drift::sample::numeric_values(ds, columns, filter))?;
        Ok(Some(r.into_iter().zip(c).collect()))
    }

    fn category_counts(
        &mut self,
        column: &str,
    ) -> Result<Option<preflight_stats::drift::plan::CategoryCounts>> {
        let filter = self.filter.as_deref();
        Ok(Some(self.both(|ds| {
            preflight_stats::drift::sample::category_counts(ds, column, filter)
        })?))
    }
}

/// The runtime every command runs its asynchronous work on (DataFusion's queries).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// One side: its profile and, for data, the opened dataset.
pub struct Side {
    pub inputs: Vec<String>,
    pub profile: Profile,
    pub dataset: Option<Dataset>,
    /// Stored sliced profiles (`profile --by`): their slices, which `--by` compares.
    pub sliced: Option<preflight_stats::slice::Sliced>,
}

/// What a report says of a side.
#[derive(Serialize)]
pub struct SideInfo {
    pub inputs: Vec<String>,
    /// `data` or `profile`.
    pub source: &'static str,
    pub rows: u64,
}

impl Side {
    /// The side's paths, as messages name it.
    pub fn name(&self) -> String {
        self.inputs.join(" ")
    }

    /// For the JSON report.
    pub fn info(&self) -> SideInfo {
        SideInfo {
            inputs: self.inputs.clone(),
            source: if self.dataset.is_some() {
                "data"
            } else {
                "profile"
            },
            rows: self.profile.row_count,
        }
    }

    /// Profile an opened dataset.
    pub async fn profiled(paths: &[String], mut ds: Dataset) -> Result<Self> {
        let profile = profile_dataset(paths, &mut ds).await?;
        Ok(Self {
            inputs: paths.to_vec(),
            profile,
            dataset: Some(ds),
            sliced: None,
        })
    }
}

/// Profile an opened dataset with a progress line naming `paths`.
pub async fn profile_dataset(paths: &[String], ds: &mut Dataset) -> Result<Profile> {
    profile_summarising(paths, ds, None).await
}

/// [`profile_dataset`], keeping only the summary of the numeric columns in `summary_only`
/// (see [`Dataset::profile_summarising`]).
pub async fn profile_summarising(
    paths: &[String],
    ds: &mut Dataset,
    summary_only: Option<Arc<std::collections::HashSet<String>>>,
) -> Result<Profile> {
    let rows = Arc::new(AtomicU64::new(0));
    let _progress = Progress::start(
        format!("profiling {}", paths.join(" ")),
        rows.clone(),
        ds.known_rows(),
    );
    Ok(ds.profile_summarising(rows, summary_only).await?)
}

/// A stored profile: of the whole data, or sliced (`profile --by`).
pub enum Stored {
    Whole(Profile),
    Sliced(preflight_stats::slice::Sliced),
}

/// Read one stored profile, whole or sliced.
pub fn read_stored(path: &Path) -> Result<Stored> {
    let bytes = read_file(path).context("cannot read profile")?;
    match preflight_stats::slice::sliced_from_json(&bytes, path)? {
        Some(s) => Ok(Stored::Sliced(s)),
        None => Ok(Stored::Whole(Profile::from_json(&bytes, path)?)),
    }
}

/// A whole file's bytes: a local file, or a remote object (`s3://...`, see
/// `preflight_stats::remote`). A local error names the path; a remote one names the URL.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    match path.to_str() {
        Some(url) if preflight_stats::remote::is_remote(url) => {
            Ok(preflight_stats::remote::read(url)?)
        }
        _ => std::fs::read(path).with_context(|| format!("{}: cannot read", path.display())),
    }
}

/// The side when `paths` are stored profiles (several are merged), `None` when they are
/// data; mixing both is an error.
pub fn load_profiles(paths: &[String]) -> Result<Option<Side>> {
    if !crate::inputs::profiles_or_data(paths)? {
        return Ok(None);
    }
    let mut loaded = Vec::new();
    let mut sliced = Vec::new();
    for p in paths {
        match read_stored(Path::new(p))? {
            Stored::Whole(profile) => loaded.push((p.clone(), profile)),
            // A sliced profile stands for the whole data where no slices are compared.
            Stored::Sliced(s) => {
                loaded.push((p.clone(), preflight_stats::slice::whole_of(&s.slices)?));
                sliced.push((p.clone(), s));
            }
        }
    }
    let profile = if loaded.len() == 1 {
        loaded.remove(0).1
    } else {
        Profile::merge_all(&loaded)?
    };
    // Slices when every profile of the side has them.
    let sliced = if sliced.len() == paths.len() {
        Some(preflight_stats::slice::Sliced::merge_all(&sliced)?.0)
    } else {
        None
    };
    Ok(Some(Side {
        inputs: paths.to_vec(),
        profile,
        dataset: None,
        sliced,
    }))
}

/// Every command's way to open data: [`Dataset::open`], then its doubts about how the
/// inputs are read (a CSV file that is one column) said as warnings.
pub async fn open(
    paths: &[String],
    opts: &SourceOptions,
) -> preflight_stats::error::Result<Dataset> {
    let ds = Dataset::open(paths, opts).await?;
    for w in ds.warnings() {
        crate::ui::warn_once(w);
    }
    Ok(ds)
}

/// Load one side: stored profiles (merged) or data (opened and profiled).
pub async fn load(paths: &[String], input: &InputArgs) -> Result<Side> {
    if let Some(side) = load_profiles(paths)? {
        return Ok(side);
    }
    let opts = input.to_options()?;
    let ds = open(paths, &opts).await?;
    Side::profiled(paths, ds).await
}

/// Open and profile data inputs (`profile`, `labels`).
pub fn profile_inputs(paths: &[String], input: &InputArgs) -> Result<Profile> {
    let opts = input.to_options()?;
    runtime()?.block_on(async {
        let mut ds = open(paths, &opts).await?;
        profile_dataset(paths, &mut ds).await
    })
}

/// Reads `paths` whole into memory, rows in input order (one partition, so row numbers
/// mean what DESIGN.md says), for the commands that need every row at once (the label
/// audit); refuses more than `max_rows` rows before the audit starts.
pub fn load_table(
    paths: &[String],
    mut opts: SourceOptions,
    max_rows: usize,
) -> Result<preflight_stats::labels::Table> {
    opts.partitions = 1;
    let name = paths.join(" ");
    let batches = runtime()?.block_on(async {
        let ds = open(paths, &opts).await?;
        let df = ds.context()?.table("data").await?;
        Ok::<_, anyhow::Error>(df.collect().await?)
    })?;
    let n_rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    if n_rows > max_rows {
        anyhow::bail!(
            "{name}: {n_rows} rows exceed --max-rows {max_rows}; the label audit holds the table in memory, so sample the data or raise --max-rows"
        );
    }
    Ok(preflight_stats::labels::Table::new(name, batches))
}
