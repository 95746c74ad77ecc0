//! Live fan-out: the writer publishes each commit's changes on a broadcast channel; every WebSocket or
//! SSE client runs a session that filters them by its subscription and sends batched deltas.
//! Slow clients never block the writer: a client that lags behind the channel gets a fresh snapshot.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};
use twin_core::{Alert, Applied, BBox, Change, Entity, EntityId, EntityKind, KindFilter, Position, Twin};

use crate::geojson::{alert_json, entity_feature};

/// How often a session flushes its pending delta.
pub const DELTA_INTERVAL: Duration = Duration::from_millis(100);

/// An entity as published: the entity (without its track) and its ready-made GeoJSON feature.
#[derive(Debug)]
pub struct EntityView {
    pub id: EntityId,
    pub kind: EntityKind,
    pub position: Option<Position>,
    pub entity: Entity,
    pub feature: Value,
}

/// What one session's caller may see, applied to every entity and alert before it is sent. The
/// server implements it over its authorisation policy.
pub trait Clip: Send + Sync {
    /// Kinds the caller may read some of; a subscription is narrowed to them.
    fn kinds(&self) -> KindFilter;
    /// The entity as the caller may see it: `None` when not visible, a redacted copy when some
    /// properties are hidden, the entity itself otherwise.
    fn view<'a>(&self, e: &'a Entity) -> Option<std::borrow::Cow<'a, Entity>>;
    /// Whether an alert about an entity of `kind` may be sent.
    fn alert(&self, kind: EntityKind) -> bool {
        self.kinds().contains(kind)
    }
}

/// Sees everything (tools and tests that run without identities).
pub struct Unclipped;

impl Clip for Unclipped {
    fn kinds(&self) -> KindFilter {
        KindFilter::ALL
    }
    fn view<'a>(&self, e: &'a Entity) -> Option<std::borrow::Cow<'a, Entity>> {
        Some(std::borrow::Cow::Borrowed(e))
    }
}

#[derive(Debug)]
pub enum LiveEvent {
    Delta { seq: u64, upserts: Vec<Arc<EntityView>>, removes: Vec<EntityId> },
    Alert { kind: EntityKind, position: Option<Position>, alert: Value },
}

/// Called synchronously for every commit, with the model still held, before live clients hear of it
/// (dirty-tile invalidation needs every change, in order, and the state right after it).
pub type ChangeObserver = Arc<dyn Fn(&Twin, &Applied) + Send + Sync>;

/// The broadcast side, held by the writer and the app state.
#[derive(Clone)]
pub struct LiveHub {
    tx: broadcast::Sender<Arc<LiveEvent>>,
    observers: Arc<RwLock<Vec<ChangeObserver>>>,
}

impl LiveHub {
    pub fn new(capacity: usize) -> Self {
        Self { tx: broadcast::channel(capacity.max(1)).0, observers: Arc::default() }
    }

    /// Registers an observer of every commit (see [`ChangeObserver`]).
    pub fn observe(&self, observer: ChangeObserver) {
        self.observers.write().push(observer);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.tx.subscribe()
    }

    /// Runs the observers and copies out what live clients need, with the model still held.
    /// Hand the result to [`LiveHub::send`] after releasing the model: building the GeoJSON then does
    /// not hold up readers. `None` when no client listens.
    pub fn publish(&self, seq: u64, twin: &Twin, applied: Applied) -> Option<Prepared> {
        for o in self.observers.read().iter() {
            o(twin, &applied);
        }
        if self.tx.receiver_count() == 0 {
            return None;
        }
        // entity → still present after the commit? The last state of each entity wins.
        let mut last: HashMap<EntityId, bool> = HashMap::new();
        let mut order = Vec::new();
        for c in &applied.changes {
            let (id, present) = match c {
                Change::Upserted(id) => (*id, true),
                Change::Removed(e) => (e.id, false),
            };
            if last.insert(id, present).is_none() {
                order.push(id);
            }
        }
        let mut upserts = Vec::new();
        let mut removes = Vec::new();
        for id in order {
            match (last.get(&id), twin.get(id)) {
                (Some(true), Some(e)) => upserts.push(without_track(e)),
                _ => removes.push(id),
            }
        }
        Some(Prepared { seq, upserts, removes, alerts: applied.alerts })
    }

    /// Broadcasts a prepared commit to every live session.
    pub fn send(&self, p: Prepared) {
        if !p.upserts.is_empty() || !p.removes.is_empty() {
            let upserts = p
                .upserts
                .into_iter()
                .map(|e| {
                    let feature = entity_feature(&e);
                    Arc::new(EntityView { id: e.id, kind: e.kind, position: e.position, entity: e, feature })
                })
                .collect();
            let _ = self.tx.send(Arc::new(LiveEvent::Delta { seq: p.seq, upserts, removes: p.removes }));
        }
        for a in &p.alerts {
            let event = LiveEvent::Alert { kind: a.entity_kind, position: a.position, alert: alert_json(a) };
            let _ = self.tx.send(Arc::new(event));
        }
    }
}

