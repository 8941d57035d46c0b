//! What the stand-in does with a request, as SLS would: a proxy's reply if one is queued, else project, signature (v1 here, v4 in v4.rs), body digest, date, then injected faults (faults.rs), scripted replies, and the API the path names: ListLogStores or ListShipper (catalog.rs), GetShipperStatus (listing.rs) or RetryShipperTask of one shipper; `/latest/` goes to the ECS metadata routes, `/` to STS (sts.rs), `/credentials-uri` to the credentials URI (uri.rs).
// The v1 check is written here from the service's documentation, apart from src/sign, so it is an
// independent witness; standin_selftest::official_sdk_vectors_verify (tests/it) ties it to the
// official SDK's own signatures.

use std::sync::atomic::{AtomicI64, AtomicU32, Ordering::SeqCst};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use percent_encoding::percent_decode_str;

use super::faults::Draw;
use super::http::{Request, Response, Wire};
use super::{DEMO_KEY_ID, DEMO_KEY_SECRET, DEMO_PROJECT, DEMO_REGION};
use super::{
    Recorded, Reply, Shared, accounts, catalog, lifecycle, listing, metadata, sts, uri, v4,
};

/// How far the request's Date may be from the server clock before SLS refuses it.
const DATE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Task ids per RetryShipperTask call, at the most.
const MAX_IDS: usize = 10;

/// The projects, logstores, shippers and accounts that exist, the region, the ECS instance, and the server clock.
#[derive(Default)]
pub(super) struct World {
    pub projects: Vec<String>,
    /// Every project has these logstores and shippers.
    pub catalog: catalog::Catalog,
    /// (AccessKeyId, AccessKeySecret, STS token)
    pub accounts: Vec<(String, String, Option<String>)>,
    pub region: String,
    pub ecs_role: Option<metadata::EcsRole>,
    /// The ECS role issues new credentials lasting this long at each request.
    pub ecs_role_lifetime: Option<Duration>,
    pub ecs_require_token: bool,
    /// The RAM roles STS knows, and (role ARN, principal) pairs: who may assume which.
    pub roles: Vec<sts::Role>,
    pub trusts: Vec<(String, String)>,
    /// The credentials URI serves credentials lasting this long.
    pub credentials_uri: Option<Duration>,
    /// Moves at run time with `StandIn::advance_clock`.
    pub clock_skew_secs: AtomicI64,
    /// What a request time out of the window is refused with; empty is `RequestTimeExpired`.
    pub request_time_code: String,
    /// The longest GetShipperStatus page; `None` is `listing::MAX_SIZE`.
    pub max_page: Option<usize>,
    /// The longest ListLogStores or ListShipper page; `None` is `listing::MAX_SIZE`.
    pub max_name_page: Option<usize>,
    /// How many tasks appear once the first GetShipperStatus page has been served.
    pub late_tasks: usize,
    /// GetShipperStatus claims this `total`, whatever it holds.
    pub claimed_total: Option<usize>,
    /// GetShipperStatus serves the first page whatever `offset` asks.
    pub repeat_first_page: bool,
    /// What becomes of retried tasks.
    pub lifecycle: lifecycle::Lifecycle,
}

impl World {
    /// The demo project, account, region and refusal code where none was given (the catalog
    /// fills its own, `Catalog::resolve`).
    pub fn fill_defaults(&mut self) {
        if self.projects.is_empty() {
            self.projects.push(DEMO_PROJECT.into());
        }
        if self.accounts.is_empty() {
            let demo = (DEMO_KEY_ID.into(), DEMO_KEY_SECRET.into(), None);
            self.accounts.push(demo);
        }
        if self.region.is_empty() {
            self.region = DEMO_REGION.into();
        }
        if self.request_time_code.is_empty() {
            self.request_time_code = "RequestTimeExpired".into();
        }
    }

    pub fn now(&self) -> SystemTime {
        let skew_secs = self.clock_skew_secs.load(SeqCst);
        let skew = Duration::from_secs(skew_secs.unsigned_abs());
        let now = SystemTime::now();
        if skew_secs >= 0 {
            now + skew
        } else {
            now - skew
        }
    }
}

/// Which service a request is for, by its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Service {
    Sls,
    Metadata,
    Sts,
    CredentialsUri,
}

impl Service {
    pub fn of(path: &str) -> Service {
        match path {
            sts::PATH => Service::Sts,
            uri::PATH => Service::CredentialsUri,
            _ if path.starts_with(metadata::PREFIX) => Service::Metadata,
            _ => Service::Sls,
        }
    }
}

