//! The `[[postgis.layers]]` entries of a city config. Kept outside the `postgis` feature so a build
//! without it still parses (and then refuses) a config that names PostGIS layers.

use serde::Deserialize;

/// Why a `[[postgis.layers]]` entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostgisConfigError {
    #[error("a PostGIS layer needs a `name`")]
    MissingName,
    #[error("PostGIS layer {0:?}: give `table` or `sql`")]
    NoSource(String),
    #[error("PostGIS layer {0:?}: give `table` or `sql`, not both")]
    BothSources(String),
    #[error("PostGIS layer {name:?}: zoom range {minzoom}..={maxzoom} is not within 0..=30")]
    ZoomRange { name: String, minzoom: u8, maxzoom: u8 },
}

/// One tile layer served from a PostGIS table, view or query.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PostgisLayerConfig {
    /// Tile layer name (the URL's `{layer}` and the MVT layer name inside each tile).
    pub name: String,
    /// Table or view, optionally `schema.table`. Exactly one of `table` and `sql`.
    #[serde(default)]
    pub table: String,
    /// A `SELECT` used as the row source instead of a table (operator-written, not escaped).
    #[serde(default)]
    pub sql: Option<String>,
    #[serde(default = "default_geometry_column")]
    pub geometry_column: String,
    /// Integer column written as the MVT feature id.
    #[serde(default)]
    pub id_column: Option<String>,
    /// Columns written as feature attributes.
    #[serde(default)]
    pub properties: Vec<String>,
    #[serde(default)]
    pub minzoom: u8,
    #[serde(default = "default_maxzoom")]
    pub maxzoom: u8,
}

impl Default for PostgisLayerConfig {
    fn default() -> Self {
        Self {
            name: String::new(),
            table: String::new(),
            sql: None,
            geometry_column: default_geometry_column(),
            id_column: None,
            properties: Vec::new(),
            minzoom: 0,
            maxzoom: default_maxzoom(),
        }
    }
}

fn default_geometry_column() -> String {
    "geom".to_owned()
}

fn default_maxzoom() -> u8 {
    22
}

impl PostgisLayerConfig {
    /// Checks what can be checked without a database: one row source, a sane zoom range.
    pub fn validate(&self) -> Result<(), PostgisConfigError> {
        if self.name.is_empty() {
            return Err(PostgisConfigError::MissingName);
        }
        match (self.table.is_empty(), self.sql.as_deref().map(str::trim)) {
            (true, None) | (true, Some("")) => return Err(PostgisConfigError::NoSource(self.name.clone())),
            (false, Some(_)) => return Err(PostgisConfigError::BothSources(self.name.clone())),
            _ => {}
        }
        if self.minzoom > self.maxzoom || self.maxzoom > 30 {
            return Err(PostgisConfigError::ZoomRange {
                name: self.name.clone(),
                minzoom: self.minzoom,
                maxzoom: self.maxzoom,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<PostgisLayerConfig, String> {
        let c: PostgisLayerConfig = serde_json::from_str(s).map_err(|e| e.to_string())?;
        c.validate().map(|()| c).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_checks() {
        let c = parse(r#"{"name": "p", "table": "public.parcels"}"#).unwrap();
        assert_eq!((c.geometry_column.as_str(), c.minzoom, c.maxzoom, c.id_column), ("geom", 0, 22, None));
        assert!(parse(r#"{"name": "p", "sql": "SELECT 1"}"#).is_ok());
        assert!(parse(r#"{"name": "p"}"#).unwrap_err().contains("give `table` or `sql`"));
        assert!(parse(r#"{"name": "p", "table": "t", "sql": "SELECT 1"}"#).unwrap_err().contains("not both"));
        assert!(parse(r#"{"name": "p", "table": "t", "minzoom": 9, "maxzoom": 3}"#).unwrap_err().contains("zoom"));
        assert!(parse(r#"{"name": "p", "table": "t", "colour": 1}"#).unwrap_err().contains("unknown field"));
        assert!(parse(r#"{"name": "", "table": "t"}"#).is_err());
    }
}
