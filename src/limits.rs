//! How much nocall reads from files a user names, so a wrong path (`--config /dev/zero`),
//! a runaway export or a binary file costs bounded memory and says what went wrong.
//!
//! Every input file — `nocall.yaml`, scenarios, recordings and their sidecars, the phone
//! directory, baselines, a letter — is read through [`read_text`]. The limit is
//! [`DEFAULT_INPUT_BYTES`] (16 MiB); `NOCALL_MAX_INPUT_BYTES` changes it.

use std::io::Read;
use std::path::Path;

/// The most bytes read from one input file unless `NOCALL_MAX_INPUT_BYTES` says otherwise.
pub const DEFAULT_INPUT_BYTES: u64 = 16 << 20;

/// The input limit in force.
pub fn input_bytes() -> u64 {
    std::env::var("NOCALL_MAX_INPUT_BYTES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_INPUT_BYTES)
}

/// Why an input file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(
        "it is larger than {} (nocall reads at most that much of an input file; \
         NOCALL_MAX_INPUT_BYTES raises the limit)",
        human_bytes(*limit)
    )]
    TooLarge { limit: u64 },
    #[error("it is not text (not UTF-8{}): is it the file you meant?", at.map(|b| format!("; byte {b}")).unwrap_or_default())]
    NotText { at: Option<usize> },
}

impl From<ReadError> for std::io::Error {
    /// For callers whose errors carry an `io::Error`: a missing file keeps its kind.
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Io(io) => io,
            other => std::io::Error::new(std::io::ErrorKind::InvalidData, other.to_string()),
        }
    }
}

/// Reads a whole text file, at most [`input_bytes`] of it. Binary content (invalid UTF-8,
/// or NUL bytes) is refused rather than half-read.
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    let limit = input_bytes();
    let Some(bytes) = read_bytes(path, limit)? else {
        return Err(ReadError::TooLarge { limit });
    };
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(ReadError::NotText { at: Some(at) });
    }
    String::from_utf8(bytes).map_err(|e| ReadError::NotText {
        at: Some(e.utf8_error().valid_up_to()),
    })
}

/// A whole file when it is at most `limit` bytes (`None` when larger), reading no more than
/// one byte past the limit whatever the file's size.
pub(crate) fn read_bytes(path: &Path, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// "16 MiB", "512 KiB", "300 bytes".
pub(crate) fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_read_binary_and_endless_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("a.yaml");
        std::fs::write(&ok, "name: x\n").unwrap();
        assert_eq!(read_text(&ok).unwrap(), "name: x\n");
        let bin = dir.path().join("b.csv");
        std::fs::write(&bin, [b'a', 0xff, 0xfe, b'b']).unwrap();
        assert!(
            read_text(&bin)
                .unwrap_err()
                .to_string()
                .contains("not text")
        );
        let nul = dir.path().join("c.csv");
        std::fs::write(&nul, b"+1415,live\n\0\0").unwrap();
        assert!(matches!(
            read_text(&nul),
            Err(ReadError::NotText { at: Some(11) })
        ));
        // /dev/zero never ends: the limit stops it.
        if Path::new("/dev/zero").exists() {
            let e = read_text(Path::new("/dev/zero")).unwrap_err();
            assert!(e.to_string().contains("larger than 16 MiB"), "{e}");
        }
        assert_eq!(human_bytes(16 << 20), "16 MiB");
    }
}