/// Answers one request and records it, before the answer goes out: a client holding the answer sees the record.
/// Faults, delays and proxy replies are SLS's alone.
pub(super) fn handle(shared: &Shared, request: &Request) -> Response {
    let now = shared.world.now();
    let service = Service::of(&request.path);
    let (outcome, delay) = match service {
        Service::Metadata => {
            let reply = metadata::answer(shared, request, now);
            (Outcome::plain(reply, None), Duration::ZERO)
        }
        Service::Sts | Service::CredentialsUri => (
            credential_route(shared, request, now, service),
            Duration::ZERO,
        ),
        Service::Sls => {
            let draw = shared.faults.draw();
            let delay = shared.faults.delay(&draw);
            (dispatch(shared, request, now, &draw), delay)
        }
    };
    let Outcome {
        reply,
        accepted,
        mut fault,
    } = outcome;
    if !delay.is_zero() && reply.wire != Wire::Hang {
        let delayed = format!("delayed {delay:?}");
        fault = Some(fault.map_or(delayed.clone(), |f| format!("{f}, {delayed}")));
    }
    let request_id = match service {
        _ if reply.with_request_id => new_request_id(now),
        Service::Sts => sts::request_id(&reply).unwrap_or_default(),
        _ => String::new(),
    };
    let recorded = Recorded {
        method: request.method.clone(),
        path: request.path.clone(),
        query: request.query.clone(),
        headers: request.headers.clone(),
        body: request.body.clone(),
        status: reply.status,
        error_code: reply.error_code.clone(),
        request_id: request_id.clone(),
        accepted_ids: (accepted.as_ref()).map_or_else(Vec::new, |a| a.ids.clone()),
        signature_version: signature_version(request),
        fault,
        received: request.received,
        tls: request.tls,
    };
    {
        let mut log = shared.log();
        if let Some(Accepted { history, ids }) = accepted {
            let lifecycle = &shared.world.lifecycle;
            lifecycle.retried(&mut log.histories[history], &ids, now);
            log.accepted.push(ids);
        }
        log.requests.push(recorded.clone());
    }
    if let Some(hook) = &shared.on_request {
        hook(&recorded);
    }
    Response {
        delay,
        ..render(&reply, now, &request_id)
    }
}

/// STS or the credentials URI: a scripted reply if one is queued, else the answer.
fn credential_route(
    shared: &Shared,
    request: &Request,
    now: SystemTime,
    service: Service,
) -> Outcome {
    let scripted = {
        let mut log = shared.log();
        match service {
            Service::Sts => log.sts_replies.pop_front(),
            _ => log.uri_replies.pop_front(),
        }
    };
    if let Some(reply) = scripted {
        return Outcome::instead(reply, "scripted");
    }
    let reply = match service {
        Service::Sts => sts::answer(shared, request, now),
        _ => uri::answer(shared, request, now),
    };
    Outcome::plain(reply, None)
}

/// The answer to something that is not HTTP we serve; it is not recorded.
pub(super) fn reject_malformed(shared: &Shared, reply: &Reply) -> Response {
    let now = shared.world.now();
    render(reply, now, &new_request_id(now))
}

/// How an SLS request ended.
struct Outcome {
    reply: Reply,
    accepted: Option<Accepted>,
    /// `Recorded::fault`, when an injected fault or a scripted reply gave the answer.
    fault: Option<String>,
}

/// The task ids of a successful RetryShipperTask, and the history of the shipper it named.
struct Accepted {
    history: usize,
    ids: Vec<String>,
}

impl Outcome {
    fn plain(reply: Reply, accepted: Option<Accepted>) -> Outcome {
        Outcome {
            reply,
            accepted,
            fault: None,
        }
    }

    /// `by` is `injected`, `scripted` or `proxied`.
    fn instead(reply: Reply, by: &str) -> Outcome {
        Outcome {
            fault: Some(format!("{by} {}", reply.summary())),
            reply,
            accepted: None,
        }
    }
}

