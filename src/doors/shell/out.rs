//! Standard output that behaves in a pipe: when the reader has gone
//! (`tenantatlas runs list | head -1`), the command ends quietly with exit 0
//! instead of panicking on the broken pipe.

use std::fmt;
use std::io::{self, Write};

/// Writes one line to stdout; a closed pipe ends the process with exit 0.
pub fn write_line(args: fmt::Arguments<'_>) {
    write_text(&format!("{args}\n"));
}

/// Writes text as it is (its own line ends) to stdout; a closed pipe ends
/// the process with exit 0.
pub fn write_text(text: &str) {
    let mut stdout = io::stdout().lock();
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    if let Err(e) = written
        && e.kind() == io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// `println!` for the doors: see [`write_line`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::doors::shell::write_line(format_args!($($arg)*))
    };
}

pub(crate) use out;
