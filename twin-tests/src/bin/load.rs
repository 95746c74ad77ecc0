//! HTTP/WebSocket load harness for a `citytwin` server on loopback.
//!
//! 1. Ingest throughput: concurrent clients post NDJSON batches over N entities, once per fsync
//!    policy (a fresh server and data directory each).
//! 2. Freshness: with N entities loaded, observations paced at a target rate; time from the POST's
//!    acknowledgement to the WebSocket delta carrying it.
//!
//! Run against a release build: `cargo build --release -p citytwin` then
//! `cargo run --release -p twin-tests --bin load -- [options]`.

use std::time::Duration;

use clap::Parser;
use twin_tests::loadgen::{freshness, ingest_throughput, FreshnessResult, IngestResult};
use twin_tests::obs::DA_NANG_BBOX;
use twin_tests::{temp_dir, write_config, Client, Server};

#[derive(Parser, Debug)]
#[command(about = "Ingest throughput and WebSocket freshness of a citytwin server (loopback only)")]
struct Args {
    /// Target a running server (http://127.0.0.1:PORT) instead of starting one per run; the fsync
    /// comparison then measures that server's policy only.
    #[arg(long)]
    url: Option<String>,
    /// Distinct entities.
    #[arg(long, default_value_t = 100_000)]
    entities: usize,
    /// Observations posted per throughput run.
    #[arg(long, default_value_t = 300_000)]
    observations: usize,
    /// Observations per NDJSON batch.
    #[arg(long, default_value_t = 1_000)]
    batch: usize,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// fsync policies to compare (comma separated).
    #[arg(long, value_delimiter = ',', default_value = "always,interval")]
    fsync: Vec<String>,
    /// Freshness: target observations per second.
    #[arg(long, default_value_t = 10_000.0)]
    rate: f64,
    /// Freshness: observations posted (each to a different entity; at most --entities).
    #[arg(long, default_value_t = 50_000)]
    freshness_observations: usize,
    /// Freshness: observations per batch.
    #[arg(long, default_value_t = 200)]
    freshness_batch: usize,
    /// Freshness: fsync policy of the server it starts.
    #[arg(long, default_value = "interval")]
    freshness_fsync: String,
    #[arg(long)]
    skip_throughput: bool,
    #[arg(long)]
    skip_freshness: bool,
}

/// A server started for one run, or the one given with `--url`.
enum Target {
    Own { server: Server, _dir: tempfile::TempDir },
    External(String),
}

impl Target {
    fn new(url: &Option<String>, fsync: &str) -> Target {
        if let Some(url) = url {
            return Target::External(url.trim_end_matches('/').to_owned());
        }
        let dir = temp_dir("citytwin-load-");
        let store = format!("[store]\nfsync = \"{fsync}\"\n");
        let config = write_config(dir.path(), "Load", DA_NANG_BBOX, &store);
        let server = Server::serve(&config, &dir.path().join("data"), &[]);
        Target::Own { server, _dir: dir }
    }

    fn base_url(&self) -> String {
        match self {
            Target::Own { server, .. } => server.base_url().to_owned(),
            Target::External(url) => url.clone(),
        }
    }

    fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.base_url().trim_start_matches("http://"))
    }
}

fn print_throughput(rows: &[(String, IngestResult)], args: &Args) {
    println!(
        "\n## Ingest throughput (HTTP NDJSON, {} entities, batch {}, {} clients)\n",
        args.entities, args.batch, args.clients
    );
    println!("| fsync | observations | seconds | obs/s | batch p50 ms | batch p99 ms | failed batches |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (fsync, r) in rows {
        println!(
            "| {fsync} | {} | {:.2} | {:.0} | {:.1} | {:.1} | {} |",
            r.observations,
            r.seconds,
            r.per_second(),
            r.batch_latency.p50,
            r.batch_latency.p99,
            r.failures
        );
    }
}

fn print_freshness(fsync: &str, r: &FreshnessResult, args: &Args) {
    println!("\n## Freshness (POST → WebSocket delta, {} entities loaded, fsync {fsync})\n", args.entities);
    println!("| target obs/s | achieved obs/s | samples | ack→delta p50 ms | p99 ms | max ms | send→delta p50 ms | p99 ms | missing |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {:.0} | {:.0} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
        r.target_rate,
        r.achieved_rate,
        r.from_ack.count,
        r.from_ack.p50,
        r.from_ack.p99,
        r.from_ack.max,
        r.from_send.p50,
        r.from_send.p99,
        r.missing
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if args.entities == 0 || args.batch == 0 || args.freshness_batch == 0 || args.rate <= 0.0 {
        return Err("--entities, --batch, --freshness-batch and --rate must be positive".into());
    }

    if !args.skip_throughput {
        let mut rows = Vec::new();
        for fsync in &args.fsync {
            let target = Target::new(&args.url, fsync);
            eprintln!("throughput, fsync {fsync}: {} observations…", args.observations);
            let r = ingest_throughput(&target.base_url(), args.entities, args.observations, args.batch, args.clients);
            let label = if args.url.is_some() { "(server's)".to_owned() } else { fsync.clone() };
            rows.push((label, r));
            if args.url.is_some() {
                break;
            }
        }
        print_throughput(&rows, &args);
    }

    if !args.skip_freshness {
        let target = Target::new(&args.url, &args.freshness_fsync);
        let base = target.base_url();
        eprintln!("freshness: loading {} entities…", args.entities);
        let preload = ingest_throughput(&base, args.entities, args.entities, args.batch, args.clients);
        if preload.failures > 0 {
            return Err(format!("{} preload batches failed", preload.failures).into());
        }
        // Shows what the model holds before the paced phase starts.
        let client = Client::new(Duration::from_secs(120));
        let stats = client.get_json(&format!("{base}/api/stats"));
        eprintln!("stats after preload: {stats}");
        // A quarter of the box each way: about 1/16 of the entities are inside the subscription.
        let [x0, y0, x1, y1] = DA_NANG_BBOX;
        let viewport = [x0 + (x1 - x0) * 0.375, y0 + (y1 - y0) * 0.375, x0 + (x1 - x0) * 0.625, y0 + (y1 - y0) * 0.625];
        let count = args.freshness_observations.min(args.entities);
        eprintln!("freshness: {count} observations at {} obs/s…", args.rate);
        let r = freshness(&target.ws_url(), &base, viewport, count, args.rate, args.freshness_batch, args.clients);
        print_freshness(&args.freshness_fsync, &r, &args);
    }
    Ok(())
}