/// A proxy's reply, or the checks, then an injected fault, a scripted reply, or the real answer.
fn dispatch(shared: &Shared, request: &Request, now: SystemTime, draw: &Draw) -> Outcome {
    let proxied = shared.log().proxy_replies.pop_front();
    if let Some(reply) = proxied {
        return Outcome::instead(reply, "proxied");
    }
    let (project, call) = match route(shared, request, now) {
        Ok(routed) => routed,
        Err(reply) => return Outcome::plain(reply, None),
    };
    if let Some(reply) = shared.faults.injected(draw, project) {
        return Outcome::instead(reply, "injected");
    }
    let scripted = shared.log().replies.pop_front();
    if let Some(reply) = scripted {
        return Outcome::instead(reply, "scripted");
    }
    match processed(shared, request, now, project, call) {
        Ok((reply, accepted)) => Outcome::plain(reply, accepted),
        Err(reply) => Outcome::plain(reply, None),
    }
}

/// The project and API call of a request that passed the project, signature, body and Date
/// checks and names an API the stand-in serves.
fn route<'r>(
    shared: &Shared,
    request: &'r Request,
    now: SystemTime,
) -> Result<(&'r str, Call<'r>), Reply> {
    let world = &shared.world;
    let project = check_project(world, request)?;
    let version = authenticate(shared, request, now)?;
    check_body(request, version)?;
    check_date(world, request, version, now)?;
    let (method, path) = (request.method.as_str(), &request.path);
    let Some(call) = call(method, path) else {
        // SLS documents no code for an unknown API; this one is our choice.
        return fail(404, "NotFound", format!("No API at {method} {path}."));
    };
    Ok((project, call))
}

/// What SLS does with an authenticated request: the name listings, or the shipper's tasks once
/// its logstore and the shipper are known to exist.
fn processed(
    shared: &Shared,
    request: &Request,
    now: SystemTime,
    project: &str,
    call: Call,
) -> Result<(Reply, Option<Accepted>), Reply> {
    let (logstore, shipper) = (call.logstore.unwrap_or(""), call.shipper.unwrap_or(""));
    let found = match call.api {
        Api::ListLogStores => return Ok((catalog::list_logstores(shared, request), None)),
        Api::ListShipper => {
            let reply = catalog::list_shippers(shared, request, logstore, project);
            return Ok((reply, None));
        }
        Api::GetShipperStatus | Api::RetryShipperTask => catalog::find(shared, logstore, shipper)?,
    };
    if call.api == Api::RetryShipperTask {
        let ids = task_ids(&request.body)?;
        let history = found.history;
        return Ok((Reply::ok(), Some(Accepted { history, ids })));
    }
    if let Some((status, code)) = &found.listing_fails {
        return Err(shared.faults.error(*status, code, project));
    }
    let reply = listing::answer(shared, request, now, found.history);
    if found.deleted_after_listing && reply.status == 200 {
        let deleted = (logstore.to_string(), shipper.to_string());
        shared.log().deleted.insert(deleted);
    }
    Ok((reply, None))
}

fn fail<T>(status: u16, code: &str, message: impl AsRef<str>) -> Result<T, Reply> {
    Err(Reply::error(status, code, message.as_ref()))
}

/// The project is the Host's first label: `Host: {project}.{endpoint}`.
fn check_project<'r>(world: &World, request: &'r Request) -> Result<&'r str, Reply> {
    let Some(host) = request.header("host") else {
        return fail(400, "MissingHost", "Host does not exist in http header.");
    };
    let name = host.rsplit_once(':').map_or(host, |(name, _port)| name);
    let project = name.split_once('.').map(|(project, _)| project);
    match project {
        Some(p) if world.projects.iter().any(|known| known == p) => Ok(p),
        _ => {
            let message = format!("Project {} does not exist.", project.unwrap_or(name));
            fail(404, "ProjectNotExist", message)
        }
    }
}

/// 1 for `Authorization: LOG ...`, 4 for `SLS4-HMAC-SHA256 ...`, else 0.
pub(super) fn signature_version(request: &Request) -> u8 {
    match request.header("authorization") {
        Some(value) if value.starts_with("LOG ") => 1,
        Some(value) if value.starts_with(v4::SCHEME) => 4,
        _ => 0,
    }
}

