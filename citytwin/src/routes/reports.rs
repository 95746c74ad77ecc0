//! Citizen reports: `POST /api/reports` (multipart form with photos), `PATCH /api/reports/{id}`
//! (workflow status) and `GET /media/{file}` (stored photos and thumbnails).
//!
//! Photos are read chunk by chunk and refused as soon as one passes 10 MiB, so an oversized upload
//! is never buffered whole. Nothing is stored until every field and every photo has been validated.

use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use twin_core::{EntityKind, Observation, Position, Properties, PropertyValue};
use twin_ingest::reports::{
    parse_contact, parse_description, parse_location, process_photo, Category, Channel, PhotoFormat, ProcessedPhoto,
    ReportError, ReportStatus, MAX_PHOTOS, MAX_PHOTO_BYTES,
};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::problem::Problem;
use crate::state::AppState;
use twin_auth::{Action, Owner, Resource};
use twin_feeds::reports::{PendingFiles, ReportRecord, THUMB_EXT};
use twin_runtime::clock::now;

/// Source name of citizen-report observations.
pub const SOURCE: &str = twin_feeds::feeds::REPORTS_SOURCE;
/// Largest report body: every photo at its limit plus room for the text fields.
pub const BODY_LIMIT: usize = MAX_PHOTOS * MAX_PHOTO_BYTES + (1 << 20);
/// Largest text field read before giving up (descriptions are limited in characters later).
const TEXT_FIELD_LIMIT: usize = 16 << 10;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportPhoto {
    pub sha256: String,
    pub url: String,
    pub thumbnail_url: String,
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    /// False when the same photo was already stored (deduplicated by hash).
    pub newly_stored: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportCreated {
    /// Report id: the entity's external id, used by `PATCH /api/reports/{id}`.
    pub id: String,
    /// Id of the `citizen_report` entity in the model.
    pub entity_id: Option<u64>,
    pub status: String,
    pub lon: f64,
    pub lat: f64,
    /// `form` (lon/lat fields) or `exif` (a photo's GPS tags).
    pub location_source: String,
    pub photos: Vec<ReportPhoto>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct StatusUpdate {
    /// new, acknowledged, dispatched or resolved
    pub status: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusUpdated {
    pub id: String,
    pub status: String,
}

fn report_problem(e: &ReportError) -> Problem {
    let status = match e {
        ReportError::UnsupportedType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ReportError::PhotoTooLarge { .. } | ReportError::PhotoTooManyPixels { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        ReportError::DecoderBusy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        ReportError::Undecodable { .. } | ReportError::NoLocation => StatusCode::UNPROCESSABLE_ENTITY,
        ReportError::Thumbnail(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut p = Problem::new(status, e.reason(), e.to_string()).field(e.field());
    if matches!(e, ReportError::DecoderBusy { .. }) {
        // Decodes take a fraction of a second: the slot is free again shortly.
        p.retry_after = Some(1);
    }
    p
}

fn multipart_problem(e: MultipartError) -> Problem {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            format!("the report is larger than {BODY_LIMIT} bytes"),
        )
        .field("body")
    } else {
        Problem::new(StatusCode::BAD_REQUEST, "malformed-multipart", e.body_text()).field("body")
    }
}

fn internal(what: &str, e: impl std::fmt::Display) -> Problem {
    tracing::error!(error = %e, "{what}");
    Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "storage-failed", format!("{what}: {e}"))
}

/// Reads a field, failing with `too_big` as soon as it passes `max` bytes.
async fn read_limited(field: &mut Field<'_>, max: usize, too_big: impl Fn() -> Problem) -> Result<Vec<u8>, Problem> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_problem)? {
        if buf.len() + chunk.len() > max {
            return Err(too_big());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// The raw fields of a report form; photos already decoded.
#[derive(Default)]
struct Form {
    channel: Option<Vec<u8>>,
    category: Option<Vec<u8>>,
    description: Option<Vec<u8>>,
    lon: Option<Vec<u8>>,
    lat: Option<Vec<u8>>,
    contact: Option<Vec<u8>>,
    photos: Vec<(ProcessedPhoto, Vec<u8>)>,
}

async fn read_form(mut multipart: Multipart) -> Result<Form, Problem> {
    let mut form = Form::default();
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_problem)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "photo" {
            if form.photos.len() == MAX_PHOTOS {
                return Err(report_problem(&ReportError::TooManyPhotos { max: MAX_PHOTOS }));
            }
            let too_big = || report_problem(&ReportError::PhotoTooLarge { max: MAX_PHOTO_BYTES });
            let bytes = read_limited(&mut field, MAX_PHOTO_BYTES, too_big).await?;
            // Decoding is CPU work: keep it off the async workers.
            let photo = tokio::task::spawn_blocking(move || process_photo(&bytes).map(|p| (p, bytes)))
                .await
                .map_err(|e| internal("photo decoding task failed", e))?
                .map_err(|e| {
                    tracing::debug!(reason = e.reason(), error = %e, "report photo refused");
                    report_problem(&e)
                })?;
            form.photos.push(photo);
            continue;
        }
        let slot = match name.as_str() {
            "channel" => &mut form.channel,
            "category" => &mut form.category,
            "description" => &mut form.description,
            "lon" => &mut form.lon,
            "lat" => &mut form.lat,
            "reporter_contact" => &mut form.contact,
            // Extra form fields (a submit button, a CSRF token) are not ours to refuse.
            _ => continue,
        };
        let field_name = name.clone();
        let too_long = move || {
            Problem::new(StatusCode::BAD_REQUEST, "too-long", format!("field `{field_name}` is too long"))
                .field(field_name.clone())
        };
        *slot = Some(read_limited(&mut field, TEXT_FIELD_LIMIT, too_long).await?);
    }
    Ok(form)
}

fn media_url(sha256: &str, ext: &str) -> String {
    format!("/media/{sha256}.{ext}")
}

/// Files a citizen report (multipart form) and creates its `citizen_report` entity with status `new`.
#[utoipa::path(post, path = "/api/reports", tag = "reports",
    request_body(content_type = "multipart/form-data", description = "fields: channel (hotline_1022|app|zalo|facebook|web), category (traffic_jam|flooding|environment|fire|accident|infrastructure|other), description (UTF-8, ≤ 2000 characters), lon, lat (optional when a photo has EXIF GPS), reporter_contact (optional, kept private); up to 5 `photo` files (JPEG/PNG/WebP by content, ≤ 10 MiB each)"),
    responses(
        (status = 201, body = ReportCreated, description = "stored; the entity is in the model"),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "bad or missing field, too many photos"),
        (status = 413, body = Problem, content_type = "application/problem+json", description = "photo over 10 MiB or body too large"),
        (status = 415, body = Problem, content_type = "application/problem+json", description = "photo is not JPEG/PNG/WebP"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "photo does not decode, or no location at all"),
        (status = 503, body = Problem, content_type = "application/problem+json", description = "queue full (Retry-After)")))]
pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, [(header::HeaderName, String); 1], Json<ReportCreated>), Problem> {
    // Filed by the citizen app, the hotline's operators or the web form's client account.
    caller.check(Action::Write, &Resource::IngestSource(twin_feeds::feeds::REPORTS_FEED), "report source")?;
    let multipart = multipart.map_err(|e| {
        Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "not-multipart", e.body_text()).field("content-type")
    })?;
    let form = read_form(multipart).await?;
    let p = |e: ReportError| report_problem(&e);
    let channel: Channel = text_of(&form.channel, "channel")?.parse().map_err(p)?;
    let category: Category = text_of(&form.category, "category")?.parse().map_err(p)?;
    let description =
        parse_description(form.description.as_deref().ok_or(ReportError::Missing("description")).map_err(p)?)
            .map_err(p)?;
    let contact = form.contact.as_deref().map(parse_contact).transpose().map_err(p)?.flatten();
    let (position, location_source) = match parse_location(form.lon.as_deref(), form.lat.as_deref()).map_err(p)? {
        Some(pos) => (pos, "form"),
        None => match form.photos.iter().find_map(|(ph, _)| ph.gps) {
            Some(pos) => (pos, "exif"),
            None => return Err(report_problem(&ReportError::NoLocation)),
        },
    };

    let received = now();
    let id = format!("r{}-{:08x}", received.as_millis(), rand::random::<u32>());
    let store = st.reports.clone();
    let metas: Vec<(ProcessedPhoto, Vec<u8>)> = form.photos;
    let record_base = ReportRecord {
        id: id.clone(),
        received_ms: received.as_millis(),
        channel: channel.as_str().to_owned(),
        category: category.as_str().to_owned(),
        reporter_contact: contact,
        photos: metas.iter().map(|(ph, _)| format!("{}.{}", ph.sha256, ph.format.extension())).collect(),
    };
    // Until `commit`, a failure at any step below removes the files this report wrote.
    let (photos, files) = tokio::task::spawn_blocking(move || -> std::io::Result<(Vec<ReportPhoto>, PendingFiles)> {
        let mut files = PendingFiles::new();
        let mut out = Vec::with_capacity(metas.len());
        for (ph, bytes) in &metas {
            let ext = ph.format.extension();
            let fresh = store.put_media_pending(&mut files, &ph.sha256, ext, bytes)?;
            store.put_media_pending(&mut files, &ph.sha256, THUMB_EXT, &ph.thumbnail)?;
            out.push(ReportPhoto {
                sha256: ph.sha256.clone(),
                url: media_url(&ph.sha256, ext),
                thumbnail_url: media_url(&ph.sha256, THUMB_EXT),
                content_type: ph.format.mime().to_owned(),
                width: ph.width,
                height: ph.height,
                newly_stored: fresh,
            });
        }
        store.put_record_pending(&mut files, &record_base)?;
        Ok((out, files))
    })
    .await
    .map_err(|e| internal("report storage task failed", e))?
    .map_err(|e| internal("cannot store the report", e))?;

    let mut obs = observation(&id, position, location_source, channel, category, &description, &photos, received);
    if let Some(agency) = routed_agency(&st, category) {
        obs.properties.insert(twin_auth::AGENCY_PROPERTY.into(), PropertyValue::Text(agency.to_owned()));
    }
    let result = st.ingest.submit_as(caller.actor(), SOURCE, vec![obs]).await.map_err(Problem::from)?;
    if result.accepted == 0 {
        let reason = result.rejected.first().map(|(_, r)| r.clone()).unwrap_or_default();
        return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-observation", reason));
    }
    files.commit();
    let entity_id = st.twin.read().id_of(EntityKind::CitizenReport, &id).map(|e| e.0);
    tracing::info!(%id, channel = channel.as_str(), category = category.as_str(), photos = photos.len(), "citizen report filed");
    let body = ReportCreated {
        id: id.clone(),
        entity_id,
        status: ReportStatus::New.as_str().to_owned(),
        lon: position.lon,
        lat: position.lat,
        location_source: location_source.to_owned(),
        photos,
    };
    Ok((StatusCode::CREATED, [(header::LOCATION, format!("/api/reports/{id}"))], Json(body)))
}

