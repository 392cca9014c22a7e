//! A value someone typed that is wrong, with the field it was typed in, so
//! a form can say what is wrong beside that field. Doors without fields
//! (the CLI, the API) read it as plain bad input.

use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The form field's name (`url`, `quiet_hours`, `from`).
    pub field: &'static str,
    /// In plain words, for the person who typed it.
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Invalid {
        Invalid {
            field,
            message: message.into(),
        }
    }

    /// Tags an error message with the field it belongs to.
    pub fn at(field: &'static str) -> impl Fn(String) -> Invalid {
        move |message| Invalid { field, message }
    }
}

impl From<Invalid> for Error {
    fn from(i: Invalid) -> Error {
        Error::BadInput(i.message)
    }
}

/// What a form's service call answers: outer errors are the system's or the
/// caller's rights, the inner one is what was typed.
pub type Checked<T> = std::result::Result<T, Invalid>;

/// Which of `fields` an error message names (`status: …`, `unknown status
/// …`), and the message as a sentence (first letter upper-case, a full stop
/// at the end). No field named: `""`.
pub fn field_error(message: &str, fields: &[&'static str]) -> (&'static str, String) {
    let lower = message.to_lowercase();
    let starts = [
        "{f}:",
        "{f} must",
        "{f} as a",
        "{f} is",
        "unknown {f}",
        "choose a {f}",
    ];
    let field = fields
        .iter()
        .find(|f| {
            starts
                .iter()
                .any(|s| lower.starts_with(&s.replace("{f}", f)))
        })
        .copied()
        .unwrap_or("");
    let mut chars = message.trim().chars();
    let mut sentence: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => return (field, String::new()),
    };
    if !sentence.ends_with(['.', '!', '?']) {
        sentence.push('.');
    }
    (field, sentence)
}

/// [`field_error`] over `(name, label)` pairs: the sentence names the field
/// by its label ("Max concurrency must be …"), never its internal name.
pub fn labelled_error(
    message: &str,
    labels: &[(&'static str, &'static str)],
) -> (&'static str, String) {
    let names: Vec<&'static str> = labels.iter().map(|(n, _)| *n).collect();
    let (field, sentence) = field_error(message, &names);
    match labels.iter().find(|(n, _)| *n == field) {
        Some((name, label)) if sentence.to_lowercase().starts_with(name) => {
            (field, format!("{label}{}", &sentence[name.len()..]))
        }
        _ => (field, sentence),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_put_beside_the_field_it_names() {
        let fields = ["status", "tenant"];
        assert_eq!(
            field_error("unknown status \"x\" (queued)", &fields),
            ("status", "Unknown status \"x\" (queued).".to_owned())
        );
        assert_eq!(
            field_error("tenant: must not be empty", &fields).0,
            "tenant"
        );
        assert_eq!(field_error("database is down", &fields).0, "");
    }
}
