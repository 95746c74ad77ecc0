//! AIS over NMEA 0183 (`!AIVDM` / `!AIVDO`): sentence parsing, de-armouring, multi-sentence
//! reassembly, decoding of message types 1–5, 18, 19, 21, 24 and 27, and conversion to
//! observations and to gpsd-style JSON.
//!
//! Everything here is pure: bytes in, values out; time is passed in by the caller.
//!
//! ```
//! use twin_ingest::ais::{Decoder, AisMessage};
//! use twin_core::Timestamp;
//!
//! let mut decoder = Decoder::default();
//! let line = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A";
//! let decoded = decoder.push(line, Timestamp::from_millis(0)).unwrap().unwrap();
//! let AisMessage::Position(p) = decoded.message else { panic!() };
//! assert_eq!(p.header.mmsi, 371798000);
//! assert_eq!(p.speed, Some(12.3));
//! ```

pub mod armor;
pub mod assembler;
pub mod decode;
pub mod encode;
mod error;
pub mod json;
pub mod messages;
pub mod nmea;
pub mod stream;
mod texts;
pub mod to_observation;

pub use decode::decode_bits;
pub use error::AisError;
pub use json::{error_to_json, to_gpsd_json};
pub use messages::AisMessage;
pub use nmea::{parse_sentence, Sentence, TagBlock};
pub use stream::{decode_text, DecodeError, Decoded, Decoder, DecoderStats};
pub use to_observation::{to_observation, VesselRegistry, VesselStatic};
