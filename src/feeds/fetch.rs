//! Fetching feeds and article pages over HTTP (DESIGN §12): conditional GET,
//! a 10 s timeout, a 5 MiB cap, at most 5 redirects, http and https only,
//! gzip, and a User-Agent naming storyline and its version.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use reqwest::redirect::Policy;
use url::Url;

use super::FeedError;

pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
pub const MAX_FEED_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_REDIRECTS: usize = 5;
pub const USER_AGENT: &str = concat!("storyline/", env!("CARGO_PKG_VERSION"), " (feed reader)");

/// What a GET answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    /// 304: nothing changed since the validators sent.
    NotModified,
    Body {
        bytes: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// The HTTP client feeds are fetched with.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
}

/// A URL storyline may fetch: http or https with a host.
pub fn web_url(text: &str) -> Result<Url, FeedError> {
    let url = Url::parse(text.trim()).map_err(|e| FeedError::BadUrl(format!("{text}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(FeedError::BadUrl(format!(
            "{text}: only http and https URLs are fetched"
        )));
    }
    Ok(url)
}

impl Fetcher {
    pub fn new() -> Result<Fetcher, FeedError> {
        Fetcher::with_timeout(FETCH_TIMEOUT)
    }

    /// A fetcher that gives up after `timeout` (tests wait less than 10 s).
    pub fn with_timeout(timeout: Duration) -> Result<Fetcher, FeedError> {
        let policy = Policy::custom(|attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else if !matches!(attempt.url().scheme(), "http" | "https") {
                attempt.error("a redirect to a URL that is not http or https")
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(policy)
            .user_agent(USER_AGENT)
            .gzip(true)
            .build()
            .map_err(|e| FeedError::Http(e.to_string()))?;
        Ok(Fetcher { client })
    }

    /// GETs `url`, sending the validators of the last answer.
    pub async fn fetch(
        &self,
        url: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<Fetched, FeedError> {
        let url = web_url(url)?;
        let mut request = self.client.get(url);
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(at) = last_modified {
            request = request.header(IF_MODIFIED_SINCE, at);
        }
        let response = request.send().await.map_err(describe)?;
        if response.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !response.status().is_success() {
            return Err(FeedError::Http(format!(
                "the server answered {}",
                response.status()
            )));
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let (etag, last_modified) = (header(ETAG), header(LAST_MODIFIED));
        let bytes = read_capped(response).await?;
        Ok(Fetched::Body {
            bytes,
            etag,
            last_modified,
        })
    }
}

/// The body, refused once it passes the cap (whatever Content-Length said).
async fn read_capped(response: reqwest::Response) -> Result<Vec<u8>, FeedError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_FEED_BYTES as u64)
    {
        return Err(FeedError::TooLarge);
    }
    let mut bytes = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(describe)?;
        if bytes.len() + chunk.len() > MAX_FEED_BYTES {
            return Err(FeedError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// A transport error in a line an operator reads.
fn describe(error: reqwest::Error) -> FeedError {
    if error.is_timeout() {
        FeedError::Http("no answer in time (timeout)".to_owned())
    } else if error.is_redirect() {
        FeedError::Http(format!(
            "too many redirects or a redirect off the web: {error}"
        ))
    } else {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message = format!("{message}: {cause}");
            source = cause.source();
        }
        FeedError::Http(message)
    }
}

/// Whether an article page may be fetched: from the feed's own host, or
/// one of the hosts allowed for it (any port).
pub fn may_fetch_article(feed_url: &str, allowed_hosts: &[String], article: &str) -> bool {
    let Ok(article) = web_url(article) else {
        return false;
    };
    let Some(host) = article.host_str() else {
        return false;
    };
    let feed_host = Url::parse(feed_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned));
    feed_host.as_deref() == Some(host) || allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_urls_are_fetched() {
        assert!(web_url("https://example.org/feed.xml").is_ok());
        for bad in [
            "file:///etc/passwd",
            "ftp://example.org/feed",
            "javascript:alert(1)",
            "not a url",
        ] {
            assert!(web_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn article_pages_come_from_the_feeds_host_or_an_allowed_one() {
        let allowed = vec!["news.example.com".to_owned()];
        assert!(may_fetch_article(
            "http://wire.example.org:8080/feed",
            &allowed,
            "http://wire.example.org:9090/a"
        ));
        assert!(may_fetch_article(
            "http://wire.example.org/feed",
            &allowed,
            "https://news.example.com/b"
        ));
        assert!(!may_fetch_article(
            "http://wire.example.org/feed",
            &allowed,
            "http://evil.example.net/c"
        ));
    }
}