/// The signature version the request verified with.
fn authenticate(shared: &Shared, request: &Request, now: SystemTime) -> Result<u8, Reply> {
    let version = signature_version(request);
    if version == 0 {
        let message = "Authorization is neither 'LOG AccessKeyId:Signature' nor 'SLS4-HMAC-SHA256 Credential=...,Signature=...'.";
        return fail(401, "Unauthorized", message);
    }
    let fixed = [
        ("x-log-apiversion", "0.6.0", "APIVersion"),
        ("x-log-signaturemethod", "hmac-sha1", "SignatureMethod"),
    ];
    // v4 requests carry no x-log-signaturemethod (the official SDKs send none).
    let v1_only = |name: &str| name == "x-log-signaturemethod";
    for (name, wanted, code) in fixed.into_iter().filter(|f| version == 1 || !v1_only(f.0)) {
        let (code, message) = match request.header(name) {
            Some(value) if value == wanted => continue,
            None => (
                format!("Missing{code}"),
                format!("{name} does not exist in http header."),
            ),
            Some(value) => (
                format!("Invalid{code}"),
                format!("{name} {value} is unsupported."),
            ),
        };
        return fail(400, &code, message);
    }
    let authorization = request.header("authorization").unwrap_or("");
    if version == 4 {
        authenticate_v4(shared, request, authorization, now)?;
        return Ok(4);
    }
    let parts = authorization
        .strip_prefix("LOG ")
        .and_then(|v| v.split_once(':'));
    let Some((key_id, signature)) = parts else {
        let message = "Authorization is not 'LOG AccessKeyId:Signature'.";
        return fail(401, "Unauthorized", message);
    };
    let secret = secret_of(shared, request, key_id, now)?;
    if signature != sign(&secret, &string_to_sign(request)) {
        let message = format!("Signature {signature} is not matched.");
        return fail(401, "SignatureNotMatch", message);
    }
    Ok(1)
}

fn authenticate_v4(
    shared: &Shared,
    request: &Request,
    authorization: &str,
    now: SystemTime,
) -> Result<(), Reply> {
    let world = &shared.world;
    let Some(credential) = v4::parse_authorization(authorization) else {
        let message = "Authorization is not 'SLS4-HMAC-SHA256 Credential=AccessKeyId/yyyymmdd/region/sls/aliyun_v4_request,Signature=hex'.";
        return fail(401, "Unauthorized", message);
    };
    let secret = secret_of(shared, request, credential.key_id, now)?;
    let Some(time) = request.header("x-log-date") else {
        return fail(
            400,
            "MissingDate",
            "x-log-date does not exist in http header.",
        );
    };
    let Some(content_sha256) = request.header("x-log-content-sha256") else {
        let message = "x-log-content-sha256 does not exist in http header.";
        return fail(400, "MissingContentSha256", message);
    };
    // Like SigV4's "Credential should be scoped to a valid region": a signature for another scope.
    if credential.region != world.region {
        let message = format!(
            "Credential scope region {} is not this endpoint's region {}.",
            credential.region, world.region
        );
        return fail(401, "SignatureNotMatch", message);
    }
    if !time.starts_with(credential.date) {
        let message = format!(
            "Credential scope date {} is not the date of x-log-date {time}.",
            credential.date
        );
        return fail(401, "SignatureNotMatch", message);
    }
    let query = query_pairs(&request.query);
    let (method, path, headers) = (&request.method, &request.path, &request.headers);
    let canonical = v4::canonical_request(method, path, &query, headers, content_sha256);
    let string_to_sign = v4::string_to_sign(time, credential.date, &world.region, &canonical);
    if credential.signature
        != v4::signature(&secret, credential.date, &world.region, &string_to_sign)
    {
        let message = format!("Signature {} is not matched.", credential.signature);
        return fail(401, "SignatureNotMatch", message);
    }
    Ok(())
}

/// The secret of `key_id`, once the request carries the account's STS token (if it has one),
/// and that token has not expired.
fn secret_of(
    shared: &Shared,
    request: &Request,
    key_id: &str,
    now: SystemTime,
) -> Result<String, Reply> {
    let Some(account) = accounts::find(shared, key_id) else {
        return fail(
            401,
            "Unauthorized",
            format!("AccessKeyId not found: {key_id}"),
        );
    };
    let sent_token = request.header("x-acs-security-token");
    if (account.token.as_deref()).is_some_and(|token| sent_token != Some(token)) {
        let message = "The security token you provided is invalid.";
        return fail(401, "Unauthorized", message);
    }
    if account.expires.is_some_and(|expires| expires <= now) {
        let message = "The security token you provided has expired.";
        return fail(401, "Unauthorized", message);
    }
    Ok(account.secret)
}

