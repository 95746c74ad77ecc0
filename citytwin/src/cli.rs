//! Command-line interface.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "citytwin", version, about = "CityTwin: a live geospatial digital twin of a city")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Da Nang with simulated fleets and sensors (labelled simulated) on real geometry.
    Demo {
        /// City config; default `data/danang.toml` in the current directory, else the one in the source tree.
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(flatten)]
        common: CommonArgs,
        /// Password of the demo accounts (admin, leader, one operator per agency); the default
        /// `demo` is refused on a non-loopback --listen.
        #[arg(long, default_value = "demo")]
        demo_password: String,
    },
    /// Serve a city from its config file.
    Serve {
        #[arg(long)]
        config: PathBuf,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Accounts: people, devices and feed clients of this server's data directory.
    Users(crate::users_cli::UsersArgs),
    /// Tile tools: offline export of reference layers.
    Tiles {
        #[command(subcommand)]
        command: crate::tiles_cli::TilesCommand,
    },
    /// Scenario runs: flood on a DEM, traffic assignment on the road network.
    Simulate {
        #[command(subcommand)]
        command: crate::simulate_cli::SimulateCommand,
    },
    /// Run the object detector on images and print one JSON object per detection.
    #[cfg(feature = "cameras")]
    Detect(crate::vision_cli::DetectArgs),
    /// Camera analytics outside the server.
    #[cfg(feature = "cameras")]
    Vision {
        #[command(subcommand)]
        command: crate::vision_cli::VisionCommand,
    },
    /// Decode a feed file to NDJSON (gpsd field names for AIS); undecodable input becomes
    /// `{"error": ..., "line": N}`. Exit status 0 unless the file cannot be read.
    Decode {
        #[arg(value_enum)]
        format: crate::decode_cli::DecodeFormat,
        /// Input file, or `-` for standard input.
        input: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FsyncArg {
    /// fsync before every acknowledgement (survives power loss).
    Always,
    /// fsync on a timer (survives a process crash; the last interval may be lost on power loss).
    Interval,
}

#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Address to listen on; port 0 picks a free port (the bound address is printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Where the durable log and snapshots live.
    #[arg(long, default_value = "./citytwin-data")]
    pub data_dir: PathBuf,
    /// Cut the log at a corrupt record (moving the rest aside) instead of refusing to start.
    #[arg(long)]
    pub repair: bool,
    /// Overrides `[store] fsync` of the config.
    #[arg(long, value_enum)]
    pub fsync: Option<FsyncArg>,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = crate::state::DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// Leave the configured cameras off (each one runs the object detector: about a CPU core).
    #[arg(long)]
    pub no_cameras: bool,
    /// Batches that may wait for the writer before ingest answers 503.
    #[arg(long, default_value_t = 1024)]
    pub queue_capacity: usize,
    /// Seconds a client has to send a request head before its connection is closed.
    #[arg(long, default_value_t = 10)]
    pub header_timeout_s: u64,
    /// Open connections at once.
    #[arg(long, default_value_t = 10_000)]
    pub max_connections: usize,
}

/// The demo config path: `data/danang.toml` under the CWD if present, else the source tree's.
pub fn default_demo_config() -> PathBuf {
    let local = PathBuf::from("data/danang.toml");
    if local.exists() {
        local
    } else {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/danang.toml"))
    }
}
