//! Web test support: a real server on port 0 over a test app, accounts, and
//! an HTTP client that keeps cookies and never follows redirects.

use std::net::SocketAddr;

use tenantatlas::accounts::{self, NewCustomerUser, NewPlatformUser, Password};
use tenantatlas::app::App;
use tenantatlas::domain::{Capability, CapabilitySet, Email};
use tenantatlas::doors::web::{self, WebConfig};
use tokio::sync::oneshot;

pub const PASSWORD: &str = "correct horse battery staple";

/// A server of the web door, stopped on drop.
pub struct Server {
    pub base: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub async fn start(app: &App) -> Server {
    start_with(app, WebConfig::default()).await
}

pub async fn start_with(app: &App, config: WebConfig) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let router = web::router_with(app.clone(), config);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(web::serve_on(listener, router, async move {
        let _ = stopped.await;
    }));
    Server {
        base: format!("http://{addr}"),
        stop: Some(stop),
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The parsed email, display name and shared test password of a new account.
fn credentials(email: &str, role: &str) -> (Email, String, Password) {
    let parsed = Email::parse(email).unwrap();
    (
        parsed,
        format!("{role} {email}"),
        Password::parse(PASSWORD).unwrap(),
    )
}

pub async fn operator(app: &App, email: &str, caps: &[Capability]) -> i64 {
    let (email, name, password) = credentials(email, "Operator");
    let capabilities = CapabilitySet::of(caps);
    let new = NewPlatformUser {
        email,
        name,
        password,
        capabilities,
    };
    accounts::create_platform_user(&app.db, &app.clock, new)
        .await
        .expect("create operator")
}

pub async fn customer(app: &App, email: &str) -> i64 {
    let (email, name, password) = credentials(email, "Customer");
    let new = NewCustomerUser {
        email,
        name,
        password,
        workspace_slug: "default".into(),
    };
    accounts::create_customer_user(&app.db, &app.clock, new)
        .await
        .expect("create customer")
}

/// The `_token` of the first form on a page.
pub fn token_of(html: &str) -> String {
    let marker = "name=\"_token\" value=\"";
    let start = html
        .find(marker)
        .map(|i| i + marker.len())
        .expect("a _token field on the page");
    html[start..].split('"').next().unwrap().to_owned()
}

/// GETs a page and returns its CSRF token.
pub async fn token(c: &reqwest::Client, url: &str) -> String {
    let html = c.get(url).send().await.unwrap().text().await.unwrap();
    token_of(&html)
}

/// Posts the login form of a plane (`system` or `admin`).
pub async fn login_as(
    c: &reqwest::Client,
    base: &str,
    plane: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    sign_in_from(c, base, plane, None, email, password).await
}

/// Posts a sign-in with a fresh page's token, from the client address `from`
/// (as `X-Forwarded-For`, for a server that trusts loopback) when given.
pub async fn sign_in_from(
    c: &reqwest::Client,
    base: &str,
    plane: &str,
    from: Option<&str>,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let url = format!("{base}/{plane}/login");
    let t = token(c, &url).await;
    let fields = [
        ("_token", t.as_str()),
        ("email", email),
        ("password", password),
    ];
    let mut request = c.post(&url).form(&fields);
    if let Some(ip) = from {
        request = request.header("x-forwarded-for", ip);
    }
    send(request).await
}

/// Signs in and checks it worked; returns the client.
pub async fn signed_in(base: &str, plane: &str, email: &str) -> reqwest::Client {
    let c = client();
    let r = login_as(&c, base, plane, email, PASSWORD).await;
    assert_eq!(r.status(), 303, "sign-in of {email} on {plane}");
    c
}

/// A new operator with `caps`, a server, and a client signed in as them on
/// `/system`: the server (stopped on drop), its base URL and the client.
pub async fn console_as(
    app: &App,
    email: &str,
    caps: &[Capability],
) -> (Server, String, reqwest::Client) {
    operator(app, email, caps).await;
    let server = start(app).await;
    let c = signed_in(&server.base, "system", email).await;
    let base = server.base.clone();
    (server, base, c)
}

pub fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Sends a request; a transport error fails the test. An answer of
/// `/system/api/` must match the OpenAPI description ([`check_api_answer`]).
pub async fn send(request: reqwest::RequestBuilder) -> reqwest::Response {
    let (client, request) = request.build_split();
    let request = request.unwrap();
    let method = request.method().clone();
    let r = client.execute(request).await.unwrap();
    if r.url().path().starts_with("/system/api/") {
        checked_api_answer(method.as_str(), r).await
    } else {
        r
    }
}

/// Checks an answer of the API against the OpenAPI description and hands it
/// back unchanged.
async fn checked_api_answer(method: &str, r: reqwest::Response) -> reqwest::Response {
    use reqwest::ResponseBuilderExt;
    let (url, status, version, headers) = (
        r.url().clone(),
        r.status(),
        r.version(),
        r.headers().clone(),
    );
    let body = r.bytes().await.unwrap();
    if let Err(e) = check_api_answer(method, url.path(), status.as_u16(), &body) {
        panic!(
            "{method} {url} answered {status}, which the OpenAPI description does not allow: {e}"
        );
    }
    let mut rebuilt = axum::http::Response::builder()
        .status(status)
        .version(version)
        .url(url)
        .body(body)
        .unwrap();
    *rebuilt.headers_mut() = headers;
    reqwest::Response::from(rebuilt)
}

/// The operation of the OpenAPI description that answers `method` on the
/// concrete `path` (`/system/api/runs/7` matches `/system/api/runs/{id}`).
pub fn api_operation(method: &str, path: &str) -> Option<&'static serde_json::Value> {
    let doc = tenantatlas::doors::web::openapi::description();
    let segments: Vec<&str> = path.split('/').collect();
    doc["paths"]
        .as_object()?
        .iter()
        .find_map(|(template, item)| {
            let pattern: Vec<&str> = template.split('/').collect();
            let matches = pattern.len() == segments.len()
                && pattern.iter().zip(&segments).all(|(p, s)| {
                    (p.starts_with('{') && p.ends_with('}') && !s.is_empty()) || p == s
                });
            if !matches {
                return None;
            }
            item.get(method.to_ascii_lowercase())
        })
}

/// Checks an answer of `/system/api/…` against the OpenAPI description:
/// the operation must describe the status, and a JSON body must match the
/// schema described for it. Methods and paths the description has no
/// operation for (405 answers, unknown paths) are not the description's.
pub fn check_api_answer(method: &str, path: &str, status: u16, body: &[u8]) -> Result<(), String> {
    if method == "HEAD" {
        return Ok(());
    }
    let Some(operation) = api_operation(method, path) else {
        return Ok(());
    };
    let response = operation["responses"]
        .get(status.to_string())
        .ok_or_else(|| format!("status {status} is not described for {method} {path}"))?;
    let Some(schema) = response
        .pointer("/content/application~1json/schema")
        .cloned()
    else {
        return Ok(());
    };
    let instance: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "the body is not JSON ({e}): {}",
            String::from_utf8_lossy(body)
        )
    })?;
    check_against(schema, &instance)
}

