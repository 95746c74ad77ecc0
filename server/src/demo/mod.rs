//! The Da Nang demo: simulated fleets and sensors (labelled simulated) driven along real geometry.
//! STUB: API contract only; the implementation is being written.

use serde::Deserialize;

/// The `[demo]` table of the city config.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DemoConfig {}
