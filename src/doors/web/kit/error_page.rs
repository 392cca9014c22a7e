//! Error pages inside the plane's chrome: a signed-in person keeps the menu,
//! the bell and sign-out on a 403, 404 or 422, and every error page offers
//! a way back (the previous page of this site, the plane's home).

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use tower_sessions::Session;

use super::error::{Format, finish, format_of, unrendered_message};
use super::page::Chrome;
use super::state::WebState;
use crate::accounts::{CustomerIdentity, OperatorIdentity, Plane, SignedIn};

/// Where the person asking came from and who they are, read before the
/// handler takes the request.
#[derive(Debug, Clone, Default)]
pub struct Asker {
    pub session: Option<Session>,
    pub operator: Option<OperatorIdentity>,
    pub customer: Option<CustomerIdentity>,
    /// The previous page, when it is one of this site's.
    pub back: Option<String>,
    pub path: String,
}

impl Asker {
    pub fn of(request: &Request) -> Asker {
        let ext = request.extensions();
        Asker {
            session: ext.get::<Session>().cloned(),
            operator: ext.get::<OperatorIdentity>().cloned(),
            customer: ext.get::<CustomerIdentity>().cloned(),
            back: same_site_referer(request.headers(), request.uri().path()),
            path: request.uri().path().to_owned(),
        }
    }
}

/// The path and query of the `Referer`, when it names a page of this host
/// other than the one that failed.
fn same_site_referer(headers: &HeaderMap, path: &str) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let url = reqwest::Url::parse(referer).ok()?;
    let origin_host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str()?),
        None => url.host_str()?.to_owned(),
    };
    if !origin_host.eq_ignore_ascii_case(host) || url.path() == path {
        return None;
    }
    let back = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    (back.starts_with('/') && !back.starts_with("//")).then_some(back)
}

/// The menu entry a path belongs to.
fn section_of(path: &str) -> &'static str {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.get(2).copied() {
        Some("runbooks") => "runbooks",
        Some("runs") => "runs",
        Some("audit") => "audit",
        Some("alerts") => "alerts",
        Some("findings") => "findings",
        _ => "",
    }
}

#[derive(Template)]
#[template(path = "shared/error_chrome.html")]
struct ErrorInChrome<'a> {
    chrome: Chrome,
    status: u16,
    title: &'a str,
    message: &'a str,
    back: Option<String>,
}

/// The chrome of whoever asked, if they are signed in to the path's plane.
async fn chrome_of(state: &WebState, asker: &Asker) -> Option<Chrome> {
    let session = asker.session.as_ref()?;
    let section = section_of(&asker.path);
    let chrome = match (&asker.operator, &asker.customer) {
        (Some(op), _) => Chrome::operator(state, op, session, section).await,
        (None, Some(c)) => Chrome::customer(state, c, session, section).await,
        (None, None) => return None,
    };
    chrome.ok()
}

/// Gives an error response without a body its body: a page inside the
/// chrome of a signed-in asker, else the plain page or JSON of `format`.
pub async fn finish_for(
    state: &WebState,
    response: Response,
    format: Format,
    asker: &Asker,
) -> Response {
    let Some(message) = unrendered_message(&response) else {
        return response;
    };
    if format == Format::Html
        && let Some(chrome) = chrome_of(state, asker).await
    {
        let status = response.status();
        let page = ErrorInChrome {
            chrome,
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error"),
            message: &message,
            back: asker.back.clone(),
        };
        if let Ok(html) = page.render() {
            return (status, Html(html)).into_response();
        }
    }
    finish(response, format)
}

/// Every path no route answers: a signed-in operator asking for a
/// `/system` page keeps the console's chrome. Only the system plane's
/// session is read here, and only for `/system` paths, so a session of one
/// plane learns nothing about the other's paths (SR-002).
pub async fn missing(State(state): State<WebState>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let response = super::error::not_found_unrendered();
    let format = format_of(&path);
    if !(path == "/system" || path.starts_with("/system/")) || format != Format::Html {
        return finish(response, format);
    }
    let mut asker = Asker::of(&request);
    if let Some(id) = asker.session.as_ref().and_then(Session::id)
        && let Ok(Some(SignedIn::Operator(op))) =
            state.app.accounts().signed_in_to(Plane::System, &id).await
    {
        asker.operator = Some(op);
    }
    finish_for(&state, response, format, &asker).await
}
