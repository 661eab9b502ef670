//! A UCI configuration directory for the daemon's `-c`, and the sections tests write.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A UCI configuration directory for the daemon's `-c`; removed on drop.
pub struct ConfigDir {
    pub path: PathBuf,
}

impl ConfigDir {
    pub fn new(name: &str) -> ConfigDir {
        static SEQUENCE: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "ndpr-{name}-{}-{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(path.join("run")).expect("create the config directory");
        ConfigDir { path }
    }

    /// Replaces the UCI file `ndpresponder` with `text`.
    pub fn write(&self, text: &str) {
        // Written beside and renamed, so the daemon never reads half a file.
        let tmp = self.path.join(".ndpresponder.new");
        std::fs::write(&tmp, text).expect("write the UCI file");
        std::fs::rename(&tmp, self.path.join("ndpresponder")).expect("rename the UCI file");
    }

    pub fn arg(&self) -> &str {
        self.path.to_str().expect("utf-8 path")
    }

    /// Where a fake ubusd listens: `run/ubus.sock` inside the directory.
    pub fn ubus_socket(&self) -> PathBuf {
        self.path.join("run/ubus.sock")
    }
}

impl Drop for ConfigDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A `config uplink` section of /etc/config/ndpresponder (schema in the README), with
/// `options` as extra `option NAME 'VALUE'` lines.
pub fn uci_uplink(name: &str, device: &str, prefixes: &[&str], options: &[(&str, &str)]) -> String {
    let mut text = format!("config uplink '{name}'\n\toption device '{device}'\n");
    for prefix in prefixes {
        text.push_str(&format!("\tlist prefix '{prefix}'\n"));
    }
    for (option, value) in options {
        text.push_str(&format!("\toption {option} '{value}'\n"));
    }
    text.push('\n');
    text
}
