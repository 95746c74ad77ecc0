//! Cameras end to end against the real binary: config errors, `/api/cameras?covering=`, a worker
//! replaying the shipped video into tracked `detection` entities, cameras as feeds in `/api/feeds`,
//! a stopped-vehicle alert with its evidence snapshot, and `citytwin detect`.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use twin_tests::obs::{attr, attr_str, features, point};
use twin_tests::server::{binary_path, workspace_root};
use twin_tests::{temp_dir, write_config, Client, Launch, Server};

const BBOX: [f64; 4] = [108.0, 15.9, 108.4, 16.2];

/// An overhead camera over 14 × 8 m around (lon, lat), image up = north, 768×432 pixels.
fn camera(id: &str, lon: f64, lat: f64, source: &str) -> String {
    // 55 px per metre; degrees per metre at 16° N.
    let (dlat, dlon) = (1.0 / 111_195.0, 1.0 / (111_195.0 * 16.06f64.to_radians().cos()));
    let pt = |px: f64, py: f64| {
        let (e, n) = ((px - 384.0) / 55.0, (216.0 - py) / 55.0);
        format!("{{ px = {px}, py = {py}, lon = {:.8}, lat = {:.8} }}", lon + e * dlon, lat + n * dlat)
    };
    format!(
        "[[cameras]]\nid = \"{id}\"\nname = \"Test {id}\"\nposition = [{lon}, {lat}]\n{source}\nimage_size = [768, 432]\n\
         control_points = [{}, {}, {}, {}]\n\n",
        pt(0.0, 0.0),
        pt(768.0, 0.0),
        pt(768.0, 432.0),
        pt(0.0, 432.0)
    )
}

fn video_source() -> String {
    clip_source(&workspace_root().join("data/video/car-detection.mp4"))
}

/// A replayed clip with the relabelling the shipped overhead clip needs.
fn clip_source(video: &Path) -> String {
    format!("video = {:?}\nreplay = true\nsample_fps = 2\nrelabel = {{ \"cell phone\" = \"car\", \"parking meter\" = \"car\", \"remote\" = \"car\", \"mouse\" = \"car\" }}", video.display().to_string())
}

/// The feed `camera:<id>` of `GET /api/feeds` once `done` holds for it.
fn poll_camera_feed(client: &Client, server: &Server, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let source = format!("camera:{id}");
    let find =
        |v: &Value| v["feeds"].as_array().and_then(|f| f.iter().find(|f| f["source"] == source.as_str())).cloned();
    let v = client
        .poll_json(&server.url("/api/feeds"), Duration::from_secs(120), |v| find(v).is_some_and(|f| done(&f)))
        .unwrap_or_else(|e| {
            panic!("{e}\n--- server log ---\n{}", twin_tests::server::tail(&server.stderr_text(), 3000))
        });
    find(&v).unwrap()
}

#[test]
fn degenerate_control_points_stop_start_up_with_the_camera_named() {
    let dir = temp_dir("e2e-cam-bad-");
    let mut text = camera("bad-cam", 108.2111, 16.06, "snapshot = \"http://127.0.0.1:9/snap.jpg\"");
    // Three of the four image points on one line.
    text = text.replacen("px = 768, py = 432", "px = 384, py = 0", 1);
    let cfg = write_config(dir.path(), "Cam", BBOX, &text);
    let args = [
        "serve".to_owned(),
        "--config".into(),
        cfg.display().to_string(),
        "--data-dir".into(),
        dir.path().join("d").display().to_string(),
    ];
    match Server::launch(&args, Duration::from_secs(120)) {
        Launch::Listening(_) => panic!("a degenerate calibration must not start"),
        Launch::Exited { status, stderr, .. } => {
            assert!(!status.success());
            assert!(stderr.contains("camera `bad-cam`: control_points:") && stderr.contains("collinear"), "{stderr}");
        }
    }
}

