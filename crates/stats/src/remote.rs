//! Inputs and outputs where the data lives: `s3://`, `gs://`, `az://`/`abfss://` and
//! `http(s)://` URLs, through the `object_store` crate DataFusion itself reads files with.
//!
//! - One store per scheme and bucket (or host), built once per process from the
//!   provider's standard configuration: `AWS_*` variables and the shared credentials and
//!   config files (`AWS_PROFILE`), the web-identity, container and instance-metadata
//!   providers; `GOOGLE_*` variables and application default credentials; `AZURE_*`
//!   variables and managed identities. DataFusion's sessions get them through
//!   [`StoreRegistry`].
//! - Requests are bounded: a 5 s connect timeout, 60 s per request, and retries for at
//!   most 15 s, so an unreachable endpoint fails within seconds, not minutes.
//! - Nothing secret is printed: messages name a URL without its user, password and query
//!   (an Azure SAS token, a signed URL), and object-store errors are reduced to their
//!   kind (not found, access denied, no credentials) before they reach the user.
//! - The synchronous readers of the file pre-checks (`precheck`, `infer`) read a remote
//!   file through [`open`], a [`Read`] over a streamed GET; the Parquet footer check uses
//!   ranged reads ([`parquet_tail`]), so a 5 GB file is not downloaded to check it.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use futures::StreamExt;
use object_store::path::Path as Key;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, ObjectStoreScheme, RetryConfig};
use percent_encoding::percent_decode_str;
use url::Url;

use crate::error::{Error, Result};

/// The URL schemes read through an object store.
const SCHEMES: &[&str] = &[
    "s3", "s3a", "gs", "az", "azure", "abfs", "abfss", "adl", "http", "https",
];

/// Whether `s` names a remote object (`scheme://...` with a scheme of [`SCHEMES`]).
pub fn is_remote(s: &str) -> bool {
    s.split_once("://").is_some_and(|(scheme, rest)| {
        !rest.is_empty() && SCHEMES.contains(&scheme.to_ascii_lowercase().as_str())
    })
}

/// Whether a path names a remote object (see [`is_remote`]).
pub fn is_remote_path(p: &Path) -> bool {
    p.to_str().is_some_and(is_remote)
}

/// `s` as it may be shown: a URL loses its user, password and query (a SAS token or a
/// signature); anything else is returned as it is.
pub fn redact(s: &str) -> String {
    if !is_remote(s) {
        return s.to_string();
    }
    match Url::parse(s) {
        // Nothing to hide: the text as given (Url would add a `/` to a bare host).
        Ok(url)
            if url.username().is_empty()
                && url.password().is_none()
                && url.query().is_none()
                && url.fragment().is_none() =>
        {
            s.to_string()
        }
        Ok(mut url) => {
            let had_query = url.query().is_some();
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            let mut out = url.to_string();
            if had_query {
                out.push_str("?...");
            }
            out
        }
        // Not a URL after all: keep what comes before any `@` or `?` out of messages.
        Err(_) => {
            let (scheme, rest) = s.split_once("://").unwrap_or(("", s));
            let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
            let rest = rest.split_once('?').map_or(rest, |(r, _)| r);
            format!("{scheme}://{rest}")
        }
    }
}

/// `text` with every URL in it as [`redact`] shows it (a URL is a word with `://`; the
/// punctuation around it stays): for messages that name a path wherever they come from.
pub fn redact_text(text: &str) -> String {
    if !text.contains("://") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if !word.contains("://") {
            out.push_str(word);
            continue;
        }
        let core = word.trim_start_matches(['(', '[', '<', '"', '\'', '`']);
        let lead = &word[..word.len() - core.len()];
        let core = core.trim_end_matches([')', ']', '>', '"', '\'', '`', ',', ':', ';', '.']);
        let trail = &word[lead.len() + core.len()..];
        out.push_str(lead);
        out.push_str(&redact(core));
        out.push_str(trail);
    }
    out
}

/// A remote location: its store and the key within it.
pub struct Location {
    pub store: Arc<dyn ObjectStore>,
    pub key: Key,
    /// `scheme://authority`, without credentials: a key's URL is `base/key`.
    pub base: String,
}

impl Location {
    /// The URL of `key` in the same store.
    pub fn url_of(&self, key: &Key) -> String {
        format!("{}/{}", self.base, key.as_ref())
    }
}

