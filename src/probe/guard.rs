//! Which addresses the prober may connect to: never a loopback, private, link-local or
//! cloud-metadata address, unless it is a journey's own host, listed in `allowed_hosts`,
//! or the run says `--allow-private`.
//!
//! The check sits where the address is known: in the DNS resolver the HTTP client uses
//! (so the connector dials exactly the answers checked, with no gap for a name that
//! resolves differently the second time), and on IP literals and at every redirect hop
//! (which the engine follows by hand). It makes no request of its own and never reads the
//! machine's configuration beyond a DNS lookup.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::sync::{OnceCell, Semaphore};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Why an address is off limits, if it is.
pub(crate) fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let seg = v6.segments();
            // 64:ff9b::/96, NAT64 of an IPv4 address.
            if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [a, b] = seg[6].to_be_bytes();
                let [c, d] = seg[7].to_be_bytes();
                return forbidden_v4(Ipv4Addr::new(a, b, c, d));
            }
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() || v6.is_multicast() {
                Some("not a host")
            } else if v6.is_unique_local() {
                Some("private")
            } else if v6.is_unicast_link_local() {
                Some("link-local")
            } else {
                None
            }
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_link_local() {
        // 169.254/16 holds the cloud metadata address.
        Some("link-local")
    } else if ip.is_private()
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b & 0xfe) == 18)
    {
        Some("private")
    } else if ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || a >= 240
        || (a == 192 && b == 0 && c == 0)
    {
        Some("not a host")
    } else {
        None
    }
}

/// The hosts a run may reach even on private addresses.
#[derive(Debug, Clone, Default)]
pub(crate) struct Exempt {
    hosts: HashSet<String>,
    /// `allowed_hosts`, whose subdomains count too.
    allowed: Vec<String>,
    pub(crate) all: bool,
}

impl Exempt {
    pub(crate) fn new(own: &HashSet<String>, allowed: Option<&[String]>, all: bool) -> Exempt {
        Exempt {
            hosts: own.clone(),
            allowed: allowed
                .unwrap_or_default()
                .iter()
                .map(|a| a.trim().trim_start_matches("*.").to_ascii_lowercase())
                .collect(),
            all,
        }
    }

    pub(crate) fn covers(&self, host: &str) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        self.all
            || self
                .hosts
                .iter()
                .any(|h| h.trim_start_matches('[').trim_end_matches(']') == host)
            || self
                .allowed
                .iter()
                .any(|a| host == *a || host.ends_with(&format!(".{a}")))
    }

    /// The URL's host is an IP literal that is off limits, and not exempt.
    pub(crate) fn refuses_literal(&self, url: &Url) -> Option<String> {
        let ip = match url.host()? {
            Host::Ipv4(v4) => IpAddr::V4(v4),
            Host::Ipv6(v6) => IpAddr::V6(v6),
            Host::Domain(_) => return None,
        };
        let host = url.host_str().unwrap_or_default();
        (forbidden(ip).is_some() && !self.covers(host)).then(|| host.to_string())
    }
}

/// A name resolved only to off-limits addresses.
#[derive(Debug, thiserror::Error)]
#[error("{host} is a private address")]
pub(crate) struct PrivateAddress {
    pub(crate) host: String,
}

/// Names looked up at once: a burst of links to many hosts must not queue lookups until
/// the requests waiting on them time out.
const LOOKUPS_AT_ONCE: usize = 8;

type Lookup = Arc<OnceCell<Result<Vec<SocketAddr>, String>>>;

/// The prober's DNS resolver: the system's answers, without the off-limits ones. Each name
/// is looked up once per run (a page with fifty links to one site costs one lookup), and at
/// most [`LOOKUPS_AT_ONCE`] lookups run at a time.
pub(crate) struct GuardedResolver {
    pub(crate) exempt: Arc<Exempt>,
    lookups: Arc<Semaphore>,
    answers: Arc<Mutex<HashMap<String, Lookup>>>,
}

impl GuardedResolver {
    pub(crate) fn new(exempt: Arc<Exempt>) -> GuardedResolver {
        GuardedResolver {
            exempt,
            lookups: Arc::new(Semaphore::new(LOOKUPS_AT_ONCE)),
            answers: Arc::default(),
        }
    }
}

/// A name that did not resolve (said as the system said it).
#[derive(Debug, thiserror::Error)]
#[error("dns error: failed to lookup address for {host}: {why}")]
struct NotResolved {
    host: String,
    why: String,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let exempt = self.exempt.clone();
        let host = name.as_str().to_string();
        let cell = self
            .answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(host.to_ascii_lowercase())
            .or_default()
            .clone();
        let lookups = self.lookups.clone();
        Box::pin(async move {
            let looked_up = cell
                .get_or_init(|| async {
                    let _slot = lookups.acquire().await.ok();
                    tokio::net::lookup_host((host.as_str(), 0))
                        .await
                        .map(Iterator::collect)
                        .map_err(|e| e.to_string())
                })
                .await;
            let answers: Vec<SocketAddr> = match looked_up {
                Ok(a) => a.clone(),
                Err(why) => {
                    return Err(Box::new(NotResolved {
                        host,
                        why: why.clone(),
                    }) as _);
                }
            };
            if exempt.covers(&host) {
                let addrs: Addrs = Box::new(answers.into_iter());
                return Ok(addrs);
            }
            let kept: Vec<SocketAddr> = answers
                .iter()
                .copied()
                .filter(|a| forbidden(a.ip()).is_none())
                .collect();
            if kept.is_empty() && !answers.is_empty() {
                return Err(Box::new(PrivateAddress { host }) as _);
            }
            let addrs: Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_link_local_and_metadata_are_forbidden() {
        for ip in [
            "127.0.0.2",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(forbidden(ip.parse().unwrap()).is_some(), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(forbidden(ip.parse().unwrap()).is_none(), "{ip}");
        }
    }

    #[test]
    fn own_and_allowed_hosts_are_exempt() {
        let own: HashSet<String> = ["127.0.0.1".to_string()].into();
        let e = Exempt::new(&own, Some(&["lab.internal".to_string()]), false);
        let u = |s: &str| Url::parse(s).unwrap();
        assert_eq!(e.refuses_literal(&u("http://127.0.0.1:9/x")), None);
        assert_eq!(
            e.refuses_literal(&u("http://127.0.0.2:9/x")).as_deref(),
            Some("127.0.0.2")
        );
        assert_eq!(
            e.refuses_literal(&u("http://169.254.169.254/")).as_deref(),
            Some("169.254.169.254")
        );
        assert!(e.covers("a.lab.internal"));
        assert!(!e.covers("localhost"));
        let all = Exempt::new(&own, None, true);
        assert_eq!(all.refuses_literal(&u("http://127.0.0.2/")), None);
    }
}