#[test]
fn cameras_covering_a_point_are_those_whose_footprint_contains_it() {
    let dir = temp_dir("e2e-cam-cover-");
    // Sources nobody answers: the cameras still exist, with an error status.
    let text = camera("cam-a", 108.2111, 16.0600, "snapshot = \"http://127.0.0.1:9/a.jpg\"")
        + &camera("cam-b", 108.2200, 16.0700, "snapshot = \"http://127.0.0.1:9/b.jpg\"");
    let cfg = write_config(dir.path(), "Cam", BBOX, &text);
    let server = Server::serve(&cfg, &dir.path().join("data"), &[]);
    let client = Client::default();

    let all = client.get_json(&server.url("/api/cameras"));
    let cams = all["cameras"].as_array().unwrap();
    assert_eq!(cams.len(), 2, "{all}");
    let a = &cams[0];
    assert_eq!(a["id"], "cam-a");
    assert_eq!(a["footprint"]["type"], "Polygon");
    assert_eq!(a["position"][0].as_f64(), Some(108.2111));
    assert!(a["status"]["state"].is_string(), "{a}");

    let ids = |q: &str| -> Vec<String> {
        let v = client.get_json(&server.url(&format!("/api/cameras?covering={q}")));
        v["cameras"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
    };
    // 3 m east and 2 m north of cam-a's centre is in its 14 × 8 m view; 10 m east is not.
    let m = 1.0 / 111_195.0;
    assert_eq!(ids(&format!("{},{}", 108.2111 + 3.0 * m / 0.9610, 16.06 + 2.0 * m)), ["cam-a"]);
    assert_eq!(ids(&format!("{},{}", 108.2111 + 10.0 * m / 0.9610, 16.06)), Vec::<String>::new());
    assert_eq!(ids("108.2200,16.0700"), ["cam-b"]);

    for bad in ["108.2", "abc,16", "108.2,16.0,1", "190,16"] {
        let r = client.get(&server.url(&format!("/api/cameras?covering={bad}"))).unwrap();
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.content_type.starts_with("application/problem+json"), "{}", r.content_type);
        assert_eq!(r.json()["field"], "covering");
    }

    // Each camera is a `camera` entity carrying its footprint.
    let ents = client
        .poll_json(&server.url("/api/entities?kind=camera"), Duration::from_secs(30), |v| features(v).len() == 2)
        .unwrap();
    let fa = features(&ents).iter().find(|f| attr_str(f, "external_id") == Some("cam-a")).unwrap();
    let fp: Value = serde_json::from_str(attr_str(fa, "footprint").unwrap()).unwrap();
    assert_eq!(fp["type"], "Polygon");
    assert_eq!(point(fa), Some((108.2111, 16.06)));

    // Each camera is a feed; a dead snapshot URL shows as connection errors of a reconnecting feed.
    let feed = poll_camera_feed(&client, &server, "cam-a", |f| f["rejected"]["connect"].as_u64() >= Some(1));
    assert_eq!(feed["protocol"], "camera-snapshot");
    assert_eq!(feed["connected"], false, "{feed}");
    assert_eq!((feed["received"].as_u64(), feed["accepted"].as_u64()), (Some(0), Some(0)), "{feed}");
    assert!(feed["last_error"].as_str().unwrap().contains("127.0.0.1:9/a.jpg"), "{feed}");
    poll_camera_feed(&client, &server, "cam-b", |f| f["rejected_total"].as_u64() >= Some(1));
}