/// Parse `s` and find its store (built on first use, then shared by the process).
pub fn locate(s: &str) -> Result<Location> {
    // Error::input names `s` without its credentials or query (see `redact`).
    let url = Url::parse(s).map_err(|e| Error::input(s, format!("not a valid URL: {e}")))?;
    let (scheme, key) = ObjectStoreScheme::parse(&url)
        .map_err(|e| Error::input(s, format!("not a storage URL: {e}")))?;
    let base = url[..url::Position::BeforePath].to_string();
    let store = store_for(&url, &scheme, &base).map_err(|e| Error::input(s, message(&e)))?;
    let mut base = Url::parse(&base).map_or(base, |mut b| {
        let _ = b.set_username("");
        let _ = b.set_password(None);
        b.to_string()
    });
    while base.ends_with('/') {
        base.pop();
    }
    // https://account.blob.core.windows.net/container/...: the container is in the path.
    if matches!(url.scheme(), "http" | "https") && scheme != ObjectStoreScheme::Http {
        let full = Key::from_url_path(url.path()).unwrap_or_default();
        let container: Vec<_> = full
            .parts()
            .take(full.parts().count() - key.parts().count())
            .collect();
        for part in container {
            base.push('/');
            base.push_str(part.as_ref());
        }
    }
    Ok(Location { store, key, base })
}

type Stores = Mutex<HashMap<String, Arc<dyn ObjectStore>>>;

fn stores() -> &'static Stores {
    static STORES: OnceLock<Stores> = OnceLock::new();
    STORES.get_or_init(|| Mutex::new(HashMap::new()))
}

fn store_for(
    url: &Url,
    scheme: &ObjectStoreScheme,
    base: &str,
) -> object_store::Result<Arc<dyn ObjectStore>> {
    // Azure's https URLs name the container in the path: key the cache by it too.
    let cache_key = match scheme {
        ObjectStoreScheme::MicrosoftAzure if matches!(url.scheme(), "http" | "https") => url
            .path_segments()
            .and_then(|mut s| s.next())
            .map_or_else(|| base.to_string(), |c| format!("{base}/{c}")),
        _ => base.to_string(),
    };
    if let Some(s) = stores()
        .lock()
        .ok()
        .and_then(|m| m.get(&cache_key).cloned())
    {
        return Ok(s);
    }
    let store = build(url, scheme)?;
    if let Ok(mut m) = stores().lock() {
        m.entry(cache_key).or_insert_with(|| store.clone());
    }
    Ok(store)
}

/// The bounds every request runs within (see the module doc).
fn client_options() -> ClientOptions {
    ClientOptions::new()
        .with_connect_timeout(Duration::from_secs(5))
        .with_timeout(Duration::from_secs(60))
}

fn retry() -> RetryConfig {
    RetryConfig {
        max_retries: 4,
        retry_timeout: Duration::from_secs(15),
        ..RetryConfig::default()
    }
}

/// The provider's variables (`AWS_*`, `GOOGLE_*`, `AZURE_*`) as configuration pairs,
/// lower-cased as the builders' keys are.
fn env_pairs(prefix: &str) -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.to_str()?.to_string(), v.to_str()?.to_string())))
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
}

fn build(url: &Url, scheme: &ObjectStoreScheme) -> object_store::Result<Arc<dyn ObjectStore>> {
    use object_store::aws::AmazonS3Builder;
    use object_store::azure::MicrosoftAzureBuilder;
    use object_store::gcp::GoogleCloudStorageBuilder;
    use object_store::http::HttpBuilder;
    // The builders' own `from_env` would be overridden by `with_client_options`: set the
    // bounds first, then the environment, so that e.g. `AWS_ALLOW_HTTP` still applies.
    Ok(match scheme {
        ObjectStoreScheme::AmazonS3 => {
            let mut b = AmazonS3Builder::new()
                .with_client_options(client_options())
                .with_retry(retry());
            for (k, v) in aws_profile().into_iter().chain(env_pairs("AWS_")) {
                if let Ok(key) = k.parse() {
                    b = b.with_config(key, v);
                }
            }
            // An endpoint of the user's on plain http (a local MinIO, moto, Ceph) is meant.
            let endpoint_http = std::env::var("AWS_ENDPOINT_URL")
                .or_else(|_| std::env::var("AWS_ENDPOINT"))
                .is_ok_and(|e| e.starts_with("http://"));
            if endpoint_http {
                b = b.with_allow_http(true);
            }
            Arc::new(b.with_url(url.as_str()).build()?)
        }
        ObjectStoreScheme::GoogleCloudStorage => {
            let mut b = GoogleCloudStorageBuilder::new()
                .with_client_options(client_options())
                .with_retry(retry());
            for (k, v) in env_pairs("GOOGLE_") {
                if let Ok(key) = k.parse() {
                    b = b.with_config(key, v);
                }
            }
            Arc::new(b.with_url(url.as_str()).build()?)
        }
        ObjectStoreScheme::MicrosoftAzure => {
            let mut b = MicrosoftAzureBuilder::new()
                .with_client_options(client_options())
                .with_retry(retry());
            for (k, v) in env_pairs("AZURE_") {
                if let Ok(key) = k.parse() {
                    b = b.with_config(key, v);
                }
            }
            Arc::new(b.with_url(url.as_str()).build()?)
        }
        ObjectStoreScheme::Http => {
            let base = &url[..url::Position::BeforePath];
            let options = client_options().with_allow_http(url.scheme() == "http");
            Arc::new(
                HttpBuilder::new()
                    .with_client_options(options)
                    .with_retry(retry())
                    .with_url(base)
                    .build()?,
            )
        }
        other => {
            return Err(object_store::Error::NotSupported {
                source: format!("{other:?} URLs are not read remotely").into(),
            });
        }
    })
}