fn text_of<'a>(v: &'a Option<Vec<u8>>, field: &'static str) -> Result<&'a str, Problem> {
    let bytes = v.as_deref().ok_or_else(|| report_problem(&ReportError::Missing(field)))?;
    std::str::from_utf8(bytes).map_err(|_| report_problem(&ReportError::NotUtf8(field)))
}

#[allow(clippy::too_many_arguments)] // one flat record; a struct would only rename the arguments
fn observation(
    id: &str,
    position: Position,
    location_source: &str,
    channel: Channel,
    category: Category,
    description: &str,
    photos: &[ReportPhoto],
    time: twin_core::Timestamp,
) -> Observation {
    let text = |s: &str| PropertyValue::Text(s.to_owned());
    let join = |f: fn(&ReportPhoto) -> &str| photos.iter().map(f).collect::<Vec<_>>().join(",");
    let mut properties = Properties::new();
    properties.insert("channel".into(), text(channel.as_str()));
    properties.insert("category".into(), text(category.as_str()));
    properties.insert("description".into(), text(description));
    properties.insert("location_source".into(), text(location_source));
    properties.insert("photo_count".into(), PropertyValue::Int(photos.len() as i64));
    // Properties are flat: the URLs go as comma-separated lists.
    properties.insert("photo_urls".into(), PropertyValue::Text(join(|p| &p.url)));
    properties.insert("thumbnail_urls".into(), PropertyValue::Text(join(|p| &p.thumbnail_url)));
    Observation {
        source: SOURCE.to_owned(),
        kind: EntityKind::CitizenReport,
        external_id: id.to_owned(),
        time,
        position: Some(position),
        heading: None,
        speed: None,
        status: Some(ReportStatus::New.as_str().to_owned()),
        properties,
    }
}