#[test]
fn a_replayed_video_gives_moving_detections_with_track_ids() {
    let dir = temp_dir("e2e-cam-video-");
    let cfg = write_config(dir.path(), "Cam", BBOX, &camera("cam-v", 108.2111, 16.06, &video_source()));
    let server = Server::serve(&cfg, &dir.path().join("data"), &[]);
    let client = Client::default();
    let url = server.url("/api/entities?kind=detection");
    // Positions per detection entity, collected until one track was seen at two places.
    let mut seen: HashMap<String, Vec<(f64, f64)>> = HashMap::new();
    let moved = |seen: &HashMap<String, Vec<(f64, f64)>>| {
        seen.values().any(|p| p.iter().any(|a| p.iter().any(|b| (a.0 - b.0).abs() + (a.1 - b.1).abs() > 2e-6)))
    };
    let last = client
        .poll_json(&url, Duration::from_secs(400), |v| {
            for f in features(v) {
                if let (Some(id), Some(p)) = (attr_str(f, "external_id"), point(f)) {
                    seen.entry(id.to_owned()).or_default().push(p);
                }
            }
            moved(&seen)
        })
        .unwrap_or_else(|e| {
            panic!("{e}\n--- server log ---\n{}", twin_tests::server::tail(&server.stderr_text(), 3000))
        });
    let f = &features(&last)[0];
    assert_eq!(attr_str(f, "camera"), Some("cam-v"));
    let track = attr(f, "track_id").and_then(Value::as_i64).unwrap();
    assert_eq!(attr_str(f, "external_id"), Some(format!("cam-v-{track}").as_str()));
    assert!(attr(f, "score").and_then(Value::as_f64).unwrap() >= 0.1);
    assert_eq!(attr(f, "replay"), Some(&Value::Bool(true)));
    assert!(attr_str(f, "class").is_some());
    // On the ground inside the camera's view.
    let (lon, lat) = point(f).unwrap();
    let covering = client.get_json(&server.url(&format!("/api/cameras?covering={lon},{lat}")));
    assert_eq!(covering["cameras"][0]["id"], "cam-v", "{covering}");
    let status = &covering["cameras"][0]["status"];
    assert!(status["frames"].as_u64().unwrap() > 0 && status["state"] == "running", "{status}");

    // The evidence snapshot is a JPEG of the camera's size.
    let (status, ct, jpeg) =
        twin_tests::Client::default().get_bytes(&server.url("/api/cameras/cam-v/snapshot.jpg")).unwrap();
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    assert!(jpeg.starts_with(&[0xFF, 0xD8]) && jpeg.ends_with(&[0xFF, 0xD9]), "{} bytes", jpeg.len());
    assert_eq!(client.get(&server.url("/api/cameras/nope/snapshot.jpg")).unwrap().status, 404);

    // The camera is a feed whose counters rise while it runs.
    let first = poll_camera_feed(&client, &server, "cam-v", |f| f["accepted"].as_u64() > Some(0));
    assert_eq!(first["protocol"], "camera-video");
    assert_eq!(first["connected"], true, "{first}");
    assert!(first["last_message_ms"].is_i64(), "{first}");
    let n = first["accepted"].as_u64().unwrap();
    let later = poll_camera_feed(&client, &server, "cam-v", |f| f["accepted"].as_u64() > Some(n));
    assert!(later["received"].as_u64().unwrap() >= later["accepted"].as_u64().unwrap(), "{later}");
    assert!(later["rate_per_s"].as_f64().unwrap() > 0.0, "{later}");
    assert_eq!(later["rejected_total"], 0, "{later}");
}

