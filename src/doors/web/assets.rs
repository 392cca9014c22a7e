//! Static assets embedded in the binary: the stylesheet, htmx and the console script.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::kit::error::not_found;

const HTMX: &str = include_str!("../../../static/htmx.min.js");
const CSS: &str = include_str!("../../../static/app.css");
const CONSOLE_JS: &str = include_str!("../../../static/console.js");
const FAVICON: &str = include_str!("../../../static/favicon.svg");

pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "htmx.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        "console.js" => (CONSOLE_JS, "text/javascript; charset=utf-8"),
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "favicon.svg" => (FAVICON, "image/svg+xml"),
        _ => return not_found("/static"),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
