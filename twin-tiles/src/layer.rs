//! Which layers a tile URL names, and drawing them.

use twin_core::{EntityKind, KindFilter, Timestamp, Twin};

use crate::coord::TileCoord;
use crate::live::{live_layers, EntityFilter, LiveOptions, ShowAll};
use crate::mvt::{encode_tile, LayerBuilder};
use crate::reference::ReferenceIndex;
use crate::TileError;

/// The layer part of `/tiles/{layer}/{z}/{x}/{y}.mvt`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TileLayer {
    /// Every live kind (points per kind, hexagons at low zoom).
    Live,
    /// One live kind.
    Kind(EntityKind),
    /// One reference layer by name.
    Reference(String),
    /// Every reference layer (the viewer's base map).
    Basemap,
}

impl TileLayer {
    pub fn parse(name: &str, reference: &ReferenceIndex) -> Result<Self, TileError> {
        if name == "live" {
            return Ok(TileLayer::Live);
        }
        if name == "basemap" {
            return Ok(TileLayer::Basemap);
        }
        if let Ok(k) = name.parse::<EntityKind>() {
            return Ok(TileLayer::Kind(k));
        }
        if reference.layer(name).is_some() {
            return Ok(TileLayer::Reference(name.to_owned()));
        }
        Err(TileError::UnknownLayer(name.to_owned()))
    }

    /// Live layers change with the model; reference layers do not.
    pub fn is_live(&self) -> bool {
        matches!(self, TileLayer::Live | TileLayer::Kind(_))
    }

    pub fn name(&self) -> &str {
        match self {
            TileLayer::Live => "live",
            TileLayer::Kind(k) => k.as_str(),
            TileLayer::Reference(n) => n,
            TileLayer::Basemap => "basemap",
        }
    }
}

/// Draws tiles of every layer kind.
#[derive(Debug)]
pub struct TileRenderer {
    pub live: LiveOptions,
    pub reference: ReferenceIndex,
    /// Douglas–Peucker tolerance for reference geometry in tile units (of 4096).
    pub simplify: f64,
    /// At this zoom and above reference geometry is not simplified.
    pub full_detail_zoom: u8,
}

impl TileRenderer {
    pub fn new(reference: ReferenceIndex) -> Self {
        Self { live: LiveOptions::default(), reference, simplify: 4.0, full_detail_zoom: 16 }
    }

    /// The encoded tile (zero bytes when nothing falls in it).
    pub fn render(
        &self,
        layer: &TileLayer,
        tile: TileCoord,
        twin: &Twin,
        now: Timestamp,
    ) -> Result<Vec<u8>, TileError> {
        self.render_for(layer, tile, twin, now, &ShowAll)
    }

    /// The tile as a caller with these grants sees it.
    pub fn render_for(
        &self,
        layer: &TileLayer,
        tile: TileCoord,
        twin: &Twin,
        now: Timestamp,
        filter: &dyn EntityFilter,
    ) -> Result<Vec<u8>, TileError> {
        let layers = self.layers(layer, tile, twin, now, filter)?;
        Ok(encode_tile(&layers))
    }

    pub fn layers(
        &self,
        layer: &TileLayer,
        tile: TileCoord,
        twin: &Twin,
        now: Timestamp,
        filter: &dyn EntityFilter,
    ) -> Result<Vec<LayerBuilder>, TileError> {
        let eps = if tile.z() >= self.full_detail_zoom { 0.0 } else { self.simplify };
        let (extent, buffer) = (self.live.extent, self.live.buffer);
        Ok(match layer {
            TileLayer::Live => live_layers(twin, tile, KindFilter::ALL, now, &self.live, filter)?,
            TileLayer::Kind(k) => live_layers(twin, tile, KindFilter::only(*k), now, &self.live, filter)?,
            TileLayer::Reference(name) => match self.reference.layer(name) {
                Some(l) => vec![l.render(tile, extent, buffer, eps)],
                None => return Err(TileError::UnknownLayer(name.clone())),
            },
            TileLayer::Basemap => self.reference.layers.iter().map(|l| l.render(tile, extent, buffer, eps)).collect(),
        })
    }
}
