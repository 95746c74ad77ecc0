//! Latest entity states in a PostGIS table, so GIS tools and SQL reports see the live picture.
//! Rows are upserted by entity id; only a newer state replaces a row, so a periodic writer that
//! sends every entity rewrites just those that changed. The table mirrors one twin: rows of
//! entities absent from a snapshot (expired from the model) are deleted by the same write.

use std::time::Duration;

use sqlx::postgres::PgPool;
use twin_core::Entity;

use super::{quote_ident, PostgisError};

/// A snapshot table: `entity_id bigint` (the id's bits), kind, external id, source, `last_seen
/// timestamptz`, heading, speed, status, properties jsonb and a `geometry(Point, 4326)`.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    table: String,
}

impl SnapshotStore {
    /// Creates the table and its GiST index when absent.
    pub async fn create(pool: &PgPool, table: &str) -> Result<Self, PostgisError> {
        let t = quote_ident(table)?;
        let index = quote_ident(&format!("{}_geom_gist", table.rsplit('.').next().unwrap_or(table)))?;
        sqlx::query(&format!(
            "CREATE TABLE IF NOT EXISTS {t} (entity_id bigint PRIMARY KEY, kind text NOT NULL, \
             external_id text NOT NULL, source text NOT NULL, last_seen timestamptz NOT NULL, heading float8, \
             speed float8, status text, properties jsonb NOT NULL, geom geometry(Point, 4326))"
        ))
        .execute(pool)
        .await?;
        sqlx::query(&format!("CREATE INDEX IF NOT EXISTS {index} ON {t} USING gist (geom)")).execute(pool).await?;
        Ok(Self { table: t })
    }

    /// Makes the table hold exactly `entities`, in one transaction: upserts them (stale states are
    /// skipped and not counted) and deletes the rows of every other entity.
    pub async fn write(&self, pool: &PgPool, entities: &[Entity]) -> Result<SnapshotWrite, PostgisError> {
        let n = entities.len();
        let (mut ids, mut kinds, mut ext, mut sources, mut seen) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut heading, mut speed, mut status, mut props, mut lon, mut lat) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for e in entities {
            // The id's 64 bits as a bigint: a bijection, so ids above i64::MAX stay distinct.
            ids.push(e.id.0 as i64);
            kinds.push(e.kind.as_str().to_owned());
            ext.push(e.external_id.clone());
            sources.push(e.source.clone());
            seen.push(e.last_seen.0);
            heading.push(e.heading);
            speed.push(e.speed);
            status.push(e.status.clone());
            props.push(serde_json::to_string(&e.properties).unwrap_or_else(|_| "{}".to_owned()));
            lon.push(e.position.map(|p| p.lon));
            lat.push(e.position.map(|p| p.lat));
        }
        let t = &self.table;
        let sql = format!(
            "INSERT INTO {t} AS s (entity_id, kind, external_id, source, last_seen, heading, speed, status, properties, geom) \
             SELECT id, k, x, src, to_timestamp(ms / 1000.0), h, sp, st, p::jsonb, \
                    CASE WHEN lo IS NULL OR la IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(lo, la), 4326) END \
             FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::float8[], $7::float8[], \
                         $8::text[], $9::text[], $10::float8[], $11::float8[]) AS u(id, k, x, src, ms, h, sp, st, p, lo, la) \
             ON CONFLICT (entity_id) DO UPDATE SET kind = excluded.kind, external_id = excluded.external_id, \
               source = excluded.source, last_seen = excluded.last_seen, heading = excluded.heading, \
               speed = excluded.speed, status = excluded.status, properties = excluded.properties, geom = excluded.geom \
             WHERE s.last_seen < excluded.last_seen"
        );
        let mut tx = pool.begin().await?;
        // An anti-join against the unnested ids: a hash join, not a scan of the array per row.
        let removed = sqlx::query(&format!(
            "DELETE FROM {t} AS s WHERE NOT EXISTS (SELECT 1 FROM UNNEST($1::int8[]) AS u(id) WHERE u.id = s.entity_id)"
        ))
        .bind(&ids)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let written = sqlx::query(&sql)
            .bind(ids)
            .bind(kinds)
            .bind(ext)
            .bind(sources)
            .bind(seen)
            .bind(heading)
            .bind(speed)
            .bind(status)
            .bind(props)
            .bind(lon)
            .bind(lat)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(SnapshotWrite { written, removed })
    }
}

/// What one snapshot write changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotWrite {
    /// Rows inserted or updated with a newer state.
    pub written: u64,
    /// Rows deleted because their entity is no longer in the model.
    pub removed: u64,
}

/// Writes `snapshot()` to the store every `period` until the task is aborted. Failures are logged
/// and retried on the next tick: a database outage must not stop the twin.
pub fn spawn_snapshots<F>(
    pool: PgPool,
    store: SnapshotStore,
    period: Duration,
    snapshot: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Vec<Entity> + Send + 'static,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            let entities = snapshot();
            match store.write(&pool, &entities).await {
                Ok(w) => {
                    tracing::debug!(written = w.written, removed = w.removed, "entity snapshot written to PostGIS")
                }
                Err(e) => tracing::warn!(error = %e, "entity snapshot to PostGIS failed"),
            }
        }
    })
}