/// The body must be the one the client hashed: Content-MD5 (v1) or x-log-content-sha256 (v4) and
/// x-log-bodyrawsize are signed, the body is not.
fn check_body(request: &Request, version: u8) -> Result<(), Reply> {
    let body = &request.body;
    let raw_size = request.header("x-log-bodyrawsize").map(str::trim);
    if raw_size.is_some_and(|size| size.parse() != Ok(body.len())) {
        return fail(400, "InvalidBodyRawSize", "x-log-bodyrawsize is invalid.");
    }
    if !body.is_empty() && request.header("content-type").is_none() {
        let message = "Content-Type does not exist in http header when body is not empty.";
        return fail(400, "MissingContentType", message);
    }
    // SLS documents no code for these; named like its MissingContentType and InvalidBodyRawSize.
    let sent_sha256 = request.header("x-log-content-sha256").unwrap_or("");
    if version == 4 && sent_sha256 != v4::sha256_hex(body) {
        let message = format!("x-log-content-sha256 {sent_sha256} does not match the body.");
        return fail(400, "InvalidContentSha256", message);
    }
    // v4 hashes the body itself, so Content-MD5 is optional there (the v4 vectors send none).
    match request.header("content-md5") {
        None if body.is_empty() || version == 4 => Ok(()),
        Some(md5) if md5 == md5_hex(body) => Ok(()),
        None => {
            let message = "Content-MD5 does not exist in http header.";
            fail(400, "MissingContentMD5", message)
        }
        Some(md5) => {
            let message = format!("Content-MD5 {md5} does not match the body.");
            fail(400, "InvalidContentMD5", message)
        }
    }
}

/// v1 reads `Date` (RFC 1123), v4 `x-log-date` (`yyyymmddTHHMMSSZ`); either must be within 15
/// minutes, or the request is refused with `World::request_time_code`.
fn check_date(world: &World, request: &Request, version: u8, now: SystemTime) -> Result<(), Reply> {
    let date = if version == 4 {
        request.header("x-log-date")
    } else {
        request_date(request)
    };
    let Some(date) = date else {
        return fail(400, "MissingDate", "Date does not exist in http header.");
    };
    let (sent, server) = if version == 4 {
        (v4::parse_time(date), v4::format_time(now))
    } else {
        let sent = httpdate::parse_http_date(date).ok();
        (sent, httpdate::fmt_http_date(now))
    };
    let Some(sent) = sent else {
        let form = if version == 4 {
            "yyyymmddTHHMMSSZ"
        } else {
            "RFC822 spec"
        };
        let message = format!("Request time {date} not follow {form}.");
        return fail(400, "InvalidRequestTime", message);
    };
    let distance = now.duration_since(sent).unwrap_or_else(|e| e.duration());
    if distance > DATE_WINDOW {
        let message =
            format!("Request time {date} has been expired while server time is {server}.");
        return fail(400, &world.request_time_code, message);
    }
    Ok(())
}

/// `Date`, or `x-log-date` when a proxy dropped `Date` (the reason SDKs send it).
fn request_date(request: &Request) -> Option<&str> {
    let date = request.header("date");
    date.or_else(|| request.header("x-log-date"))
}

/// The SLS APIs the stand-in serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Api {
    /// `GET /logstores`
    ListLogStores,
    /// `GET /logstores/{logstore}/shipper`
    ListShipper,
    /// `GET /logstores/{logstore}/shipper/{shipper}/tasks`
    GetShipperStatus,
    /// `PUT /logstores/{logstore}/shipper/{shipper}/tasks`
    RetryShipperTask,
}

/// A request's API, and the logstore and shipper its path names.
pub(super) struct Call<'p> {
    pub api: Api,
    pub logstore: Option<&'p str>,
    pub shipper: Option<&'p str>,
}

/// The API `method` and `path` call, if the stand-in serves it.
pub(super) fn call<'p>(method: &str, path: &'p str) -> Option<Call<'p>> {
    let (api, logstore, shipper) = match (method, shipper_tasks(path)) {
        ("GET", Some((l, s))) => (Api::GetShipperStatus, Some(l), Some(s)),
        ("PUT", Some((l, s))) => (Api::RetryShipperTask, Some(l), Some(s)),
        (_, Some(_)) => return None,
        ("GET", None) if path == "/logstores" => (Api::ListLogStores, None, None),
        ("GET", None) => {
            let logstore = path.strip_prefix("/logstores/")?.strip_suffix("/shipper")?;
            (plain_name(logstore)).then_some((Api::ListShipper, Some(logstore), None))?
        }
        _ => return None,
    };
    Some(Call {
        api,
        logstore,
        shipper,
    })
}

