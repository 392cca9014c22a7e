//! The web door's kit: what every feature shares and none owns — state and
//! settings, the guard and route access, who is asking, sessions and CSRF,
//! sign-in form tokens, strict forms, what handlers extract from a request,
//! the security middleware, page chrome, errors, the pager, the flash, the
//! confirmation page and the view helpers. The kit knows no feature.

pub mod confirm;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod error_page;
pub mod flash;
pub mod format;
pub mod forms;
pub mod guard;
pub mod identity;
pub mod page;
pub mod pager;
pub mod request;
pub mod security;
pub mod state;
pub mod views;

pub use crate::domain::field::{field_error, labelled_error};
pub use confirm::Confirm;
pub use error::{Format, WebError};
pub use flash::Flash;
pub use forms::{PageQuery, Query, SignedForm, Text, TokenOnly, opt};
pub use guard::{Access, RouteInfo};
pub use identity::{AlreadySignedIn, ClientIp};
pub use page::{Chrome, page, page_with, with_retry_after};
pub use pager::Pager;
pub use request::{
    Ctx, DeliveryId, DestinationId, Input, JsonBody, Key, NotificationId, RuleId, RunId,
};
pub use state::{ADMIN_COOKIE, MAX_BODY_BYTES, SYSTEM_COOKIE, WebConfig, WebState};
