//! Entities of a snapshot in independently decodable chunks, so that a large snapshot is encoded
//! and decoded on every core: restart time is dominated by decoding a million entities.
//!
//! Layout: `[u32 chunk count]` then per chunk `[u64 byte length][u32 entity count][entities]`.

use std::num::NonZeroUsize;
use std::thread;

use super::codec::{CodecError, Reader, Writer};
use super::records::{get_entity, put_entity, MIN_ENTITY};
use crate::Entity;

/// Entities per chunk: big enough that thread start-up is noise, small enough to spread the work.
const CHUNK: usize = 32_768;
/// Chunk length and entity count.
const CHUNK_HEADER: usize = 12;

fn workers(jobs: usize) -> usize {
    thread::available_parallelism().map_or(1, NonZeroUsize::get).min(jobs).max(1)
}

/// Runs `f` over `jobs` (in contiguous runs, one run per worker thread) and returns the results in
/// order. With one worker (or one job) it runs inline.
fn map_ordered<J: Sync, R: Send>(jobs: &[J], f: impl Fn(&J) -> R + Sync) -> Vec<R> {
    let n = workers(jobs.len());
    if n <= 1 {
        return jobs.iter().map(f).collect();
    }
    let per = jobs.len().div_ceil(n);
    let f = &f;
    thread::scope(|s| {
        let handles: Vec<_> =
            jobs.chunks(per).map(|run| s.spawn(move || run.iter().map(f).collect::<Vec<R>>())).collect();
        // A worker can only fail by panicking; re-raise it here rather than lose results.
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}

pub(crate) fn put_entities(buf: &mut Vec<u8>, entities: &[Entity]) {
    let chunks: Vec<&[Entity]> = entities.chunks(CHUNK).collect();
    Writer::new(buf).len(chunks.len());
    let encoded = map_ordered(&chunks, |chunk| {
        let mut out = Vec::with_capacity(chunk.len() * 128);
        let mut w = Writer::new(&mut out);
        w.len(chunk.len());
        for e in chunk.iter() {
            put_entity(&mut w, e);
        }
        out
    });
    for chunk in encoded {
        Writer::new(buf).u64(chunk.len() as u64);
        buf.extend_from_slice(&chunk);
    }
}

pub(crate) fn get_entities(r: &mut Reader<'_>) -> Result<Vec<Entity>, CodecError> {
    let n = r.count("entity chunk", CHUNK_HEADER)?;
    let mut chunks = Vec::with_capacity(n);
    for _ in 0..n {
        let at = r.pos();
        let len = r.u64()?;
        if len > r.remaining() as u64 {
            return Err(CodecError::Count { what: "entity chunk byte", count: len, at });
        }
        // Offsets inside a chunk are reported from the chunk's start.
        chunks.push(r.take(len as usize)?);
    }
    let decoded = map_ordered(&chunks, |chunk| {
        let mut r = Reader::new(chunk);
        let n = r.count("entity", MIN_ENTITY)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(get_entity(&mut r)?);
        }
        r.finish()?;
        Ok(out)
    });
    let mut entities = Vec::with_capacity(decoded.iter().map(|c| c.as_ref().map_or(0, Vec::len)).sum());
    for chunk in decoded {
        entities.extend(chunk?);
    }
    Ok(entities)
}
