//! The two indexes the model keeps consistent: per-kind R-trees of positions and an H3 cell index.
