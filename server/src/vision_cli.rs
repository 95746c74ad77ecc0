//! `citytwin detect` and `citytwin vision run`. (Scaffold: filled in by the camera work.)

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Images to run the detector on.
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum VisionCommand {
    /// Process the cameras of a city config outside the server.
    Run {
        #[arg(long)]
        config: PathBuf,
    },
}

pub fn detect(_args: DetectArgs) -> anyhow::Result<()> {
    anyhow::bail!("the detector is not available yet")
}

pub async fn run(_command: VisionCommand) -> anyhow::Result<()> {
    anyhow::bail!("camera processing is not available yet")
}
