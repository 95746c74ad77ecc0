//! `citytwin tiles export`: reference layers of a city as an offline PMTiles or MBTiles archive.

use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use twin_layers::ReferenceLayers;
use twin_tiles::export::{archive_info, check_layers, covering_tiles, export_tile, ExportOptions};
use twin_tiles::mbtiles::write_mbtiles;
use twin_tiles::pmtiles::write_pmtiles;
use twin_tiles::reference::ReferenceIndex;
use twin_tiles::TileRenderer;

use crate::cli::default_demo_config;
use crate::config::LoadedConfig;

#[derive(Debug, Subcommand)]
pub enum TilesCommand {
    /// Write reference layers as a tile archive for offline use.
    Export(ExportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArchiveFormat {
    Pmtiles,
    Mbtiles,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// City config whose `[layers]` are exported; default the demo config.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Comma-separated reference layer names (default: all configured layers).
    #[arg(long, value_delimiter = ',')]
    pub layers: Vec<String>,
    #[arg(long, default_value_t = 10)]
    pub minzoom: u8,
    #[arg(long, default_value_t = 16)]
    pub maxzoom: u8,
    /// minLon,minLat,maxLon,maxLat (default: the city bbox of the config).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub bbox: Option<Vec<f64>>,
    #[arg(long)]
    pub output: PathBuf,
    #[arg(long, value_enum, default_value_t = ArchiveFormat::Pmtiles)]
    pub format: ArchiveFormat,
}

pub fn run(cmd: TilesCommand) -> anyhow::Result<()> {
    match cmd {
        TilesCommand::Export(args) => export(args),
    }
}

fn export(args: ExportArgs) -> anyhow::Result<()> {
    if args.minzoom > args.maxzoom || args.maxzoom > 20 {
        bail!("need minzoom ≤ maxzoom ≤ 20 (got {}..{})", args.minzoom, args.maxzoom);
    }
    let config_path = args.config.unwrap_or_else(default_demo_config);
    let config = LoadedConfig::load(&config_path)?;
    let layers = ReferenceLayers::load(&config.raw.layers, &config.base_dir)
        .with_context(|| format!("loading reference layers of {}", config_path.display()))?;
    let renderer = TileRenderer::new(ReferenceIndex::build(&layers));
    let bounds = match args.bbox.as_deref() {
        Some(&[w, s, e, n]) => [w, s, e, n],
        Some(_) => bail!("--bbox needs minLon,minLat,maxLon,maxLat"),
        None => [config.bbox.min_lon, config.bbox.min_lat, config.bbox.max_lon, config.bbox.max_lat],
    };
    let opts = ExportOptions { layers: args.layers, minzoom: args.minzoom, maxzoom: args.maxzoom, bounds };
    check_layers(&renderer, &opts)?;
    let coords = covering_tiles(&opts)?;
    let bar = ProgressBar::new(coords.len() as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} tiles, {eta} left") {
        bar.set_style(style);
    }
    let mut tiles = Vec::with_capacity(coords.len());
    for t in coords {
        tiles.push((t, export_tile(&renderer, &opts, t)));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let info = archive_info(&renderer, &opts, &config.raw.city.name, "© OpenStreetMap contributors");
    if args.format == ArchiveFormat::Mbtiles {
        let n = write_mbtiles(&args.output, tiles, &info)?;
        println!("wrote {}: {n} tiles", args.output.display());
        return Ok(());
    }
    let file = std::fs::File::create(&args.output).with_context(|| format!("creating {}", args.output.display()))?;
    let mut out = BufWriter::new(file);
    let stats = write_pmtiles(&mut out, tiles, &info)?;
    std::io::Write::flush(&mut out)?;
    println!(
        "wrote {}: {} tiles ({} distinct), {} bytes",
        args.output.display(),
        stats.addressed_tiles,
        stats.tile_contents,
        stats.bytes
    );
    Ok(())
}