/// One commit's changes, copied out of the model for [`LiveHub::send`].
#[derive(Debug)]
pub struct Prepared {
    seq: u64,
    upserts: Vec<Entity>,
    removes: Vec<EntityId>,
    alerts: Vec<Alert>,
}

/// The entity's latest state; the track (up to thousands of points) is not needed live.
pub fn without_track(e: &Entity) -> Entity {
    Entity {
        id: e.id,
        kind: e.kind,
        external_id: e.external_id.clone(),
        source: e.source.clone(),
        last_seen: e.last_seen,
        position: e.position,
        heading: e.heading,
        speed: e.speed,
        status: e.status.clone(),
        properties: e.properties.clone(),
        track: VecDeque::new(),
        mean_interval_ms: e.mean_interval_ms,
    }
}

/// What a client wants: entities of these kinds inside this box (all when `None`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Subscription {
    pub bbox: Option<BBox>,
    pub kinds: KindFilter,
}

impl Default for Subscription {
    fn default() -> Self {
        Self { bbox: None, kinds: KindFilter::ALL }
    }
}

impl Subscription {
    pub fn matches(&self, kind: EntityKind, position: Option<Position>) -> bool {
        self.kinds.contains(kind) && self.bbox.is_none_or(|b| position.is_some_and(|p| b.contains(p)))
    }

