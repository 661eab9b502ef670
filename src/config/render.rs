//! The effective configuration as `ndpresponder check` prints it.

use super::schema::{Shown, GLOBAL, UPLINK};
use super::Config;

/// Human-readable and stable (same config, same text): every option of the schema for the
/// globals and every uplink, under its UCI name, defaults included, so a user sees what the
/// daemon will actually do.
pub fn render(config: &Config) -> String {
    let mut out = String::new();
    for row in &GLOBAL {
        if let Shown::Global(show) = row.shown {
            out.push_str(&format!("{}: {}\n", row.name, show(config)));
        }
    }
    if config.uplinks.is_empty() {
        out.push_str("uplinks: none\n");
    }
    for u in &config.uplinks {
        out.push_str(&format!("uplink {}:\n", u.name));
        for row in &UPLINK {
            if let Shown::Uplink(show) = row.shown {
                out.push_str(&format!("  {}: {}\n", row.name, show(u)));
            }
        }
    }
    out
}