/// The agency a report of `category` is routed to, when the city has it (issue-level routing
/// rules with deadlines are the cases' job).
fn routed_agency(st: &AppState, category: Category) -> Option<&'static str> {
    let agency = match category {
        Category::TrafficJam | Category::Infrastructure => "transport",
        Category::Flooding | Category::Environment => "environment",
        Category::Fire => "fire",
        Category::Accident => "police",
        Category::Other => return None,
    };
    st.auth.access.policy().has_agency(agency).then_some(agency)
}

/// The report's entity as the caller may see it: 404 when it does not exist or is not visible,
/// 403 for a write the caller may not make.
fn check_report(st: &AppState, caller: &Caller, id: &str, action: Action) -> Result<Option<String>, Problem> {
    let twin = st.twin.read();
    let what = format!("report `{id}`");
    let e = twin
        .id_of(EntityKind::CitizenReport, id)
        .and_then(|eid| twin.get(eid))
        .ok_or_else(|| Problem::not_found(format!("no {what}")).field("id"))?;
    let agency = e.properties.get(twin_auth::AGENCY_PROPERTY).and_then(PropertyValue::as_str).map(str::to_owned);
    twin_auth::with_entity_resource(e, |r| caller.check(action, r, &what))?;
    Ok(agency)
}

/// One report with its private record; the reporter's contact only for those granted it (the
/// agency the report is routed to, leaders).
#[utoipa::path(get, path = "/api/reports/{id}", tag = "reports",
    params(("id" = String, Path, description = "report id from POST /api/reports")),
    responses((status = 200, description = "{id, received, channel, category, photos, agency_id?, reporter_contact?}"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn one(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, Problem> {
    let agency = check_report(&st, &caller, &id, Action::Read)?;
    let store = st.reports.clone();
    let lookup = id.clone();
    let record = tokio::task::spawn_blocking(move || store.record(&lookup))
        .await
        .map_err(|e| internal("report lookup task failed", e))?
        .map_err(|e| internal("cannot read the report", e))?
        .ok_or_else(|| Problem::not_found(format!("no report `{id}`")).field("id"))?;
    let owner_agency = agency.map(twin_core::AgencyId);
    let owner = Owner { agency: owner_agency.as_ref(), ..Owner::NONE };
    let contact_resource = Resource::Property { kind: EntityKind::CitizenReport, name: "contact", owner };
    let may_see_contact = twin_auth::authorize(caller.principal(), Action::Read, &contact_resource).is_allowed();
    let mut doc = serde_json::json!({
        "id": record.id,
        "received": twin_runtime::clock::rfc3339(twin_core::Timestamp::from_millis(record.received_ms)),
        "channel": record.channel,
        "category": record.category,
        "photos": record.photos,
        "agency_id": owner_agency.as_ref().map(twin_core::AgencyId::as_str),
    });
    if may_see_contact {
        doc["reporter_contact"] = serde_json::json!(record.reporter_contact);
    }
    Ok(Json(doc))
}

/// Moves a report through its workflow (new → acknowledged → dispatched → resolved).
#[utoipa::path(patch, path = "/api/reports/{id}", tag = "reports",
    params(("id" = String, Path, description = "report id from POST /api/reports")),
    request_body = StatusUpdate,
    responses(
        (status = 200, body = StatusUpdated),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "unknown status"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "no such report"),
        (status = 503, body = Problem, content_type = "application/problem+json", description = "queue full (Retry-After)")))]