/// A clip of `seconds` holding one frame of the shipped video: two cars standing still.
fn parked_clip(dir: &Path, seconds: u32) -> std::path::PathBuf {
    let still = shipped_frame("car-detection_t16s.jpg");
    let out = dir.join("parked.mp4");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-loop", "1", "-i", &still, "-t", &seconds.to_string(), "-r", "12.5"])
        .args(["-pix_fmt", "yuv420p", "-c:v", "libx264"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg could not make the clip");
    out
}

fn get_bytes(url: &str) -> (String, Vec<u8>) {
    let (status, ct, body) = twin_tests::Client::default().get_bytes(url).unwrap();
    assert_eq!(status, 200, "{url}");
    (ct, body)
}

#[test]
fn a_vehicle_stopped_in_a_no_stopping_zone_raises_an_alert_with_evidence() {
    let dir = temp_dir("e2e-cam-stop-");
    // The shipped clip's cars drive through; a held frame of it is a lot where they stand still.
    let clip = parked_clip(dir.path(), 20);
    let text = camera("cam-s", 108.2111, 16.06, &(clip_source(&clip) + "\nstop_dwell_s = 3\nevidence_keep = 5"))
        + "[[cameras.zones]]\nid = \"lot\"\nkind = \"no_stopping\"\npolygon = [[0, 0], [768, 0], [768, 432], [0, 432]]\n";
    let cfg = write_config(dir.path(), "Cam", BBOX, &text);
    let data = dir.path().join("data");
    let mut server = Server::serve(&cfg, &data, &[]);
    let client = Client::default();
    let log = |server: &Server| twin_tests::server::tail(&server.stderr_text(), 3000).to_owned();

    let is_stop = |a: &Value| a["rule"] == "camera-stopped-vehicle" && a["external_id"] == "cam-s";
    let alerts = client
        .poll_json(&server.url("/api/alerts"), Duration::from_secs(120), |v| {
            v["alerts"].as_array().is_some_and(|l| l.iter().any(is_stop))
        })
        .unwrap_or_else(|e| panic!("{e}\n--- server log ---\n{}", log(&server)));
    let alert = alerts["alerts"].as_array().unwrap().iter().find(|a| is_stop(a)).unwrap();
    assert_eq!(alert["entity_kind"], "camera", "{alert}");
    assert_eq!(alert["severity"], "moderate", "{alert}");
    let message = alert["message"].as_str().unwrap();
    assert!(message.contains("Test cam-s") && message.contains("Vehicle stopped in a no-stopping zone"), "{message}");
    assert_eq!(alert["position"], serde_json::json!([108.2111, 16.06]), "{alert}");
    // The camera entity says which vehicle and where.
    let cams = client.get_json(&server.url("/api/entities?kind=camera"));
    let cam = features(&cams).iter().find(|f| attr_str(f, "external_id") == Some("cam-s")).unwrap();
    let detail = attr_str(cam, "alert_detail").unwrap();
    assert!(detail.contains("stopped") && detail.contains("no-stopping zone lot"), "{detail}");

    // The evidence of that rise: listed, a JPEG, and a sidecar naming the alert.
    let listed = client
        .poll_json(&server.url("/api/cameras/cam-s/evidence"), Duration::from_secs(120), |v| {
            v["evidence"].as_array().is_some_and(|l| l.iter().any(|e| e["alert"] == "stopped_vehicle"))
        })
        .unwrap_or_else(|e| panic!("{e}\n--- server log ---\n{}", log(&server)));
    let item = listed["evidence"].as_array().unwrap().iter().find(|e| e["alert"] == "stopped_vehicle").unwrap().clone();
    let file = item["file"].as_str().unwrap().to_owned();
    // Filed under the alert's id, the one `/api/alerts` lists.
    let id = alert["id"].as_u64().unwrap();
    assert_eq!(item["alert_id"].as_u64(), Some(id), "{item}");
    let suffix = format!("-stopped_vehicle-a{id}.jpg");
    assert!(file.ends_with(&suffix) && file.len() == "yyyymmddThhmmssZ".len() + suffix.len(), "{file}");
    assert!(item["time"].as_str().unwrap().ends_with('Z'), "{item}");
    let (ct, jpeg) = get_bytes(&server.url(item["url"].as_str().unwrap()));
    assert_eq!(ct, "image/jpeg");
    assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]) && jpeg.ends_with(&[0xFF, 0xD9]), "{} bytes", jpeg.len());
    let side = client.get_json(&server.url(item["sidecar_url"].as_str().unwrap()));
    assert_eq!(side["camera"], "cam-s", "{side}");
    assert_eq!(side["alert"], "stopped_vehicle", "{side}");
    assert_eq!(side["alert_id"].as_u64(), Some(id), "{side}");
    assert_eq!(side["image"], file.as_str(), "{side}");
    assert!(side["detail"].as_str().unwrap().contains("no-stopping zone lot"), "{side}");
    let dets = side["detections"].as_array().unwrap();
    assert!(!dets.is_empty() && dets.iter().all(|d| d["class"] == "car" && d["track_id"].is_u64()), "{side}");
    assert!(dets[0]["bbox"].as_array().is_some_and(|b| b.len() == 4), "{side}");
    assert!(data.join("evidence/cam-s").join(&file).is_file());
    // Names that are not ours are refused.
    let r = client.get(&server.url("/api/cameras/cam-s/evidence/..%2F..%2Fcity.toml")).unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.content_type.starts_with("application/problem+json"));

    // After a crash (kill -9) the alert is listed again with the same id, kind, entity and time,
    // and its evidence is still there.
    server.kill9();
    let server = Server::serve(&cfg, &data, &[]);
    let again = client.get_json(&server.url("/api/cameras/cam-s/evidence"));
    assert!(again["evidence"].as_array().unwrap().iter().any(|e| e["file"] == file.as_str()), "{again}");
    let listed = client.get_json(&server.url("/api/alerts"));
    let same = listed["alerts"].as_array().unwrap().iter().find(|a| a["id"] == alert["id"]).cloned();
    let same = same.unwrap_or_else(|| panic!("alert {id} lost by the crash: {listed}"));
    for field in ["rule", "rule_kind", "external_id", "entity", "time", "message"] {
        assert_eq!(same[field], alert[field], "{field}: {same} vs {alert}");
    }
    assert_eq!(same["rule_kind"], "camera_stopped_vehicle", "{same}");
}