/// Static keys and the region of `AWS_PROFILE` (else `default`) from the shared
/// credentials and config files, as the AWS CLI reads them; variables of the environment
/// come after and win. object_store reads neither file itself. Only static keys (and a
/// session token) are taken: `credential_process` and SSO profiles are not run.
fn aws_profile() -> Vec<(String, String)> {
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        return Vec::new();
    }
    let Some(home) = std::env::var_os("HOME") else {
        return Vec::new();
    };
    let home = Path::new(&home);
    let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
    let credentials = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
        .map_or_else(|| home.join(".aws/credentials"), Into::into);
    let config =
        std::env::var_os("AWS_CONFIG_FILE").map_or_else(|| home.join(".aws/config"), Into::into);
    let mut out = Vec::new();
    let wanted = [
        ("aws_access_key_id", "aws_access_key_id"),
        ("aws_secret_access_key", "aws_secret_access_key"),
        ("aws_session_token", "aws_session_token"),
    ];
    if let Ok(text) = std::fs::read_to_string(&credentials) {
        let section = ini_section(&text, &profile);
        for (from, to) in wanted {
            if let Some(v) = section.get(from) {
                out.push((to.to_string(), v.clone()));
            }
        }
    }
    if let Ok(text) = std::fs::read_to_string(&config) {
        // The config file names its sections `[profile NAME]`, except `[default]`.
        let name = if profile == "default" {
            profile.clone()
        } else {
            format!("profile {profile}")
        };
        let section = ini_section(&text, &name);
        if std::env::var_os("AWS_REGION").is_none()
            && let Some(region) = section.get("region")
        {
            out.push(("aws_region".into(), region.clone()));
        }
        if std::env::var_os("AWS_ENDPOINT_URL").is_none()
            && let Some(endpoint) = section.get("endpoint_url")
        {
            out.push(("aws_endpoint".into(), endpoint.clone()));
        }
    }
    out
}

/// The `key = value` lines of one `[name]` section of an INI file.
fn ini_section(text: &str, name: &str) -> HashMap<String, String> {
    let mut inside = false;
    let mut out = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = header.trim() == name;
            continue;
        }
        if inside && let Some((k, v)) = line.split_once('=') {
            out.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    out
}

/// An object-store error as a user reads it: its kind, never a request's headers.
pub fn message(e: &object_store::Error) -> String {
    use object_store::Error as E;
    match e {
        E::NotFound { .. } => "no such file or object".into(),
        E::PermissionDenied { .. } => "access denied (HTTP 403): the credentials in use may not read this".into(),
        E::Unauthenticated { .. } => {
            "not authenticated: no valid credentials were found (set the provider's variables, e.g. AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)".into()
        }
        E::UnknownConfigurationKey { key, .. } => format!("unknown storage option `{key}`"),
        other => short(&other.to_string()),
    }
}