/// `(logstore, shipper)` for `/logstores/{logstore}/shipper/{shipper}/tasks`.
fn shipper_tasks(path: &str) -> Option<(&str, &str)> {
    let inner = path.strip_prefix("/logstores/")?.strip_suffix("/tasks")?;
    let (logstore, shipper) = inner.split_once("/shipper/")?;
    (plain_name(logstore) && plain_name(shipper)).then_some((logstore, shipper))
}

/// One path segment.
fn plain_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('/')
}

fn task_ids(body: &[u8]) -> Result<Vec<String>, Reply> {
    let Ok(ids) = serde_json::from_slice::<Vec<String>>(body) else {
        let message = "The request body is not a JSON array of task id strings.";
        return fail(400, "PostBodyInvalid", message);
    };
    if ids.len() > MAX_IDS {
        return Err(Reply::too_many_ids());
    }
    Ok(ids)
}

/// The v1 string to sign, rebuilt from what was received.
pub(super) fn string_to_sign(request: &Request) -> String {
    let header = |name| request.header(name).unwrap_or("");
    let mut sts = format!("{}\n", request.method);
    for line in [header("content-md5"), header("content-type")] {
        sts.push_str(&format!("{line}\n"));
    }
    sts.push_str(&format!("{}\n", request_date(request).unwrap_or("")));
    let signed = |name: &str| {
        (name.starts_with("x-log-") || name.starts_with("x-acs-")) && name != "x-log-date"
    };
    let mut lines: Vec<String> = (request.headers.iter())
        .filter(|(name, _)| signed(name))
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    lines.sort();
    sts.push_str(&lines.concat());
    sts.push_str(&request.path);
    if !request.query.is_empty() {
        sts.push('?');
        sts.push_str(&canonical_query(&request.query));
    }
    sts
}

/// `k=v` pairs sorted by key, values decoded (SDKs sign them unencoded), empty values kept as `k=`.
fn canonical_query(query: &str) -> String {
    let mut pairs = query_pairs(query);
    pairs.sort();
    let pairs: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.join("&")
}

/// The query's `(key, value)` pairs as sent, decoded; a key without `=` has an empty value.
pub(super) fn query_pairs(query: &str) -> Vec<(String, String)> {
    (query.split('&'))
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .map(|(key, value)| (percent_decode(key), percent_decode(value)))
        .collect()
}

fn percent_decode(text: &str) -> String {
    // Form encoding, as Python requests and Go's url.Values write queries, makes spaces '+'
    // (a literal '+' arrives as %2B, so this runs first).
    let text = text.replace('+', " ");
    percent_decode_str(&text).decode_utf8_lossy().into_owned()
}

/// base64(HMAC-SHA1(secret, string to sign)), the part after `LOG {key id}:`.
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    let mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(secret.as_bytes());
    let mut mac = mac.expect("HMAC takes keys of any length");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Content-MD5 as SLS wants it: upper-case hex.
pub fn md5_hex(body: &[u8]) -> String {
    let digest = Md5::digest(body);
    digest.iter().map(|byte| format!("{byte:02X}")).collect()
}

/// Every answer carries `Date`, the server clock (skew included): a client measures its offset with
/// it. A scripted reply may bring its own `Date` instead, or none.
fn render(reply: &Reply, now: SystemTime, request_id: &str) -> Response {
    let mut headers = vec![("Server".into(), "sls-standin".to_string())];
    let own_date =
        (reply.headers.iter()).any(|line| line.to_ascii_lowercase().starts_with(b"date:"));
    if !own_date && !reply.without_date {
        headers.push(("Date".into(), httpdate::fmt_http_date(now)));
    }
    if let Some(content_type) = &reply.content_type {
        headers.push(("Content-Type".into(), content_type.clone()));
    }
    if !request_id.is_empty() {
        headers.push(("x-log-requestid".into(), request_id.to_string()));
    }
    Response {
        status: reply.status,
        headers,
        raw_headers: reply.headers.clone(),
        body: reply.body.clone(),
        wire: reply.wire,
        delay: Duration::ZERO,
    }
}

/// 24 upper-case hex digits like SLS's (which start with the unix time): time, process id, a counter.
fn new_request_id(now: SystemTime) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as u32;
    let (pid, n) = (std::process::id(), COUNTER.fetch_add(1, SeqCst));
    format!("{secs:08X}{pid:08X}{n:08X}")
}
