//! `citytwin`: the CLI around the server library.

use std::process::ExitCode;

use citytwin::cli::{default_demo_config, Cli, Command};
use clap::Parser;
use tracing_subscriber::EnvFilter;

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
    match cli.command {
        Command::Demo { config, common, demo_password } => {
            citytwin::serve::run(config.unwrap_or_else(default_demo_config), common, Some(demo_password)).await
        }
        Command::Serve { config, common } => citytwin::serve::run(config, common, None).await,
        Command::Users(args) => citytwin::users_cli::run(args),
        Command::Tiles { command } => citytwin::tiles_cli::run(command),
        Command::Simulate { command } => citytwin::simulate_cli::run(command),
        #[cfg(feature = "cameras")]
        Command::Detect(args) => citytwin::vision_cli::detect(args),
        #[cfg(feature = "cameras")]
        Command::Vision { command } => citytwin::vision_cli::run(command).await,
        Command::Decode { format, input } => {
            citytwin::decode_cli::run(format, &input)?;
            Ok(())
        }
    }
}