/// An object-store error's text as one short line: its kind, the HTTP status and the
/// service's error code where there is one, the endpoint without credentials or query.
/// The raw text holds a request line, the retry settings and the response body.
pub(crate) fn short(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // The service's own code, from its XML or JSON answer: <Code>NoSuchBucket</Code>.
    let code = flat
        .split_once("<Code>")
        .and_then(|(_, r)| r.split_once("</Code>"))
        .map(|(c, _)| c.to_string());
    let status = flat.split_once("status code: ").and_then(|(_, r)| {
        let digits: String = r.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u16>().ok()
    });
    let endpoint = flat
        .split(' ')
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
        .and_then(|w| Url::parse(w).ok())
        .map(|u| u[..url::Position::BeforePath].to_string());
    let metadata = endpoint
        .as_deref()
        .is_some_and(|e| e.contains("169.254.169.254") || e.contains("metadata.google.internal"))
        || flat.contains("token request");
    if metadata {
        return "no credentials found: none in the environment or the shared files, and the                 cloud's instance metadata service did not give any (set the provider's                 variables, e.g. AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE,                 GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_ACCOUNT_KEY)"
            .into();
    }
    let coded = |what: &str| match &code {
        Some(c) => format!("{what} ({c})"),
        None => what.to_string(),
    };
    match (status, code.as_deref()) {
        (_, Some("NoSuchBucket" | "ContainerNotFound")) => return "no such bucket".into(),
        (Some(404), _) => return coded("not found (HTTP 404)"),
        (Some(403), _) => {
            return coded("access denied (HTTP 403): the credentials in use may not read this");
        }
        (Some(401), _) => return coded("not authenticated (HTTP 401): check the credentials"),
        (Some(s), _) => return coded(&format!("the storage service answered HTTP {s}")),
        (None, _) => {}
    }
    let unreachable = [
        "error sending request",
        "Connection refused",
        "dns error",
        "timed out",
        "connect",
    ]
    .iter()
    .any(|w| flat.contains(w));
    if unreachable {
        return match endpoint {
            Some(e) => format!("cannot reach the storage endpoint {e}"),
            None => "cannot reach the storage endpoint".into(),
        };
    }
    // Configuration errors ("Account must be specified") are short and safe; cut the
    // rest at its first sentence and leave out anything that looks like a URL.
    let out = redact_text(flat.split(" - ").next().unwrap_or_default());
    out.strip_prefix("Generic ")
        .and_then(|r| r.split_once(" error: "))
        .map_or(out.clone(), |(store, rest)| format!("{store}: {rest}"))
}

/// What one remote path lists as.
pub struct Listed {
    /// URLs and sizes, sorted.
    pub files: Vec<(String, u64)>,
    pub is_dir: bool,
}

/// Resolve a remote path as the local ones are: a glob lists its matches, an object is one
/// file, a prefix (a "directory", or any URL ending in `/`) lists the data files below it,
/// leaving out hidden and `_`-prefixed names (`_SUCCESS`).
pub async fn list(s: &str) -> Result<Listed> {
    let fail = |e: &object_store::Error| Error::input(s, message(e));
    let loc = locate(s)?;
    // Keys keep pattern characters percent-encoded: match on the decoded text.
    let decoded = |k: &str| percent_decode_str(k).decode_utf8_lossy().into_owned();
    let path_part = Url::parse(s)
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    let pattern = if path_part.contains(['*', '[']) {
        Some(
            glob::Pattern::new(&decoded(loc.key.as_ref()))
                .map_err(|e| Error::input(s, format!("bad glob pattern: {e}")))?,
        )
    } else {
        None
    };
    if pattern.is_none() && !s.ends_with('/') {
        match loc.store.head(&loc.key).await {
            Ok(meta) => {
                return Ok(Listed {
                    files: vec![(s.to_string(), meta.size)],
                    is_dir: false,
                });
            }
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(fail(&e)),
        }
    }
    // A glob lists below its deepest directory without a pattern character and keeps its
    // matches; a prefix lists everything below it but bookkeeping files.
    let prefix = match &pattern {
        Some(_) => Key::from_iter(
            loc.key
                .parts()
                .take_while(|p| !decoded(p.as_ref()).contains(['*', '?', '['])),
        ),
        None => loc.key.clone(),
    };
    let depth = prefix.parts().count();
    let options = glob::MatchOptions {
        require_literal_separator: true,
        ..glob::MatchOptions::default()
    };
    let keep = |k: &Key| match &pattern {
        Some(g) => g.matches_with(&decoded(k.as_ref()), options),
        None => !k
            .parts()
            .skip(depth)
            .any(|p| p.as_ref().starts_with(['.', '_'])),
    };
    let mut files = Vec::new();
    let mut stream = loc.store.list(Some(&prefix));
    while let Some(meta) = stream.next().await {
        let meta = meta.map_err(|e| fail(&e))?;
        if keep(&meta.location) {
            files.push((loc.url_of(&meta.location), meta.size));
        }
    }
    files.sort();
    if files.is_empty() {
        let why = if pattern.is_some() {
            "no files match this pattern"
        } else {
            "no such file or object, and no data files below it"
        };
        return Err(Error::input(s, why));
    }
    Ok(Listed {
        is_dir: pattern.is_none(),
        files,
    })
}