    /// Parses `{"type":"subscribe","bbox":[..],"kinds":[..]}`.
    pub fn from_message(text: &str) -> Result<Self, SubscribeError> {
        let v: Value = serde_json::from_str(text)?;
        if v.get("type").and_then(Value::as_str) != Some("subscribe") {
            return Err(SubscribeError::NotSubscribe);
        }
        let bbox = match v.get("bbox") {
            None | Some(Value::Null) => None,
            Some(b) => {
                let nums: Option<Vec<f64>> = b.as_array().map(|a| a.iter().filter_map(Value::as_f64).collect());
                match nums.as_deref() {
                    Some(&[a, b, c, d]) => Some(BBox::new(a, b, c, d).map_err(SubscribeError::BBox)?),
                    _ => return Err(SubscribeError::BBoxShape),
                }
            }
        };
        let kinds = match v.get("kinds") {
            None | Some(Value::Null) => KindFilter::ALL,
            Some(Value::Array(list)) => list
                .iter()
                .map(|k| {
                    k.as_str()
                        .and_then(|s| s.parse::<EntityKind>().ok())
                        .ok_or_else(|| SubscribeError::UnknownKind(short_json(k)))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(SubscribeError::KindsNotArray),
        };
        Ok(Self { bbox, kinds })
    }
}

/// A client's JSON value for an error message, cut so a huge value cannot make a huge reply.
pub(crate) fn short_json(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

/// Why a `subscribe` message was refused; the text goes back to the client.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("expected {{\"type\":\"subscribe\", ...}}")]
    NotSubscribe,
    #[error("bbox: {0}")]
    BBox(twin_core::Error),
    #[error("bbox: expected [minLon, minLat, maxLon, maxLat]")]
    BBoxShape,
    #[error("kinds: unknown kind {0}")]
    UnknownKind(String),
    #[error("kinds: expected an array of kind names")]
    KindsNotArray,
}

/// A message to one client.
#[derive(Debug, Clone)]
pub enum ServerMsg {
    Snapshot(Vec<Value>),
    Delta {
        seq: u64,
        upserts: Vec<Value>,
        removes: Vec<u64>,
    },
    Alert(Value),
    Error(String),
    /// A ready `tiles_changed` message of a tile subscription.
    TilesChanged(Value),
}

impl ServerMsg {
    /// SSE event name (also the `type` field).
    pub fn name(&self) -> &'static str {
        match self {
            ServerMsg::Snapshot(_) => "snapshot",
            ServerMsg::Delta { .. } => "delta",
            ServerMsg::Alert(_) => "alert",
            ServerMsg::Error(_) => "error",
            ServerMsg::TilesChanged(_) => "tiles_changed",
        }
    }

    pub fn to_json(&self) -> String {
        let v = match self {
            ServerMsg::Snapshot(f) => json!({"type": "snapshot", "features": f}),
            ServerMsg::Delta { seq, upserts, removes } => {
                json!({"type": "delta", "seq": seq, "upserts": upserts, "removes": removes})
            }
            ServerMsg::Alert(a) => json!({"type": "alert", "alert": a}),
            ServerMsg::Error(d) => json!({"type": "error", "detail": d}),
            ServerMsg::TilesChanged(v) => v.clone(),
        };
        v.to_string()
    }
}

/// Current entities matching `sub`, as features.
pub fn snapshot(twin: &RwLock<Twin>, sub: &Subscription, clip: &dyn Clip) -> (Vec<Value>, HashSet<EntityId>) {
    let twin = twin.read();
    let kinds: KindFilter = sub.kinds.kinds().filter(|k| clip.kinds().contains(*k)).collect();
    let hits: Vec<_> = match sub.bbox {
        Some(b) => twin.in_bbox(b, kinds),
        None => twin.entities().filter(|e| kinds.contains(e.kind)).collect(),
    };
    let mut ids = HashSet::new();
    let mut features = Vec::with_capacity(hits.len());
    for e in hits {
        if let Some(v) = clip.view(e) {
            ids.insert(e.id);
            features.push(entity_feature(&v));
        }
    }
    (features, ids)
}

/// One client's session: snapshot, then batched deltas and alerts until the client goes away.
/// `control` carries re-subscriptions (WebSocket); when it closes the subscription stays as it is.
pub async fn run_session(
    twin: Arc<RwLock<Twin>>,
    hub: LiveHub,
    mut sub: Subscription,
    mut control: Option<mpsc::Receiver<Subscription>>,
    out: mpsc::Sender<ServerMsg>,
    clip: Arc<dyn Clip>,
) {
    let mut rx = hub.subscribe();
    let (features, mut known) = snapshot(&twin, &sub, &*clip);
    if out.send(ServerMsg::Snapshot(features)).await.is_err() {
        return;
    }
    let mut up: HashMap<EntityId, Arc<EntityView>> = HashMap::new();
    let mut rm: HashSet<EntityId> = HashSet::new();
    let mut seq = 0;
    let mut flush = tokio::time::interval(DELTA_INTERVAL);
    loop {
        let next_sub = async {
            match control.as_mut() {
                Some(c) => c.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ev = rx.recv() => match ev {
                Ok(ev) => match &*ev {
                    LiveEvent::Delta { seq: s, upserts, removes } => {
                        seq = *s;
                        for v in upserts {
                            let seen = if sub.matches(v.kind, v.position) { clip.view(&v.entity) } else { None };
                            if let Some(seen) = seen {
                                known.insert(v.id);
                                rm.remove(&v.id);
                                let v = match seen {
                                    std::borrow::Cow::Borrowed(_) => v.clone(),
                                    std::borrow::Cow::Owned(e) => {
                                        let feature = entity_feature(&e);
                                        Arc::new(EntityView { id: e.id, kind: e.kind, position: e.position, entity: e, feature })
                                    }
                                };
                                up.insert(v.id, v);
                            } else if known.remove(&v.id) {
                                // Left the subscription (moved out of the box): the client drops it.
                                up.remove(&v.id);
                                rm.insert(v.id);
                            }
                        }
                        for id in removes {
                            up.remove(id);
                            if known.remove(id) {
                                rm.insert(*id);
                            }
                        }
                    }
                    LiveEvent::Alert { kind, position, alert } => {
                        if clip.alert(*kind) && sub.kinds.contains(*kind) && (sub.bbox.is_none() || sub.matches(*kind, *position))
                            && out.send(ServerMsg::Alert(alert.clone())).await.is_err()
                        {
                            return;
                        }
                    }
                },
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::debug!(missed = n, "live client lagged; resending a snapshot");
                    up.clear();
                    rm.clear();
                    let (features, ids) = snapshot(&twin, &sub, &*clip);
                    known = ids;
                    if out.send(ServerMsg::Snapshot(features)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            new_sub = next_sub => match new_sub {
                Some(s) => {
                    sub = s;
                    up.clear();
                    rm.clear();
                    let (features, ids) = snapshot(&twin, &sub, &*clip);
                    known = ids;
                    if out.send(ServerMsg::Snapshot(features)).await.is_err() {
                        return;
                    }
                }
                None => control = None,
            },
            _ = flush.tick() => {
                if out.is_closed() {
                    return;
                }
                if up.is_empty() && rm.is_empty() {
                    continue;
                }
                let upserts = up.drain().map(|(_, v)| v.feature.clone()).collect();
                let removes = rm.drain().map(|id| id.0).collect();
                if out.send(ServerMsg::Delta { seq, upserts, removes }).await.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn parses_subscriptions() {
        let s =
            Subscription::from_message(r#"{"type":"subscribe","bbox":[108,16,108.3,16.2],"kinds":["bus"]}"#).unwrap();
        assert!(s.matches(EntityKind::Bus, Some(Position::new(108.1, 16.1))));
        assert!(!s.matches(EntityKind::Bus, Some(Position::new(109.0, 16.1))));
        assert!(!s.matches(EntityKind::Vessel, Some(Position::new(108.1, 16.1))));
        assert!(!s.matches(EntityKind::Bus, None));
        let all = Subscription::from_message(r#"{"type":"subscribe"}"#).unwrap();
        assert!(all.matches(EntityKind::Drone, None));
        assert!(Subscription::from_message(r#"{"type":"subscribe","kinds":["car"]}"#)
            .unwrap_err()
            .to_string()
            .contains("car"));
    }
}
