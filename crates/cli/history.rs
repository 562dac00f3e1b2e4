//! The history flags `profile` and `validate` share (`--history DIR`, `--tag k=v`,
//! `--at TIME`), checked before any work, and appending a run's record.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use preflight_stats::history::RunMetrics;
use preflight_stats::history::store::{self, NewRun, parse_tag, parse_time};
use preflight_stats::profile::Profile;

/// `--history`, `--tag`, `--at`.
#[derive(Debug, Clone, clap::Args)]
pub struct HistoryArgs {
    /// Append this run's metrics (and its profile) to the metrics history in DIR; with
    /// `validate`, also check the schema's history checks against the runs before this
    /// one. DIR is created if needed.
    #[arg(long, value_name = "DIR")]
    pub history: Option<PathBuf>,
    /// Tag the run (repeatable): `--tag dataset=orders`. With `validate`, only past runs
    /// with these tags are its history. A `date` or `time` tag is also the run's time
    /// when --at is not given (and then does not select the history).
    #[arg(long = "tag", value_name = "KEY=VALUE", requires = "history")]
    pub tags: Vec<String>,
    /// The run's time: 2026-12-01, 2026-12-01T06:00:00 (UTC) or RFC 3339 [default: a
    /// `date`/`time` tag, else now]. Freshness checks are relative to it.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

/// The flags checked.
#[derive(Debug, Clone)]
pub struct HistoryPlan {
    pub dir: Option<PathBuf>,
    /// Every tag of the run (stored in its record).
    pub tags: BTreeMap<String, String>,
    /// The tags that select the history (without a `date`/`time` tag that gave the time).
    pub filter: BTreeMap<String, String>,
    pub at_ms: i64,
}

impl HistoryArgs {
    pub fn plan(&self) -> Result<HistoryPlan> {
        let mut tags = BTreeMap::new();
        for t in &self.tags {
            let (k, v) = parse_tag(t).map_err(|e| anyhow::anyhow!("--tag: {e}"))?;
            tags.insert(k, v);
        }
        let mut filter = tags.clone();
        let at_ms = match &self.at {
            Some(at) => parse_time(at).map_err(|e| anyhow::anyhow!("--at: {e}"))?,
            None => match ["time", "date"]
                .iter()
                .find_map(|k| tags.get(*k).map(|v| (*k, v)))
            {
                Some((k, v)) => {
                    let t = parse_time(v).map_err(|e| anyhow::anyhow!("--tag {k}={v}: {e}"))?;
                    filter.remove(k);
                    t
                }
                None => store::now_ms(),
            },
        };
        Ok(HistoryPlan {
            dir: self.history.clone(),
            tags,
            filter,
            at_ms,
        })
    }
}

impl HistoryPlan {
    /// `profile --by --history`: the whole dataset's run (the merge of every slice), then
    /// one run per slice kept (but `__other__`), tagged `slice=KEY` besides the run's own tags
    /// ([`store::SLICE_TAG`]; such runs stay out of the whole dataset's series).
    pub fn record_slices(
        &self,
        inputs: &[String],
        slices: &[preflight_stats::slice::Slice],
    ) -> Result<()> {
        if self.dir.is_none() {
            return Ok(());
        }
        let whole = preflight_stats::slice::whole_of(slices)?;
        self.record("profile", inputs, &whole, None, Vec::new())?;
        for s in slices
            .iter()
            .filter(|s| s.key != preflight_stats::slice::OTHER)
        {
            self.for_slice(&s.key)
                .record("profile", inputs, &s.profile, None, Vec::new())?;
        }
        Ok(())
    }

    /// The plan of one slice's run: its own tags and history filter plus `slice=KEY`.
    /// `__other__` has no series of its own (the keys it gathers change from run to run),
    /// so callers leave it out.
    pub fn for_slice(&self, key: &str) -> HistoryPlan {
        let mut one = self.clone();
        let value = store::slice_tag_value(key);
        one.tags.insert(store::SLICE_TAG.to_string(), value.clone());
        one.filter.insert(store::SLICE_TAG.to_string(), value);
        one
    }

    /// Append the run (its profile, then its record) when a history was given.
    pub fn record(
        &self,
        command: &str,
        inputs: &[String],
        profile: &Profile,
        metrics: Option<&RunMetrics>,
        flagged: Vec<String>,
    ) -> Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let json = serde_json::to_vec(profile)?;
        let own;
        let metrics = match metrics {
            Some(m) => m,
            None => {
                own = RunMetrics::from_profile(profile);
                &own
            }
        };
        store::append(
            dir,
            NewRun {
                time_ms: self.at_ms,
                command,
                tags: &self.tags,
                inputs,
                flagged,
            },
            metrics,
            &json,
        )
        .with_context(|| format!("could not add the run to the history {}", dir.display()))?;
        Ok(())
    }
}
