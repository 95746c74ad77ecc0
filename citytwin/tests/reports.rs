//! Citizen reports over HTTP: multipart upload, photo checks, EXIF location, media serving, dedup,
//! status workflow. Photos come from `twin-ingest/tests/data/reports` (ImageMagick, GPS by exiftool).
#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{assert_problem, send, TestServer};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const BOUNDARY: &str = "----citytwin-test-boundary";

fn photo(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../twin-ingest/tests/data/reports").join(name);
    std::fs::read(p).unwrap()
}

/// A multipart body: text fields, then files (field name, file name, content type, bytes).
fn multipart(fields: &[(&str, &[u8])], files: &[(&str, &str, &str, Vec<u8>)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (name, value) in fields {
        b.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        b.extend_from_slice(value);
        b.extend_from_slice(b"\r\n");
    }
    for (name, file, ct, bytes) in files {
        b.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: {ct}\r\n\r\n"
            )
            .as_bytes(),
        );
        b.extend_from_slice(bytes);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

async fn post_report(s: &TestServer, body: Vec<u8>) -> (StatusCode, String, Value) {
    s.post("/api/reports", &format!("multipart/form-data; boundary={BOUNDARY}"), body).await
}

fn base_fields(description: &[u8]) -> Vec<(&str, &[u8])> {
    vec![("channel", b"zalo"), ("category", b"flooding"), ("description", description)]
}

/// (status, content type, bytes)
async fn get_raw(s: &TestServer, uri: &str) -> (StatusCode, String, Vec<u8>) {
    let res = s.app().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, ct, res.into_body().collect().await.unwrap().to_bytes().to_vec())
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn media_files(s: &TestServer) -> Vec<PathBuf> {
    files_under(&s.dir.path().join("media"))
}

async fn report_feature(s: &TestServer, id: &str) -> Value {
    let (status, _, fc) = s.get("/api/entities?kind=citizen_report").await;
    assert_eq!(status, StatusCode::OK);
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["external_id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("report {id} not in {fc}"))
}

#[tokio::test]
async fn report_with_location_and_photo_becomes_an_entity() {
    let s = TestServer::start();
    let text = "Ngập sâu 40 cm trên đường Nguyễn Văn Linh, xe máy chết máy. Cần hỗ trợ gấp!";
    let mut fields = base_fields(text.as_bytes());
    fields.extend([
        ("lon", b"108.2208".as_slice()),
        ("lat", b"16.0678".as_slice()),
        ("reporter_contact", b"0905123456"),
    ]);
    let jpeg = photo("street.jpg");
    let (status, _, body) =
        post_report(&s, multipart(&fields, &[("photo", "a.jpg", "image/jpeg", jpeg.clone())])).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["location_source"], "form");
    assert_eq!(body["status"], "new");
    let id = body["id"].as_str().unwrap();

    let f = report_feature(&s, id).await;
    assert_eq!(f["properties"]["kind"], "citizen_report");
    assert_eq!(f["properties"]["status"], "new");
    assert_eq!(f["properties"]["description"], text);
    assert_eq!(f["properties"]["channel"], "zalo");
    assert_eq!(f["properties"]["category"], "flooding");
    // The contact stays private.
    assert!(f["properties"].get("reporter_contact").is_none(), "{f}");
    let coords = &f["geometry"]["coordinates"];
    assert!(
        (coords[0].as_f64().unwrap() - 108.2208).abs() < 1e-9 && (coords[1].as_f64().unwrap() - 16.0678).abs() < 1e-9
    );

    // The photo is served back byte for byte, the thumbnail decodes and is small.
    let url = f["properties"]["photo_urls"].as_str().unwrap();
    let (st, ct, bytes) = get_raw(&s, url).await;
    assert_eq!((st, ct.as_str()), (StatusCode::OK, "image/jpeg"));
    assert_eq!(bytes, jpeg);
    let thumb_url = f["properties"]["thumbnail_urls"].as_str().unwrap();
    let (st, ct, thumb) = get_raw(&s, thumb_url).await;
    assert_eq!((st, ct.as_str()), (StatusCode::OK, "image/jpeg"));
    let img = image::load_from_memory_with_format(&thumb, image::ImageFormat::Jpeg).unwrap();
    assert!(img.width() <= 256 && img.height() <= 256 && img.width() == 256);
    // Stored content-addressed: media/sha256/ab/cdef….jpg
    let sha = body["photos"][0]["sha256"].as_str().unwrap();
    assert!(s.dir.path().join("media/sha256").join(&sha[..2]).join(format!("{}.jpg", &sha[2..])).is_file());
}

#[tokio::test]
async fn location_from_exif_when_no_lon_lat() {
    let s = TestServer::start();
    let fields = base_fields("Nước dâng cao gần cầu Rồng".as_bytes());
    let (status, _, body) =
        post_report(&s, multipart(&fields, &[("photo", "flood.jpg", "image/jpeg", photo("flood.jpg"))])).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["location_source"], "exif");
    // exiftool wrote 16.061111 N, 108.227222 E.
    assert!((body["lat"].as_f64().unwrap() - 16.061111).abs() < 1e-6);
    assert!((body["lon"].as_f64().unwrap() - 108.227222).abs() < 1e-6);
    let f = report_feature(&s, body["id"].as_str().unwrap()).await;
    assert!((f["geometry"]["coordinates"][1].as_f64().unwrap() - 16.061111).abs() < 1e-6);
}