fn run_cli(args: &[&str]) -> std::process::Output {
    Command::new(binary_path()).args(args).current_dir(workspace_root()).output().unwrap()
}

fn shipped_frame(name: &str) -> String {
    let p = workspace_root().join("data/video/frames").join(name);
    assert!(Path::new(&p).is_file(), "{} missing", p.display());
    p.display().to_string()
}

#[test]
fn detect_prints_one_json_line_per_detection_and_names_unreadable_images() {
    let frame = shipped_frame("car-detection_t16s.jpg");
    let dir = temp_dir("e2e-detect-");
    let broken = dir.path().join("broken.jpg");
    std::fs::write(&broken, b"not an image").unwrap();
    let out = run_cli(&["detect", broken.to_str().unwrap(), &frame, "--threshold", "0.3"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "an unreadable image fails the run");
    assert!(stderr.contains("broken.jpg"), "{stderr}");
    let dets: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!dets.is_empty(), "no detections on a frame with a car; stderr: {stderr}");
    for d in &dets {
        assert_eq!(d["image"], frame.as_str());
        assert!(d["score"].as_f64().unwrap() >= 0.3);
        let b: Vec<f64> = d["bbox"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert!(b[0] < b[2] && b[1] < b[3], "{d}");
        assert!(d["class"].is_string());
    }
    // The two cars of this frame, boxed by hand on the picture: each is found (the default model
    // names cars seen from above "cell phone" or "parking meter"; the box is what matters here).
    let boxes: Vec<[f64; 4]> = dets
        .iter()
        .map(|d| {
            let b: Vec<f64> = d["bbox"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            [b[0], b[1], b[2], b[3]]
        })
        .collect();
    for car in [[110.0, 0.0, 262.0, 255.0], [315.0, 218.0, 495.0, 432.0]] {
        let best = boxes.iter().map(|b| iou(b, &car)).fold(0.0, f64::max);
        assert!(best >= 0.7, "car {car:?}: best IoU {best:.2} among {boxes:?}");
    }
}

#[test]
fn an_unknown_burn_device_is_a_clear_error_not_a_panic() {
    let frame = shipped_frame("car-detection_t16s.jpg");
    let out = Command::new(binary_path())
        .args(["detect", &frame])
        .env("BURN_DEVICE", "quantum")
        .current_dir(workspace_root())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("BURN_DEVICE=\"quantum\"") && stderr.contains("flex"), "{stderr}");
    assert!(out.stdout.is_empty(), "no detections without a model");
}

fn iou(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    let ix = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let iy = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = ix * iy;
    inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
}
