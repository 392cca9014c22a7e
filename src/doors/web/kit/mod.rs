//! The web door's kit: what every feature shares and none owns — state and
//! settings, the guard and route access, who is asking, sessions and CSRF,
//! sign-in form tokens, strict forms, the security middleware, page chrome, errors and the view
//! helpers. The kit knows no feature.

pub mod cookies;
pub mod csrf;
pub mod error;
pub mod error_page;
pub mod format;
pub mod forms;
pub mod guard;
pub mod identity;
pub mod metrics;
pub mod numbered;
pub mod page;
pub mod security;
pub mod session;
pub mod state;
pub mod views;

pub use error::{Format, WebError};
pub use forms::{
    Query, RunsQuery, SignedForm, TokenOnly, opt, page_number, path_id, run_id, scope_request,
};
pub use guard::{Access, RouteInfo};
pub use identity::{AlreadySignedIn, ClientIp, Customer, Operator};
pub use metrics::MetricsToken;
pub use numbered::NumberedPager;
pub use page::{Chrome, page, page_with, with_retry_after};
pub use state::{ADMIN_COOKIE, MAX_BODY_BYTES, SYSTEM_COOKIE, WebConfig, WebState, parse_proxies};
pub use views::{Pager, RunView, TimeTag};