#[tokio::test]
async fn png_and_webp_are_accepted_and_served_with_their_types() {
    let s = TestServer::start();
    let mut fields = base_fields(b"ok");
    fields.extend([("lon", b"108.2".as_slice()), ("lat", b"16.05".as_slice())]);
    let files = [
        ("photo", "a.png", "application/octet-stream", photo("street.png")),
        ("photo", "b.webp", "application/octet-stream", photo("street.webp")),
    ];
    let (status, _, body) = post_report(&s, multipart(&fields, &files)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for (i, ct) in ["image/png", "image/webp"].into_iter().enumerate() {
        let (st, got, _) = get_raw(&s, body["photos"][i]["url"].as_str().unwrap()).await;
        assert_eq!((st, got.as_str()), (StatusCode::OK, ct));
    }
}

#[tokio::test]
async fn rejections_name_the_field_and_store_nothing() {
    let s = TestServer::start();
    let loc = vec![("lon", b"108.2".as_slice()), ("lat", b"16.05".as_slice())];
    let good = base_fields(b"ok");
    let with_loc = |extra: &[(&'static str, &'static [u8])]| {
        let mut f = good.clone();
        f.extend_from_slice(&loc);
        f.extend_from_slice(extra);
        f
    };
    let cases: Vec<(Vec<u8>, StatusCode, &str)> = vec![
        // A GIF named .jpg with an image/jpeg content type.
        (
            multipart(&with_loc(&[]), &[("photo", "x.jpg", "image/jpeg", photo("gif_named.jpg"))]),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "photo",
        ),
        (
            multipart(&with_loc(&[]), &[("photo", "c.jpg", "image/jpeg", photo("corrupt.jpg"))]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "photo",
        ),
        (
            multipart(&with_loc(&[]), &vec![("photo", "a.jpg", "image/jpeg", photo("street.jpg")); 6]),
            StatusCode::BAD_REQUEST,
            "photo",
        ),
        (
            multipart(&good, &[("photo", "a.jpg", "image/jpeg", photo("street.jpg"))]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "lon/lat",
        ),
        (
            multipart(&[("channel", b"web"), ("category", b"earthquake"), ("description", b"x"), loc[0], loc[1]], &[]),
            StatusCode::BAD_REQUEST,
            "category",
        ),
        (
            multipart(&[("channel", b"web"), ("category", b"fire"), ("description", b"ch\xE1y"), loc[0], loc[1]], &[]),
            StatusCode::BAD_REQUEST,
            "description",
        ),
        (
            multipart(&[("category", b"fire"), ("description", b"x"), loc[0], loc[1]], &[]),
            StatusCode::BAD_REQUEST,
            "channel",
        ),
    ];
    for (i, (body, expected, field)) in cases.into_iter().enumerate() {
        let (status, ct, problem) = post_report(&s, body).await;
        assert_problem(status, &ct, &problem, expected);
        assert_eq!(problem["field"], field, "case {i}: {problem}");
    }
    assert!(media_files(&s).is_empty(), "{:?}", media_files(&s));
    let (_, _, fc) = s.get("/api/entities?kind=citizen_report").await;
    assert_eq!(fc["features"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn oversize_photos_are_refused_while_streaming() {
    let s = TestServer::start();
    let mut fields = base_fields(b"ok");
    fields.extend([("lon", b"108.2".as_slice()), ("lat", b"16.05".as_slice())]);
    // 11 MiB that starts like a JPEG.
    let mut big = photo("street.jpg");
    big.resize(11 << 20, 0);
    let (status, ct, problem) = post_report(&s, multipart(&fields, &[("photo", "big.jpg", "image/jpeg", big)])).await;
    assert_problem(status, &ct, &problem, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem["field"], "photo");
    // A 60 MiB body: refused by the photo limit long before the end of the body.
    let huge = vec![0u8; 60 << 20];
    let (status, ct, problem) = post_report(&s, multipart(&fields, &[("photo", "huge.jpg", "image/jpeg", huge)])).await;
    assert_problem(status, &ct, &problem, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(media_files(&s).is_empty());
}

#[tokio::test]
async fn same_photo_is_stored_once() {
    let s = TestServer::start();
    let mut fields = base_fields(b"ok");
    fields.extend([("lon", b"108.2".as_slice()), ("lat", b"16.05".as_slice())]);
    let body = || multipart(&fields, &[("photo", "a.jpg", "image/jpeg", photo("street.jpg"))]);
    let (s1, _, first) = post_report(&s, body()).await;
    let (s2, _, second) = post_report(&s, body()).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_ne!(first["id"], second["id"]);
    assert_eq!(first["photos"][0]["sha256"], second["photos"][0]["sha256"]);
    assert_eq!(first["photos"][0]["newly_stored"], true);
    assert_eq!(second["photos"][0]["newly_stored"], false);
    // One photo and one thumbnail on disk.
    assert_eq!(media_files(&s).len(), 2, "{:?}", media_files(&s));
}

#[tokio::test]
async fn status_workflow_and_media_names() {
    let s = TestServer::start();
    let mut fields = base_fields(b"ok");
    fields.extend([("lon", b"108.2".as_slice()), ("lat", b"16.05".as_slice())]);
    let (_, _, body) = post_report(&s, multipart(&fields, &[])).await;
    let id = body["id"].as_str().unwrap().to_owned();
    let patch = |status: &str, id: &str| {
        Request::patch(format!("/api/reports/{id}"))
            .header("content-type", "application/json")
            .body(Body::from(format!("{{\"status\":\"{status}\"}}")))
            .unwrap()
    };
    let (st, _, res) = send(s.app(), patch("dispatched", &id)).await;
    assert_eq!(st, StatusCode::OK, "{res}");
    let f = report_feature(&s, &id).await;
    assert_eq!(f["properties"]["status"], "dispatched");
    assert_eq!(f["properties"]["category"], "flooding");
    let (st, ct, p) = send(s.app(), patch("closed", &id)).await;
    assert_problem(st, &ct, &p, StatusCode::BAD_REQUEST);
    assert_eq!(p["field"], "status");
    let bad_json = Request::patch(format!("/api/reports/{id}"))
        .header("content-type", "application/json")
        .body(Body::from("{\"state\": 1}"))
        .unwrap();
    let (st, ct, p) = send(s.app(), bad_json).await;
    assert_problem(st, &ct, &p, StatusCode::BAD_REQUEST);
    let (st, ct, p) = send(s.app(), patch("resolved", "r1-nothere")).await;
    assert_problem(st, &ct, &p, StatusCode::NOT_FOUND);
    for bad in ["/media/..%2F..%2Fetc%2Fpasswd.jpg", "/media/abc.jpg", &format!("/media/{}.gif", "a".repeat(64))] {
        let (st, _, _) = get_raw(&s, bad).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{bad}");
    }
}

#[tokio::test]
async fn not_multipart_is_refused() {
    let s = TestServer::start();
    let (status, ct, p) = s.post("/api/reports", "application/json", "{}").await;
    assert_problem(status, &ct, &p, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}
