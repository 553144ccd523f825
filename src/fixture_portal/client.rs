//! A tiny blocking HTTP/1.1 client for the portal's tests: one request per connection, over
//! `std::net::TcpStream`, so the tests see exactly what the server wrote.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::Portal;

/// What the server answered.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    /// Status line and headers, as sent.
    pub head: String,
    pub body: String,
}

impl Reply {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// `name=value` of the cookie the reply sets, for the next request's `Cookie` header.
    pub fn cookie(&self) -> Option<String> {
        let set = self.header("set-cookie")?;
        Some(set.split(';').next()?.trim().to_string())
    }
}

pub(crate) fn get(portal: &Portal, path: &str) -> Reply {
    request(
        portal,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            portal.addr()
        ),
    )
}

pub(crate) fn get_with_cookie(portal: &Portal, path: &str, cookie: &str) -> Reply {
    request(
        portal,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n",
            portal.addr()
        ),
    )
}

/// A form post; `body` is already `application/x-www-form-urlencoded`.
pub(crate) fn post(portal: &Portal, path: &str, body: &str, cookie: Option<&str>) -> Reply {
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    request(
        portal,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\n{cookie}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            portal.addr(),
            body.len()
        ),
    )
}

/// Sends `raw` and reads the answer to its end.
pub(crate) fn request(portal: &Portal, raw: &str) -> Reply {
    let bytes = exchange(portal, raw, Duration::from_secs(10)).expect("the portal answers");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Reply {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// Sends `raw` and returns every byte read until the server closes, or the read error
/// (a timeout when the server never answers).
pub(crate) fn exchange(portal: &Portal, raw: &str, timeout: Duration) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(portal.addr())?;
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(raw.as_bytes())?;
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes)?;
    Ok(bytes)
}
