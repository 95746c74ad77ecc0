//! Video files through `ffmpeg` as a subprocess (Debian/Ubuntu: `apt-get install ffmpeg`):
//! it decodes, resamples to the camera's frame rate and writes raw RGB frames to a pipe.

use std::io::Read;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

use thiserror::Error;

use crate::detector::Frame;

#[derive(Debug, Error)]
pub enum VideoError {
    #[error("cannot start ffmpeg (is the ffmpeg package installed?): {0}")]
    Spawn(std::io::Error),
    #[error("reading frames: {0}")]
    Read(std::io::Error),
    #[error("frame size {0}×{1} is empty")]
    EmptySize(usize, usize),
}

/// Reads fixed-size RGB frames from any byte stream (the ffmpeg pipe, or a file in tests).
#[derive(Debug)]
pub struct RawFrames<R> {
    reader: R,
    width: usize,
    height: usize,
}

impl<R: Read> RawFrames<R> {
    pub fn new(reader: R, width: usize, height: usize) -> Result<Self, VideoError> {
        if width == 0 || height == 0 {
            return Err(VideoError::EmptySize(width, height));
        }
        Ok(Self { reader, width, height })
    }

    /// The next frame; `Ok(None)` at the end of the stream (a trailing partial frame is dropped).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, VideoError> {
        let mut rgb = vec![0u8; self.width * self.height * 3];
        let mut filled = 0;
        while filled < rgb.len() {
            match self.reader.read(&mut rgb[filled..]) {
                Ok(0) => return Ok(None),
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(VideoError::Read(e)),
            }
        }
        Ok(Some(Frame { width: self.width, height: self.height, rgb }))
    }
}

/// ffmpeg arguments that decode `path`, sample `fps` frames per second and scale to
/// `width × height` raw RGB on stdout.
pub fn ffmpeg_args(path: &Path, width: usize, height: usize, fps: f64) -> Vec<String> {
    vec![
        "-loglevel".into(),
        "error".into(),
        "-i".into(),
        path.display().to_string(),
        "-vf".into(),
        format!("fps={fps},scale={width}:{height}"),
        "-f".into(),
        "rawvideo".into(),
        "-pix_fmt".into(),
        "rgb24".into(),
        "pipe:1".into(),
    ]
}

/// A running decoder; dropping it kills the subprocess.
#[derive(Debug)]
pub struct VideoFile {
    child: Child,
    pub frames: RawFrames<ChildStdout>,
}

impl VideoFile {
    pub fn open(path: &Path, width: usize, height: usize, fps: f64) -> Result<Self, VideoError> {
        let mut child = Command::new("ffmpeg")
            .args(ffmpeg_args(path, width, height, fps))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(VideoError::Spawn)?;
        let out = child.stdout.take().ok_or_else(|| VideoError::Spawn(std::io::Error::other("no stdout pipe")))?;
        Ok(Self { child, frames: RawFrames::new(out, width, height)? })
    }
}

impl Drop for VideoFile {
    fn drop(&mut self) {
        // The process may have exited already; nothing else to do on failure.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_frames_split_a_byte_stream() {
        let bytes: Vec<u8> = (0..(2 * 3 * 3 * 2 + 5)).map(|i| i as u8).collect();
        let mut r = RawFrames::new(std::io::Cursor::new(bytes), 3, 2).unwrap();
        let a = r.next_frame().unwrap().unwrap();
        assert_eq!(a.rgb[0], 0);
        let b = r.next_frame().unwrap().unwrap();
        assert_eq!(b.rgb[0], 18);
        assert!(r.next_frame().unwrap().is_none(), "partial frame dropped");
        assert!(RawFrames::new(std::io::empty(), 0, 2).is_err());
    }

    #[test]
    fn ffmpeg_command_samples_and_scales() {
        let a = ffmpeg_args(Path::new("cam.mp4"), 512, 288, 2.5);
        assert_eq!(a[3], "cam.mp4");
        assert_eq!(a[5], "fps=2.5,scale=512:288");
        assert!(a.ends_with(&["rgb24".to_string(), "pipe:1".to_string()]));
    }
}
