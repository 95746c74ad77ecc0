//! Composition: every part of the server built once, complete, in order — the runtime core over
//! the data directory, the feeds, the cameras, the PostGIS backend, the app state and the router —
//! then served until a signal.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use twin_core::store::FsyncPolicy;
use twin_feeds::Feeds;
use twin_layers::ReferenceLayers;
use twin_runtime::{RuntimeOptions, WriterConfig};
use twin_scenarios::jobs::ScenarioJobs;

use crate::cli::{CommonArgs, FsyncArg};
use crate::config::LoadedConfig;
use crate::routes::viewer::ViewerSettings;
use crate::state::{AppState, City, Parts};
use twin_feeds::reports::ReportStore;

/// Loads the city config's reference layers (and the static GTFS feed's route and stop layers).
pub fn load_layers(config: &LoadedConfig) -> anyhow::Result<Arc<ReferenceLayers>> {
    let mut layers = ReferenceLayers::load(&config.raw.layers, &config.base_dir)
        .with_context(|| format!("loading reference layers of {}", config.path.display()))?;
    layers.layers.extend(twin_feeds::connectors::gtfs_layers(config.raw.gtfs.as_ref(), &config.base_dir)?);
    for l in &layers.layers {
        tracing::info!(layer = %l.name, features = l.features.len(), "reference layer loaded");
    }
    Ok(Arc::new(layers))
}

/// The runtime's options from the city config and the command line.
pub fn runtime_options(config: &LoadedConfig, common: &CommonArgs) -> RuntimeOptions {
    let fsync = match common.fsync {
        None => config.fsync_policy(),
        Some(FsyncArg::Always) => FsyncPolicy::Always,
        Some(FsyncArg::Interval) => {
            FsyncPolicy::Interval(Duration::from_millis(config.raw.store.fsync_interval_ms.max(1)))
        }
    };
    #[allow(unused_mut)] // only the cameras change it
    let mut twin = config.twin.clone();
    // Cameras set a short detection expiry before the log is replayed.
    #[cfg(feature = "cameras")]
    twin_cameras::model_defaults(&config.raw.cameras, &mut twin);
    RuntimeOptions {
        data_dir: common.data_dir.clone(),
        fsync,
        repair: common.repair,
        snapshot_after_bytes: Some(config.raw.store.snapshot_after_mb.saturating_mul(1 << 20)),
        writer: WriterConfig { queue_capacity: common.queue_capacity, ..WriterConfig::default() },
        twin,
        rules: config.rules.clone(),
        tiles: config.raw.tiles.clone(),
        base_dir: config.base_dir.clone(),
    }
}

/// The demo's accounts, and the refusals that keep a server from being reachable without
/// protection: a non-loopback address needs an admin account, and the demo's well-known default
/// password stays on loopback.
fn prepare_accounts(
    config: &LoadedConfig,
    common: &CommonArgs,
    demo_password: Option<&str>,
    access: &twin_auth::Access,
) -> anyhow::Result<Option<twin_feeds::mqtt::Credentials>> {
    let loopback = common.listen.ip().is_loopback();
    if let Some(password) = demo_password {
        if !loopback && password == DEMO_PASSWORD {
            anyhow::bail!(
                "--listen {}: the demo's accounts have the well-known password `{DEMO_PASSWORD}`; \
                 listen on 127.0.0.1 or give --demo-password",
                common.listen
            );
        }
        let demo = crate::users_cli::demo_accounts(&common.data_dir, &config.raw.agencies, password)?;
        access.reload_if_changed()?;
        if !demo.created.is_empty() {
            tracing::info!(accounts = %demo.created.join(", "), "demo accounts created");
        }
        let mut names = vec!["admin".to_owned(), "leader".to_owned()];
        names.extend(config.raw.agencies.iter().map(|a| a.id.as_str().to_owned()));
        let shown = if password == DEMO_PASSWORD { password } else { "(the --demo-password you gave)" };
        println!("sign in as {} with the password {shown}", names.join(", "));
        let trackers = crate::users_cli::DEMO_TRACKERS.to_owned();
        return Ok(Some(twin_feeds::mqtt::Credentials { username: trackers, password: demo.trackers_secret }));
    } else if !loopback && access.admins() == 0 {
        anyhow::bail!(
            "--listen {}: no admin account in {}; add one first: citytwin users add NAME --role admin --data-dir {}",
            common.listen,
            common.data_dir.display(),
            common.data_dir.display()
        );
    }
    Ok(None)
}

/// The ingest source a device account names to log in to the embedded MQTT broker.
pub const MQTT_SOURCE: &str = "mqtt";

/// The demo's default password (loopback only).
pub const DEMO_PASSWORD: &str = "demo";

