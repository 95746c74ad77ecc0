//! CityTwin's feeds: every network connector on one [`sink::ObservationSink`] with one
//! back-pressure policy, feed health with the stale-feed monitor, the published feeds and the
//! embedded MQTT broker. The decoders they use are pure functions in `twin-ingest`.
//!
//! - [`mqtt`]: MQTT sensors (rumqttc), [`broker`]: the embedded broker (rumqttd);
//! - [`ais`]: AIS NMEA over TCP, UDP or a replayed file;
//! - [`gtfs_rt_poll`]: GTFS-realtime pollers; [`gpx_replay`]: recorded tracks driven live;
//! - [`connectors`]: `[gtfs]`, `[trackers]`, `[[devices]]`, `[[gpx_replay]]` sections and start-up;
//! - [`feeds`]: `[feeds]`, `[mqtt]`, `[[ais]]`, feed health, stale-feed alerts, published feeds.

pub mod ais;
pub mod broker;
pub mod connectors;
pub mod feeds;
pub mod gpx_replay;
pub mod gtfs_rt_poll;
pub mod mqtt;
pub mod reports;
pub mod sink;

pub use feeds::Feeds;
pub use sink::{submit_with_backpressure, ObservationSink, SinkError, SinkOutcome};
