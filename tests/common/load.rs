//! `ndpload` (examples/ndpload.rs), the NS load generator, run on the router.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use super::process::wait_bounded;
use super::topology::{Lab, Role};

impl Lab {
    /// Starts `ndpload` (examples/ndpload.rs) on the router's `iface`: `rate` NS per second
    /// for `seconds`, every target inside `prefix`, none outside.
    pub fn start_load(&self, iface: &str, prefix: &str, rate: u32, seconds: f64) -> Load {
        let ndpload = ndpload();
        let (rate, seconds) = (rate.to_string(), seconds.to_string());
        let child = self
            .command(
                Role::Router,
                &[
                    ndpload.to_str().expect("utf-8 path"),
                    "-i",
                    iface,
                    "--in",
                    prefix,
                    "--out-share",
                    "0",
                    "--rate",
                    &rate,
                    "--duration",
                    &seconds,
                ],
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ndpload");
        Load { child }
    }
}

/// The load generator, built beside the test binaries (target/DEBUG_OR_RELEASE/examples).
fn ndpload() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binaries live in target/PROFILE/deps");
    let ndpload = profile_dir.join("examples/ndpload");
    assert!(
        ndpload.exists(),
        "{} is missing: run `cargo build --example ndpload` (scripts/test.sh does)",
        ndpload.display()
    );
    ndpload
}

/// A running `ndpload`; killed on drop.
pub struct Load {
    child: Child,
}

impl Load {
    /// True while it is still sending.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Waits (bounded by `limit`) for its one output line and returns its `key=value`
    /// fields (see examples/ndpload.rs).
    pub fn finish(mut self, limit: Duration) -> HashMap<String, String> {
        let status = wait_bounded(&mut self.child, limit);
        let mut out = String::new();
        let mut err = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            stdout.read_to_string(&mut out).expect("ndpload output");
        }
        if let Some(mut stderr) = self.child.stderr.take() {
            stderr.read_to_string(&mut err).expect("ndpload errors");
        }
        assert!(
            status.is_some_and(|s| s.success()),
            "ndpload failed or ran over {limit:?} ({status:?}): {out}{err}"
        );
        out.split_whitespace()
            .filter_map(|field| field.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
