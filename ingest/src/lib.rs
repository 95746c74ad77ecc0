//! Feed decoders and connectors.
