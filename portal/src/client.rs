//! Test helpers for the portal: a tiny blocking HTTP/1.1 client (one request per
//! connection, over `std::net::TcpStream`, so the tests see exactly what the server wrote)
//! and a throwaway SMTP server that hands each message's DATA to the test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
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
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// `name=value` of the cookie the reply sets, for the next request's `Cookie` header.
    pub(crate) fn cookie(&self) -> Option<String> {
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
    request_at(portal.addr(), raw)
}

/// [`request`] to one listener by address.
pub(crate) fn request_at(addr: SocketAddr, raw: &str) -> Reply {
    let bytes = exchange_at(addr, raw, Duration::from_secs(10)).expect("the portal answers");
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
    exchange_at(portal.addr(), raw, timeout)
}

/// [`exchange`] with a listener of the portal's given by address (its second one).
pub(crate) fn exchange_at(
    addr: SocketAddr,
    raw: &str,
    timeout: Duration,
) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(raw.as_bytes())?;
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A throwaway SMTP server: accepts every message and hands its DATA to the test.
pub(crate) fn smtp_sink() -> (SocketAddr, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
    let addr = listener.local_addr().expect("has an address");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if let Some(data) = smtp_session(stream)
                && tx.send(data).is_err()
            {
                return;
            }
        }
    });
    (addr, rx)
}

fn smtp_session(mut stream: TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    stream.write_all(b"220 sink ESMTP\r\n").ok()?;
    let mut data = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return data;
        }
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 sink\r\n",
            "DATA" => {
                stream.write_all(b"354 end with <CRLF>.<CRLF>\r\n").ok()?;
                let mut body = String::new();
                loop {
                    let mut l = String::new();
                    if reader.read_line(&mut l).ok()? == 0 || l == ".\r\n" {
                        break;
                    }
                    body.push_str(&l);
                }
                data = Some(body);
                b"250 queued\r\n"
            }
            "QUIT" => {
                stream.write_all(b"221 bye\r\n").ok()?;
                return data;
            }
            _ => b"250 ok\r\n",
        };
        stream.write_all(reply).ok()?;
    }
}

/// The message as a reader sees it: quoted-printable soft breaks and `=3D` undone.
fn readable(raw: &str) -> String {
    raw.replace("=\r\n", "").replace("=3D", "=")
}

/// The next message's DATA, made readable; panics after 10 s without one.
pub(crate) fn receive(rx: &mpsc::Receiver<String>) -> String {
    readable(&receive_raw(rx))
}

/// The next message's DATA as sent; panics after 10 s without one.
pub(crate) fn receive_raw(rx: &mpsc::Receiver<String>) -> String {
    rx.recv_timeout(Duration::from_secs(10))
        .expect("a message arrives")
}