/// A runtime of its own for the synchronous readers: they block their thread while it
/// fetches, and a thread of the caller's runtime blocked on a fetch of that same runtime
/// could wait for itself.
fn io_runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RT: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("preflight-io")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| Error::Engine(format!("cannot start the I/O runtime: {e}")))
}

/// Run `fut` on the I/O runtime and wait for it, from synchronous code (in or out of an
/// asynchronous context).
pub fn block_on<T: Send + 'static>(
    fut: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    io_runtime()?.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv()
        .map_err(|_| Error::Engine("the I/O runtime stopped".into()))
}

/// A remote object's bytes as a [`Read`]: one streamed GET, consumed as it arrives (at most
/// a few chunks are held), cancelled when the reader is dropped.
pub fn open(s: &str) -> Result<Box<dyn Read + Send>> {
    let loc = locate(s)?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<std::result::Result<Bytes, String>>(4);
    io_runtime()?.spawn(async move {
        let result = match loc.store.get(&loc.key).await {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Err(message(&e)));
                return;
            }
        };
        let mut stream = result.into_stream();
        while let Some(chunk) = stream.next().await {
            let failed = chunk.is_err();
            if tx.send(chunk.map_err(|e| message(&e))).is_err() || failed {
                return;
            }
        }
    });
    Ok(Box::new(StreamReader {
        rx,
        chunk: Bytes::new(),
    }))
}

/// A file's bytes as a [`Read`]: a local file, or a remote object through [`open`].
pub fn open_path(path: &Path) -> Result<Box<dyn Read + Send>> {
    match path.to_str() {
        Some(url) if is_remote(url) => open(url),
        _ => Ok(Box::new(
            std::fs::File::open(path).map_err(|e| Error::input(path, e.to_string()))?,
        )),
    }
}

struct StreamReader {
    rx: std::sync::mpsc::Receiver<std::result::Result<Bytes, String>>,
    chunk: Bytes,
}

impl Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.rx.recv() {
                Ok(Ok(c)) => self.chunk = c,
                // The caller names the object.
                Ok(Err(m)) => return Err(std::io::Error::other(m)),
                // The sender is done: end of the object.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        let _ = self.chunk.split_to(n);
        Ok(n)
    }
}

/// A remote object's size, and its first `head` and last `tail` bytes (fewer when it is
/// shorter), in two ranged reads.
pub async fn ends(s: &str, size: u64, head: u64, tail: u64) -> Result<(Bytes, Bytes)> {
    let loc = locate(s)?;
    let fail = |e: object_store::Error| Error::input(s, message(&e));
    let first = loc
        .store
        .get_range(&loc.key, 0..head.min(size))
        .await
        .map_err(fail)?;
    let last = loc
        .store
        .get_range(&loc.key, size.saturating_sub(tail)..size)
        .await
        .map_err(fail)?;
    Ok((first, last))
}

/// The bytes `range` of a remote object (the Parquet metadata, before its 8-byte tail).
pub async fn range(s: &str, range: std::ops::Range<u64>) -> Result<Bytes> {
    let loc = locate(s)?;
    loc.store
        .get_range(&loc.key, range)
        .await
        .map_err(|e| Error::input(s, message(&e)))
}

/// The URLs of every object under the prefix `s` (a "directory"), sorted, from
/// synchronous code; none for a prefix nothing is under (unlike [`list`], which calls
/// that an error: an input must exist, a metrics history may not yet).
pub fn list_under(s: &str) -> Result<Vec<String>> {
    let loc = locate(s)?;
    let name = s.to_string();
    block_on(async move {
        let mut urls = Vec::new();
        let mut stream = loc.store.list(Some(&loc.key));
        while let Some(meta) = stream.next().await {
            let meta = meta.map_err(|e| Error::input(&name, message(&e)))?;
            urls.push(loc.url_of(&meta.location));
        }
        urls.sort();
        Ok(urls)
    })?
}

