//! `GET /fonts/{fontstack}/{range}.pbf`: SDF glyph ranges for map labels (see [`crate::fonts`]).

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::problem::Problem;
use twin_tiles::fonts::{FontError, GlyphCache};

/// One cache per process: the fonts are compiled in, so every router shares it.
fn cache() -> &'static GlyphCache {
    static CACHE: OnceLock<GlyphCache> = OnceLock::new();
    CACHE.get_or_init(GlyphCache::default)
}

fn font_problem(e: FontError) -> Problem {
    match e {
        FontError::UnknownFont(_) => Problem::not_found(e.to_string()),
        FontError::BadRange(_) => Problem::bad_param("range", e.to_string()),
        FontError::Parse(..) => Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "font-error", e.to_string()),
    }
}

/// A 256-code-point glyph range of a fontstack (comma list; the first served font is used).
#[utoipa::path(get, path = "/fonts/{fontstack}/{range}.pbf", tag = "tiles", security(()),
    params(("fontstack" = String, Path, description = "e.g. `Noto Sans Regular`"),
        ("range" = String, Path, description = "e.g. `0-255`, `7680-7935`")),
    responses((status = 200, content_type = "application/x-protobuf", description = "glyph protobuf"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn glyphs(Path((stack, file)): Path<(String, String)>) -> Result<Response, Problem> {
    let range = file.strip_suffix(".pbf").ok_or_else(|| Problem::not_found(format!("no font resource {file}")))?;
    let range = range.to_owned();
    let rendered = tokio::task::spawn_blocking(move || cache().range(&stack, &range))
        .await
        .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "font-error", e.to_string()))?
        .map_err(font_problem)?;
    Ok((
        [(header::CONTENT_TYPE, "application/x-protobuf"), (header::CACHE_CONTROL, "public, max-age=86400")],
        rendered.as_ref().clone(),
    )
        .into_response())
}