pub async fn update(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    update: Result<Json<StatusUpdate>, JsonRejection>,
) -> Result<Json<StatusUpdated>, Problem> {
    check_report(&st, &caller, &id, Action::Write)?;
    let Json(update) =
        update.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "invalid-body", e.body_text()).field("status"))?;
    let status: ReportStatus = update.status.parse().map_err(|e: ReportError| report_problem(&e))?;
    let store = st.reports.clone();
    let lookup = id.clone();
    let record = tokio::task::spawn_blocking(move || store.record(&lookup))
        .await
        .map_err(|e| internal("report lookup task failed", e))?
        .map_err(|e| internal("cannot read the report", e))?;
    if record.is_none() {
        return Err(Problem::not_found(format!("no report `{id}`")).field("id"));
    }
    let obs = Observation {
        source: SOURCE.to_owned(),
        kind: EntityKind::CitizenReport,
        external_id: id.clone(),
        time: now(),
        position: None,
        heading: None,
        speed: None,
        status: Some(status.as_str().to_owned()),
        properties: Properties::new(),
    };
    let result = st.ingest.submit_as(caller.actor(), SOURCE, vec![obs]).await.map_err(Problem::from)?;
    if result.accepted == 0 {
        let reason = result.rejected.first().map(|(_, r)| r.clone()).unwrap_or_default();
        return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-observation", reason));
    }
    Ok(Json(StatusUpdated { id, status: status.as_str().to_owned() }))
}

/// A stored photo (`<sha256>.jpg|png|webp`) or its thumbnail (`<sha256>.thumb.jpg`).
#[utoipa::path(get, path = "/media/{file}", tag = "reports",
    params(("file" = String, Path, description = "`<sha256>.<ext>` or `<sha256>.thumb.jpg`")),
    responses(
        (status = 200, description = "the image", content_type = "image/jpeg"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn media(State(st): State<AppState>, caller: Caller, Path(file): Path<String>) -> Result<Response, Problem> {
    let missing = || Problem::not_found(format!("no media `{file}`"));
    // Photos are content-addressed, not tied to one report: readable by whoever reads reports.
    let reports = Resource::Entity { kind: EntityKind::CitizenReport, class: None, owner: Owner::NONE };
    caller.check(Action::Read, &reports, &format!("media `{file}`"))?;
    let (sha, ext) = file.split_once('.').ok_or_else(missing)?;
    let mime =
        if ext == THUMB_EXT { "image/jpeg" } else { PhotoFormat::from_extension(ext).ok_or_else(missing)?.mime() };
    let store = st.reports.clone();
    let (sha_owned, ext_owned) = (sha.to_owned(), ext.to_owned());
    let bytes = tokio::task::spawn_blocking(move || store.read_media(&sha_owned, &ext_owned))
        .await
        .map_err(|e| internal("media read task failed", e))?
        .map_err(|e| internal("cannot read media", e))?
        .ok_or_else(missing)?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    // Content-addressed: a name never changes its bytes.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(res)
}
