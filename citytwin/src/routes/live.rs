//! `GET /ws` (WebSocket) and `GET /events` (Server-Sent Events): the same live session over two transports.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::auth::Caller;
use crate::params::Params;
use crate::problem::Problem;
use crate::state::AppState;
use twin_runtime::live::{run_session, Clip, ServerMsg, Subscription};
use twin_runtime::metrics::{ClientGuard, Metrics};

/// Messages a session may queue for a client before it counts as lagging.
const OUT_BUFFER: usize = 64;
/// Largest message a client may send (subscriptions are a few hundred bytes).
pub const MAX_CLIENT_MESSAGE: usize = 16 * 1024;
/// Close code when the session's access ends (token lifetime reached): sign in again.
const CLOSE_EXPIRED: u16 = 4401;

/// Browsers send `Origin` on WebSocket and EventSource requests: only our own page (the public
/// URL, or the address it was reached at) and the configured origins may open a session, so a
/// foreign page cannot ride on a user's ticket. Clients without `Origin` (tools) pass.
fn check_origin(st: &AppState, headers: &HeaderMap) -> Result<(), Problem> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return Ok(()) };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let same_host = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host);
    if same_host || origin == &*st.public_url || st.origins.iter().any(|o| o == origin) {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::FORBIDDEN,
            "origin-not-allowed",
            format!("origin {origin} may not open live sessions"),
        ))
    }
}

/// How long the caller's access lasts from now (a ticket's session: one access-token lifetime).
fn session_length(st: &AppState, headers: &HeaderMap) -> Duration {
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let secs = bearer
        .and_then(|b| st.auth.access.expires_in(b, twin_runtime::clock::now()))
        .unwrap_or_else(|| i64::from(st.auth.access.settings().access_token_ttl_s));
    Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}

/// WebSocket: send `{"type":"subscribe","bbox":[..]?,"kinds":[..]?}` (again to change it); receive
/// `snapshot`, then `delta` (every ~100 ms) and `alert` messages.
#[utoipa::path(get, path = "/ws", tag = "live", responses((status = 101, description = "WebSocket upgrade")))]
pub async fn ws(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, Problem> {
    check_origin(&st, &headers)?;
    let until = tokio::time::Instant::now() + session_length(&st, &headers);
    Ok(upgrade
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| ws_session(socket, st, caller, until)))
}

async fn ws_session(socket: WebSocket, st: AppState, caller: Caller, until: tokio::time::Instant) {
    let clip: Arc<dyn Clip> = Arc::new(caller);
    let expired = tokio::time::sleep_until(until);
    tokio::pin!(expired);
    let _guard = ClientGuard::new(&st.metrics.ws_clients);
    let (mut sink, mut stream) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<ServerMsg>(OUT_BUFFER);
    let (ctl_tx, ctl_rx) = mpsc::channel::<Subscription>(4);
    let mut ctl_rx = Some(ctl_rx);
    let mut session = None;
    let mut tile_watch = twin_runtime::tile_ws::TileWatch::new(st.tiles.clone(), out_tx.clone());
    loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) if twin_runtime::tile_ws::is_tiles_message(text.as_str()) => {
                    if let Err(detail) = tile_watch.subscribe(text.as_str()) {
                        if sink.send(Message::Text(ServerMsg::Error(detail.to_string()).to_json().into())).await.is_err() {
                            break;
                        }
                    }
                }
                Some(Ok(Message::Text(text))) => match Subscription::from_message(text.as_str()) {
                    Ok(sub) => match ctl_rx.take() {
                        Some(ctl) => {
                            let task =
                                run_session(st.twin.clone(), st.hub.clone(), sub, Some(ctl), out_tx.clone(), clip.clone());
                            session = Some(tokio::spawn(task));
                        }
                        None => {
                            if ctl_tx.send(sub).await.is_err() {
                                break;
                            }
                        }
                    },
                    Err(detail) => {
                        let msg = ServerMsg::Error(detail.to_string()).to_json();
                        if sink.send(Message::Text(msg.into())).await.is_err() {
                            break;
                        }
                    }
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            Some(msg) = out_rx.recv() => {
                if sink.send(Message::Text(msg.to_json().into())).await.is_err() {
                    break;
                }
            }
            () = &mut expired => {
                let frame = CloseFrame { code: CLOSE_EXPIRED, reason: "access expired; sign in again".into() };
                let _ = sink.send(Message::Close(Some(frame))).await;
                break;
            }
        }
    }
    if let Some(task) = session {
        task.abort();
    }
}

/// Server-Sent Events with the same messages as `/ws`; event names `snapshot`, `delta`, `alert`.
#[utoipa::path(get, path = "/events", tag = "live",
    params(("bbox" = Option<String>, Query), ("kind" = Option<String>, Query)),
    responses((status = 200, content_type = "text/event-stream", description = "event stream"),
        (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn events(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    p: Params,
) -> Result<Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>>, Problem> {
    check_origin(&st, &headers)?;
    let until = tokio::time::Instant::now() + session_length(&st, &headers);
    let sub = Subscription { bbox: p.bbox()?, kinds: p.kinds()? };
    let clip: Arc<dyn Clip> = Arc::new(caller);
    let (out_tx, out_rx) = mpsc::channel::<ServerMsg>(OUT_BUFFER);
    st.metrics.sse_clients.fetch_add(1, Ordering::Relaxed);
    let gauge = SseGauge(st.metrics.clone());
    tokio::spawn(async move {
        let _gauge = gauge;
        // The session ends when the caller's access does; the client signs in and reconnects.
        let _ =
            tokio::time::timeout_at(until, run_session(st.twin.clone(), st.hub.clone(), sub, None, out_tx, clip)).await;
    });
    let stream = ReceiverStream::new(out_rx).map(|m| Ok(Event::default().event(m.name()).data(m.to_json())));
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Decrements the SSE client gauge when the session task ends.
struct SseGauge(Arc<Metrics>);

impl Drop for SseGauge {
    fn drop(&mut self) {
        self.0.sse_clients.fetch_sub(1, Ordering::Relaxed);
    }
}
