//! `citytwin`: the CLI around the server library.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use citytwin::boot::{self, ServerOptions};
use citytwin::cli::{default_demo_config, Cli, Command, CommonArgs, FsyncArg};
use citytwin::config::LoadedConfig;
use citytwin::writer::WriterConfig;
use clap::Parser;
use tracing_subscriber::EnvFilter;
use twin_core::store::FsyncPolicy;
use twin_layers::ReferenceLayers;

fn main() -> ExitCode {
    keep_freed_memory_in_the_heap();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// glibc gives every freed block above its mmap threshold (128 KiB, adapting up to 32 MiB) back to
/// the kernel, and trims the heap top beyond 128 KiB. The detector allocates and frees tens of MB of
/// tensors per frame, so each frame paid for fresh page faults plus a TLB shootdown on every core:
/// a quarter of its time (BENCHMARKS.md, "Vision detector"). A fixed 32 MiB threshold (glibc's
/// maximum) and a 1 GiB trim threshold keep those buffers in the heap for reuse. An operator's own
/// `GLIBC_TUNABLES` wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn keep_freed_memory_in_the_heap() {
    if std::env::var_os("GLIBC_TUNABLES").is_some() {
        return;
    }
    // SAFETY: mallopt only changes allocator parameters and is called first thing in main, before
    // any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory_in_the_heap() {}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let (config_path, common, demo) = match cli.command {
        Command::Demo { config, common } => (config.unwrap_or_else(default_demo_config), common, true),
        Command::Serve { config, common } => (config, common, false),
        Command::Tiles { command } => return citytwin::tiles_cli::run(command),
        Command::Simulate { command } => return citytwin::simulate_cli::run(command),
        Command::Detect(args) => return citytwin::vision_cli::detect(args),
        Command::Vision { command } => return citytwin::vision_cli::run(command).await,
        Command::Decode { format, input } => {
            citytwin::decode_cli::run(format, &input)?;
            return Ok(());
        }
    };
    let config = LoadedConfig::load(&config_path)?;
    let layers = load_layers(&config)?;
    let opts = server_options(&config, &common);
    let data_dir = opts.data_dir.clone();
    std::fs::create_dir_all(&data_dir).with_context(|| format!("cannot create data dir {}", data_dir.display()))?;
    let running = {
        let layers = layers.clone();
        tokio::task::spawn_blocking(move || boot::start(opts, layers)).await??
    };
    let state = running.state.clone();
    state.tiles.load_dem(&config.raw.tiles, &config.base_dir).context("loading the terrain DEM")?;
    let raw = &config.raw;
    state.viewer.configure(&raw.viewer);
    let _feeds = citytwin::connectors::start(&state, raw, &config.base_dir)?;
    state.feeds.configure(&raw.feeds);
    // The demo's sensors publish over MQTT: to the configured broker, else to an embedded one.
    let mqtt = raw.mqtt.clone().or_else(|| demo.then(Default::default));
    let started = citytwin::feeds::start(&state, mqtt.as_ref(), &raw.ais, &raw.sensors, &config.base_dir).await?;
    let cameras = if common.no_cameras { &[][..] } else { &raw.cameras[..] };
    let _cameras = citytwin::cameras::start(&state, cameras, &config.base_dir, &data_dir)?;
    let _postgis = citytwin::postgis_backend::start(&state, raw.postgis.as_ref()).await?;
    let listener = tokio::net::TcpListener::bind(common.listen)
        .await
        .with_context(|| format!("cannot listen on {}", common.listen))?;
    let addr = listener.local_addr()?;
    if demo {
        // After the bind: the demo's trackers and GTFS-realtime poller talk to this address.
        start_demo(&config, &running.state, layers, &started, addr);
    }
    // Tests and scripts parse this line.
    println!("listening on http://{addr}");
    std::io::stdout().flush()?;
    tracing::info!(%addr, city = %config.raw.city.name, data_dir = %data_dir.display(), "serving");
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let mut graceful = stop_rx.clone();
    let serve = axum::serve(listener, citytwin::app::app(state)).with_graceful_shutdown(async move {
        let _ = graceful.wait_for(|s| *s).await;
    });
    // Live streams (SSE, WebSocket) never end on their own: give open requests a moment, then stop.
    let deadline = async {
        let _ = stop_rx.wait_for(|s| *s).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    tokio::select! {
        res = serve => res?,
        () = deadline => tracing::info!("closing remaining live connections"),
    }
    tracing::info!("shutting down: flushing the durable log");
    tokio::task::spawn_blocking(move || running.shutdown()).await?;
    Ok(())
}

fn load_layers(config: &LoadedConfig) -> anyhow::Result<Arc<ReferenceLayers>> {
    let mut layers = ReferenceLayers::load(&config.raw.layers, &config.base_dir)
        .with_context(|| format!("loading reference layers of {}", config.path.display()))?;
    layers.layers.extend(citytwin::connectors::gtfs_layers(config.raw.gtfs.as_ref(), &config.base_dir)?);
    for l in &layers.layers {
        tracing::info!(layer = %l.name, features = l.features.len(), "reference layer loaded");
    }
    Ok(Arc::new(layers))
}

fn server_options(config: &LoadedConfig, common: &CommonArgs) -> ServerOptions {
    let fsync = match common.fsync {
        None => config.fsync_policy(),
        Some(FsyncArg::Always) => FsyncPolicy::Always,
        Some(FsyncArg::Interval) => {
            FsyncPolicy::Interval(Duration::from_millis(config.raw.store.fsync_interval_ms.max(1)))
        }
    };
    // Cameras add their alert rules and a short detection expiry before the log is replayed.
    let (mut twin, mut rules) = (config.twin.clone(), config.rules.clone());
    citytwin::cameras::model_defaults(&config.raw.cameras, &mut twin, &mut rules);
    ServerOptions {
        data_dir: common.data_dir.clone(),
        fsync,
        repair: common.repair,
        snapshot_after_bytes: Some(config.raw.store.snapshot_after_mb.saturating_mul(1 << 20)),
        writer: WriterConfig { queue_capacity: common.queue_capacity, ..WriterConfig::default() },
        body_limit: common.body_limit,
        city_name: config.raw.city.name.clone(),
        city_bbox: config.bbox,
        twin,
        rules,
    }
}

/// Starts the simulators (labelled simulated); they reach the server through its feeds' protocols.
fn start_demo(
    config: &LoadedConfig,
    state: &citytwin::state::AppState,
    layers: Arc<ReferenceLayers>,
    feeds: &citytwin::feeds::Started,
    addr: std::net::SocketAddr,
) {
    let ctx = citytwin::demo::DemoContext {
        ingest: state.ingest.clone(),
        layers,
        base_dir: config.base_dir.clone(),
        city_bbox: config.bbox,
    };
    let transports = citytwin::demo::transport::Transports::new(feeds, state).over_http(addr, state);
    tokio::spawn(citytwin::demo::run_with(config.raw.demo.clone(), ctx, transports));
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received"),
        _ = term => tracing::info!("SIGTERM received"),
    }
}
