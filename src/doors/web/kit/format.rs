//! The figures' words for templates and presenters (one writer for every
//! door: `domain::figures`).

pub use crate::domain::figures::{count, counted, duration, plural};