/// `citytwin serve` and `citytwin demo` (with the demo accounts' password): runs until SIGINT
/// or SIGTERM, then flushes the log.
pub async fn run(config_path: PathBuf, common: CommonArgs, demo_password: Option<String>) -> anyhow::Result<()> {
    let demo = demo_password.is_some();
    let config = LoadedConfig::load(&config_path)?;
    let layers = load_layers(&config)?;
    let opts = runtime_options(&config, &common);
    let data_dir = opts.data_dir.clone();
    std::fs::create_dir_all(&data_dir).with_context(|| format!("cannot create data dir {}", data_dir.display()))?;
    let access = Arc::new(twin_auth::Access::open(&data_dir, config.policy.clone(), config.raw.auth.clone())?);
    let tracker_login = prepare_accounts(&config, &common, demo_password.as_deref(), &access)?;
    let running = {
        let layers = layers.clone();
        tokio::task::spawn_blocking(move || twin_runtime::start(opts, &layers)).await??
    };
    let core = running.core.clone();
    let raw = &config.raw;

    let feeds = Arc::new(Feeds::new(&raw.feeds));
    let devices = Arc::new(twin_feeds::connectors::device_registry(&raw.devices, &raw.trackers)?);
    let _connectors =
        twin_feeds::connectors::start(&core, &feeds, raw.gtfs.as_ref(), &raw.gpx_replay, &config.base_dir);
    // The demo's sensors publish over MQTT: to the configured broker, else to an embedded one.
    let mqtt = raw.mqtt.clone().or_else(|| demo.then(Default::default));
    // Device logins at the embedded broker: accounts granted the `mqtt` source (the server's own
    // clients have their own login).
    let broker_access = access.clone();
    let broker_auth: Arc<dyn twin_feeds::broker::BrokerAuth> = Arc::new(move |user: &str, secret: &str| {
        broker_access.device(user, secret).is_ok_and(|p| {
            let source = twin_auth::Resource::IngestSource(MQTT_SOURCE);
            twin_auth::authorize(&p, twin_auth::Action::Write, &source).is_allowed()
        })
    });
    let started =
        twin_feeds::feeds::start(&core, &feeds, mqtt.as_ref(), broker_auth, &raw.ais, &raw.sensors, &config.base_dir)
            .await?;

    #[cfg(feature = "cameras")]
    let cameras = Arc::new(twin_cameras::CameraRegistry::default());
    #[cfg(feature = "cameras")]
    let _cameras = {
        let sections = if common.no_cameras { &[][..] } else { &raw.cameras[..] };
        twin_cameras::start(&core, &cameras, &feeds.registry, sections, &config.base_dir, &data_dir)?
    };
    #[cfg(not(feature = "cameras"))]
    if !raw.cameras.is_empty() {
        tracing::warn!(
            cameras = raw.cameras.len(),
            "this citytwin was built without the `cameras` feature: [[cameras]] ignored"
        );
    }
    let _postgis = crate::postgis_backend::start(&core, raw.postgis.as_ref()).await?;

    let state = AppState::new(
        &core,
        Parts {
            layers: layers.clone(),
            city: City { name: raw.city.name.clone(), bbox: config.bbox },
            body_limit: common.body_limit,
            devices,
            reports: Arc::new(ReportStore::new(&data_dir)),
            feeds: feeds.clone(),
            scenarios: Arc::new(ScenarioJobs::default()),
            #[cfg(feature = "cameras")]
            cameras,
            viewer: Arc::new(ViewerSettings::new(&raw.viewer)),
            access: access.clone(),
            public_url: String::new(),
            origins: raw.city.origins.clone(),
            data_dir: data_dir.clone(),
        },
    );
    let listener = tokio::net::TcpListener::bind(common.listen)
        .await
        .with_context(|| format!("cannot listen on {}", common.listen))?;
    let addr = listener.local_addr()?;
    let mut state = state;
    state.public_url =
        raw.city.public_url.clone().unwrap_or_else(|| format!("http://{addr}")).trim_end_matches('/').into();
    // `citytwin users …` on a running server: applied within seconds.
    let reload = access.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(2));
        loop {
            every.tick().await;
            match reload.reload_if_changed() {
                Ok(true) => tracing::info!("accounts reloaded"),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "accounts not reloaded; the previous ones stay in force"),
            }
        }
    });
    if demo {
        // After the bind: the demo's trackers and GTFS-realtime poller talk to this address.
        let ctx = twin_demo::DemoContext {
            ingest: core.ingest.clone(),
            layers,
            base_dir: config.base_dir.clone(),
            city_bbox: config.bbox,
        };
        let mut transports = twin_demo::transport::Transports::new(&started, &feeds).over_http(addr, &feeds);
        if let Some(login) = tracker_login {
            transports = transports.tracker_login(login);
        }
        tokio::spawn(twin_demo::run_with(raw.demo.clone(), ctx, transports));
    }
    // Tests and scripts parse this line.
    println!("listening on http://{addr}");
    std::io::stdout().flush()?;
    tracing::info!(%addr, city = %raw.city.name, data_dir = %data_dir.display(), "serving");
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let mut graceful = stop_rx.clone();
    let limits = crate::listener::Limits {
        header_read_timeout: Duration::from_secs(common.header_timeout_s.max(1)),
        max_connections: common.max_connections,
    };
    let serve = crate::listener::serve(listener, crate::app::app(state), limits, async move {
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
