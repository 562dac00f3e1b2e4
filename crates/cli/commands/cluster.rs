//! `preflight cluster scheduler|executor`: Apache DataFusion Ballista's scheduler and
//! executor processes with preflight's aggregate function (`preflight_profile`) and object
//! stores registered, so that one binary serves every role of a cluster that
//! `--cluster df://host:port` sends its profiles to. Ballista's stock images cannot decode
//! `preflight_profile`.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;

use crate::ExitStatus;

#[derive(Debug, clap::Args)]
#[command(
    about = "Run a Ballista scheduler or executor that can compute preflight's profiles",
    long_about = "Run a process of an Apache DataFusion Ballista cluster with preflight's \
profile aggregate registered: one scheduler, and executors that register with it. Then any \
data command takes --cluster df://HOST:PORT (the scheduler's address) and the cluster \
computes the profile next to the data. The scheduler and every executor must see the inputs \
at the same path as the client (a shared mount, or an s3://, gs://, az:// or https:// URL; \
object store credentials come from each process's environment).",
    after_help = "Examples:\n  preflight cluster scheduler --port 50050\n  preflight cluster executor --scheduler localhost:50050 --port 50051\n  preflight profile data/ --cluster df://localhost:50050"
)]
pub struct Args {
    #[command(subcommand)]
    role: Role,
}

#[derive(Debug, clap::Subcommand)]
enum Role {
    /// The scheduler: plans jobs and hands their tasks to executors.
    Scheduler(SchedulerArgs),
    /// An executor: runs tasks next to the data and serves their results.
    Executor(ExecutorArgs),
}

#[derive(Debug, clap::Args)]
struct SchedulerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", value_name = "HOST")]
    bind: String,
    /// Port of the scheduler's gRPC service (what `--cluster df://HOST:PORT` names).
    #[arg(long, default_value_t = 50050)]
    port: u16,
    /// The host name executors and clients reach this scheduler at.
    #[arg(long, value_name = "HOST")]
    external_host: Option<String>,
    /// Seconds without a heartbeat after which an executor is taken as dead and its
    /// tasks are run elsewhere.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    executor_timeout: u64,
    /// Executors that must have registered before the scheduler reports itself ready
    /// (`GET /readyz` on its port answers 200).
    #[arg(long, default_value_t = 1, value_name = "N")]
    min_executors: usize,
    /// Serve task results to clients through the scheduler, for clients that cannot
    /// reach the executors' addresses (outside a container network).
    #[arg(long)]
    proxy_results: bool,
}

#[derive(Debug, clap::Args)]
struct ExecutorArgs {
    /// The scheduler's HOST:PORT.
    #[arg(long, default_value = "localhost:50050", value_name = "HOST:PORT")]
    scheduler: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", value_name = "HOST")]
    bind: String,
    /// Port of the executor's Arrow Flight service (task results).
    #[arg(long, default_value_t = 50051)]
    port: u16,
    /// Port of the executor's gRPC service.
    #[arg(long, default_value_t = 50052)]
    grpc_port: u16,
    /// The host name the scheduler and other executors reach this executor at.
    #[arg(long, value_name = "HOST")]
    external_host: Option<String>,
    /// Tasks run at once [default: one per core].
    #[arg(long, value_name = "N")]
    concurrent_tasks: Option<usize>,
    /// Directory for shuffle files [default: a temporary directory].
    #[arg(long, value_name = "DIR")]
    work_dir: Option<String>,
    /// Seconds between heartbeats to the scheduler.
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    heartbeat: u64,
}

pub fn run(args: Args) -> Result<ExitStatus> {
    // Ballista's processes log through `log`; a subscriber is not ours to install, so
    // only errors reach the user, on stderr, through the command's result.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        match args.role {
            Role::Scheduler(a) => scheduler(a).await,
            Role::Executor(a) => executor(a).await,
        }
    })?;
    Ok(ExitStatus::Success)
}

async fn scheduler(a: SchedulerArgs) -> Result<()> {
    let config = SchedulerConfig {
        bind_host: a.bind.clone(),
        bind_port: a.port,
        external_host: a.external_host.unwrap_or_else(|| a.bind.clone()),
        executor_timeout_seconds: a.executor_timeout,
        expire_dead_executor_interval_seconds: a.executor_timeout.clamp(1, 15),
        min_ready_executors: a.min_executors,
        enable_embedded_flight_proxy: a.proxy_results,
        override_session_builder: Some(Arc::new(preflight_stats::cluster::session_state)),
        ..Default::default()
    };
    let addr = format!("{}:{}", config.bind_host, config.bind_port)
        .parse()
        .with_context(|| format!("--bind {} --port {}: not an address", a.bind, a.port))?;
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the scheduler: {e}"))?;
    eprintln!(
        "preflight cluster scheduler listening on {addr} (clients: --cluster df://{}:{})",
        config.external_host, config.bind_port
    );
    start_server(cluster, addr, Arc::new(config))
        .await
        .map_err(|e| anyhow::anyhow!("the scheduler stopped: {e}"))
}

async fn executor(a: ExecutorArgs) -> Result<()> {
    let Some((host, port)) = a.scheduler.rsplit_once(':') else {
        bail!("--scheduler {}: expected HOST:PORT", a.scheduler);
    };
    let scheduler_port: u16 = port
        .parse()
        .map_err(|_| anyhow::anyhow!("--scheduler {}: expected HOST:PORT", a.scheduler))?;
    let vcores = a
        .concurrent_tasks
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if vcores == 0 {
        bail!("--concurrent-tasks must be at least 1");
    }
    // Shuffle and spill files: the given directory, or a temporary one removed on exit.
    let temporary;
    let work_dir = match a.work_dir {
        Some(d) => d,
        None => {
            temporary = tempfile::Builder::new()
                .prefix("preflight-executor-")
                .tempdir()
                .context("cannot create a work directory for the executor")?;
            temporary.path().to_string_lossy().into_owned()
        }
    };
    let spill = work_dir.clone();
    // preflight's object stores (s3://, gs://, az://, https://) with their credential
    // chains, as on the client.
    let runtime: ballista_core::RuntimeProducer = Arc::new(move |_config| {
        preflight_stats::remote::runtime_env()
            .with_temp_file_path(spill.clone())
            .build_arc()
    });
    let config = ExecutorProcessConfig {
        bind_host: a.bind,
        external_host: a.external_host,
        port: a.port,
        grpc_port: a.grpc_port,
        scheduler_host: host.to_string(),
        scheduler_port,
        scheduler_connect_timeout_seconds: 10,
        vcores,
        work_dir: Some(work_dir),
        executor_heartbeat_interval_seconds: a.heartbeat.max(1),
        override_function_registry: Some(preflight_stats::cluster::function_registry()),
        override_runtime_producer: Some(runtime),
        ..Default::default()
    };
    eprintln!(
        "preflight cluster executor on port {} (gRPC {}), scheduler {}",
        config.port, config.grpc_port, a.scheduler
    );
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| anyhow::anyhow!("the executor stopped: {e}"))
}
