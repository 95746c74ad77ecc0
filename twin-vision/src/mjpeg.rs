//! Incremental parser of `multipart/x-mixed-replace` MJPEG streams (the format of most IP
//! cameras' `/video.mjpg` endpoints). Feed bytes as they arrive; complete JPEG parts come out.

use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum MjpegError {
    #[error("content type has no multipart boundary: {0}")]
    NoBoundary(String),
    #[error("part headers exceed {0} bytes")]
    HeadersTooLong(usize),
    #[error("part of {0} bytes exceeds the {1}-byte limit")]
    PartTooLarge(usize, usize),
}

/// Extracts the boundary from a `Content-Type` header value.
pub fn boundary_from_content_type(ct: &str) -> Result<String, MjpegError> {
    ct.split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').trim_start_matches("--").to_string())
        .filter(|b| !b.is_empty())
        .ok_or_else(|| MjpegError::NoBoundary(ct.to_string()))
}

const MAX_HEADERS: usize = 8 * 1024;

/// Stream state machine.
#[derive(Debug)]
pub struct MjpegParser {
    delimiter: Vec<u8>,
    buf: Vec<u8>,
    max_part: usize,
}

impl MjpegParser {
    /// `boundary` without the leading `--`; `max_part` bounds memory on a broken stream.
    pub fn new(boundary: &str, max_part: usize) -> Self {
        Self { delimiter: format!("--{boundary}").into_bytes(), buf: Vec::new(), max_part }
    }

    /// Appends bytes and returns every JPEG completed by them.
    pub fn push(&mut self, data: &[u8]) -> Result<Vec<Vec<u8>>, MjpegError> {
        self.buf.extend_from_slice(data);
        let mut out = Vec::new();
        while let Some(start) = find(&self.buf, &self.delimiter, 0) {
            let after = start + self.delimiter.len();
            let Some(hdr_end) = find(&self.buf, b"\r\n\r\n", after) else {
                if self.buf.len() - after > MAX_HEADERS {
                    return Err(MjpegError::HeadersTooLong(MAX_HEADERS));
                }
                break;
            };
            let headers = String::from_utf8_lossy(&self.buf[after..hdr_end]).to_ascii_lowercase();
            let body = hdr_end + 4;
            let length = headers
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            // With Content-Length take exactly that; otherwise the part ends at the next delimiter.
            let end = match length {
                Some(n) if n > self.max_part => return Err(MjpegError::PartTooLarge(n, self.max_part)),
                Some(n) if self.buf.len() >= body + n => Some(body + n),
                Some(_) => None,
                None => find(&self.buf, &self.delimiter, body).map(|d| trim_crlf(&self.buf, body, d)),
            };
            let Some(end) = end else {
                if self.buf.len() - body > self.max_part {
                    return Err(MjpegError::PartTooLarge(self.buf.len() - body, self.max_part));
                }
                break;
            };
            out.push(self.buf[body..end].to_vec());
            self.buf.drain(..end);
        }
        Ok(out)
    }
}

/// Part end before the CRLF that precedes the next delimiter.
fn trim_crlf(buf: &[u8], body: usize, mut end: usize) -> usize {
    if end >= body + 2 && &buf[end - 2..end] == b"\r\n" {
        end -= 2;
    }
    end
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from >= hay.len() || needle.is_empty() {
        return None;
    }
    hay[from..].windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(n: u8, len: usize) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        // Body bytes include CRLFs and dashes to prove the parser does not split on them.
        v.extend((0..len).map(|i| [b'-', b'\r', b'\n', n][i % 4]));
        v.extend([0xFF, 0xD9]);
        v
    }

    fn stream(parts: &[Vec<u8>], with_length: bool) -> Vec<u8> {
        let mut s = Vec::new();
        for p in parts {
            s.extend(b"--myboundary\r\nContent-Type: image/jpeg\r\n");
            if with_length {
                s.extend(format!("Content-Length: {}\r\n", p.len()).as_bytes());
            }
            s.extend(b"\r\n");
            s.extend(p);
            s.extend(b"\r\n");
        }
        s.extend(b"--myboundary\r\n");
        s
    }

    #[test]
    fn boundary_is_read_from_the_header() {
        let b = boundary_from_content_type("multipart/x-mixed-replace; boundary=\"--myboundary\"");
        assert_eq!(b.unwrap(), "myboundary");
        assert!(boundary_from_content_type("image/jpeg").is_err());
    }

    #[test]
    fn parts_come_out_whole_for_any_chunking() {
        let parts: Vec<_> = (0..5).map(|i| jpeg(i, 100 + 37 * i as usize)).collect();
        for with_length in [true, false] {
            let s = stream(&parts, with_length);
            for chunk in [1, 7, 64, s.len()] {
                let mut p = MjpegParser::new("myboundary", 1 << 20);
                let mut got = Vec::new();
                for c in s.chunks(chunk) {
                    got.extend(p.push(c).unwrap());
                }
                assert_eq!(got, parts, "length {with_length}, chunk {chunk}");
            }
        }
    }

    #[test]
    fn oversized_parts_are_refused() {
        let s = stream(&[jpeg(1, 5000)], true);
        let mut p = MjpegParser::new("myboundary", 1000);
        assert_eq!(p.push(&s), Err(MjpegError::PartTooLarge(5004, 1000)));
    }
}