/// A whole remote object, from synchronous code (stored profiles, schemas).
pub fn read(s: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    open(s)?
        .read_to_end(&mut out)
        .map_err(|e| Error::input(s, e.to_string()))?;
    Ok(out)
}

/// Write a remote object in one PUT, from synchronous code: it appears whole or not at
/// all.
pub fn write(s: &str, bytes: Vec<u8>) -> Result<()> {
    let loc = locate(s)?;
    block_on(async move { loc.store.put(&loc.key, bytes.into()).await })?
        .map(|_| ())
        .map_err(|e| Error::input(s, message(&e)))
}

/// DataFusion's store registry with the remote stores of [`locate`] added on first use: a
/// session built on it reads any URL preflight reads.
#[derive(Debug, Default)]
pub struct StoreRegistry {
    inner: DefaultObjectStoreRegistry,
}

impl ObjectStoreRegistry for StoreRegistry {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.inner.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        self.inner.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        match self.inner.get_store(url) {
            Ok(s) => return Ok(s),
            Err(e) if !is_remote(url.as_str()) => return Err(e),
            Err(_) => {}
        }
        let loc = locate(url.as_str())
            .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
        self.inner.register_store(url, loc.store.clone());
        Ok(loc.store)
    }
}

/// A runtime environment whose sessions read remote URLs.
pub fn runtime_env() -> datafusion::execution::runtime_env::RuntimeEnvBuilder {
    datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
        .with_object_store_registry(Arc::new(StoreRegistry::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_recognised_and_redacted() {
        assert!(is_remote("s3://bucket/key.csv"));
        assert!(is_remote("HTTPS://host/x"));
        assert!(!is_remote("data/x.csv"));
        assert!(!is_remote("file:///tmp/x"));
        assert!(!is_remote("s3://"));
        assert_eq!(
            redact("https://user:secret@host:8080/a/b.csv?sig=abc&x=1"),
            "https://host:8080/a/b.csv?..."
        );
        assert_eq!(redact("s3://bucket/k.parquet"), "s3://bucket/k.parquet");
        assert_eq!(redact("data/x.csv"), "data/x.csv");
        assert_eq!(
            redact_text("schema https://u:pw@h/s.yaml: line 3 (see `http://h/a?sig=1`)."),
            "schema https://h/s.yaml: line 3 (see `http://h/a?...`)."
        );
        assert_eq!(redact_text("no URL here: a.csv"), "no URL here: a.csv");
        let m = short("Generic S3 error: request to https://u:p@h/x?sig=1 failed");
        assert!(!m.contains("sig=1") && !m.contains("u:p"), "{m}");
        // Texts object_store gives (moto, a closed port, the sandbox's metadata proxy).
        assert_eq!(
            short(
                "Generic S3 error: Error performing list request: Error performing GET http://127.0.0.1:5055/nobucket?list-type=2 in 3ms - Server returned non-2xx status code: 404 Not Found: <?xml version=\"1.0\"?>\n<Error><Code>NoSuchBucket</Code></Error>"
            ),
            "no such bucket"
        );
        assert_eq!(
            short(
                "Generic S3 error: Error performing HEAD http://127.0.0.1:5999/data/f.parquet in 824ms, after 4 retries, max_retries: 4, retry_timeout: 15s - HTTP error: error sending request"
            ),
            "cannot reach the storage endpoint http://127.0.0.1:5999"
        );
        assert!(short("Generic S3 error: Error performing PUT http://169.254.169.254/latest/api/token in 1ms - Server returned non-2xx status code: 403 Forbidden").starts_with("no credentials found"));
        assert_eq!(
            short(
                "Generic S3 error: Error performing GET http://h/b/k in 1ms - Server returned non-2xx status code: 403 Forbidden: <Error><Code>AccessDenied</Code></Error>"
            ),
            "access denied (HTTP 403): the credentials in use may not read this (AccessDenied)"
        );
        assert_eq!(
            short("Generic MicrosoftAzure error: Account must be specified"),
            "MicrosoftAzure: Account must be specified"
        );
    }

    #[test]
    fn aws_ini_sections() {
        let text = "[default]\naws_access_key_id = A\n# c\n[profile dev]\nregion=eu-west-1\n";
        assert_eq!(
            ini_section(text, "default")
                .get("aws_access_key_id")
                .map(String::as_str),
            Some("A")
        );
        assert_eq!(
            ini_section(text, "profile dev")
                .get("region")
                .map(String::as_str),
            Some("eu-west-1")
        );
        assert!(ini_section(text, "other").is_empty());
    }
}
