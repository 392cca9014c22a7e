//! Services for looking around the product: the demo data behind
//! `demo seed` and `serve --demo`.

pub mod demo;
