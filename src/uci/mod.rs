//! UCI configuration files (`/etc/config/<package>`), read the way OpenWrt's libuci reads
//! them, so that what `uci show` prints and what the daemon sees never differ.
//!
//! `parse` turns one file into a [`Package`]; `show` renders it exactly as
//! `uci show <package>` does. Both were checked byte for byte against upstream uci
//! (openwrt/uci 66127cd) on the corpus in `tests/fixtures/uci`.

mod parser;
mod show;

#[cfg(test)]
mod tests;

pub use parser::parse;
pub use show::{section_references, show};

use std::fmt;

/// One loaded config file, sections in libuci's order.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Package {
    pub sections: Vec<Section>,
}

/// A `config <type> [<name>]` block; repeated named blocks are merged into the first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The given name, or for an anonymous section the name libuci generates for it
    /// (`cfgXXYYYY`, list.c `uci_fixup_section`), which `uci show -X` prints.
    pub name: String,
    pub anonymous: bool,
    pub section_type: String,
    /// 1-based line of the `config` statement that created the section.
    pub line: usize,
    pub options: Vec<UciOption>,
}

/// One `option` or `list`, in the order libuci keeps them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UciOption {
    pub name: String,
    pub value: Value,
    /// 1-based line of the statement that last changed this option (the last `list`
    /// line for a list, the effective `option` line for a re-set option).
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Single(String),
    List(Vec<String>),
}

impl Section {
    /// The option called `name`, if set.
    pub fn option(&self, name: &str) -> Option<&UciOption> {
        self.options.iter().find(|o| o.name == name)
    }
}

/// Why libuci would refuse the file. `line` and `byte` are libuci's own counters: `line`
/// counts the newlines read so far (a last line without one is not counted) and `byte`
/// is the offset in the logical line, which for a value spanning several lines starts
/// at the first of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub byte: usize,
    pub reason: &'static str,
}

impl fmt::Display for ParseError {
    /// Worded as libuci.c `uci_get_errorstr` words a `UCI_ERR_PARSE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Parse error ({}) at line {}, byte {}",
            self.reason, self.line, self.byte
        )
    }
}

impl std::error::Error for ParseError {}
