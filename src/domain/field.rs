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
