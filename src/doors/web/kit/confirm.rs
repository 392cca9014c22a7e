//! The confirmation step before an action that cannot be undone (cancel a
//! run, retry, delete): a page that works without JavaScript, whose form
//! posts the action and whose other button goes back unchanged.

use askama::Template;

use super::page::Chrome;

#[derive(Template)]
#[template(path = "shared/confirm.html")]
pub struct Confirm {
    pub chrome: Chrome,
    /// The way here, `(href, label)`; the last is where "keep" goes back to.
    pub crumbs: Vec<(String, String)>,
    pub heading: String,
    /// What is acted on, in bold.
    pub subject: String,
    pub explanation: String,
    /// The feature's own details above the form, already rendered.
    pub details: String,
    pub action: String,
    pub button: String,
    pub danger: bool,
    /// An optional reason is asked for.
    pub with_reason: bool,
    pub keep: &'static str,
}

impl Confirm {
    pub fn back(&self) -> &str {
        self.crumbs.last().map_or("/", |(href, _)| href)
    }
}