/// Validates `instance` against a schema of the description, whose
/// references point into the description's components.
pub fn check_against(
    schema: serde_json::Value,
    instance: &serde_json::Value,
) -> Result<(), String> {
    let doc = tenantatlas::doors::web::openapi::description();
    let mut schema = match schema {
        serde_json::Value::Object(map) => map,
        other => return Err(format!("not a schema: {other}")),
    };
    schema.insert("components".into(), doc["components"].clone());
    let validator = jsonschema::validator_for(&serde_json::Value::Object(schema))
        .map_err(|e| format!("the description's schema does not compile: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\nbody: {instance}", errors.join("; ")))
    }
}

/// Sends a request and checks the status it answers; returns the response.
pub async fn assert_status(request: reqwest::RequestBuilder, status: u16) -> reqwest::Response {
    let r = send(request).await;
    assert_eq!(r.status(), status, "{}", r.url());
    r
}

/// GETs a page and returns its body, whatever the status.
pub async fn get_html(c: &reqwest::Client, url: impl reqwest::IntoUrl) -> String {
    send(c.get(url)).await.text().await.unwrap()
}

/// GETs a JSON document.
pub async fn get_json(c: &reqwest::Client, url: impl reqwest::IntoUrl) -> serde_json::Value {
    send(c.get(url)).await.json().await.unwrap()
}

/// Posts a form as given (add `_token` for a signed form).
pub async fn post_form(
    c: &reqwest::Client,
    url: impl reqwest::IntoUrl,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    send(c.post(url).form(fields)).await
}
