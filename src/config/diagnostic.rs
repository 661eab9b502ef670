//! Where a configuration problem is and what it is.

use super::Config;
use std::fmt;

/// One problem found in a config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based line; 0 when the problem concerns the whole file (unreadable, empty).
    pub line: usize,
    /// The section as `uci show` names it: its name, or `@type[N]` when anonymous.
    pub section: Option<String>,
    pub option: Option<String>,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    /// `FILE:LINE: section 'S' option 'O': MESSAGE`, leaving out what is unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(section) = &self.section {
            write!(f, ": section '{section}'")?;
        }
        match (&self.section, &self.option) {
            (Some(_), Some(option)) => write!(f, " option '{option}'")?,
            (None, Some(option)) => write!(f, ": option '{option}'")?,
            _ => {}
        }
        write!(f, ": {}", self.message)
    }
}

/// A configuration that cannot be used, with every error found (not only the first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub errors: Vec<Diagnostic>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// A usable configuration and what looked wrong but did not stop it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<Diagnostic>,
}
