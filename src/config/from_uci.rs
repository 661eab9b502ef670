//! UCI package -> validated [`Config`]; option names and defaults from [`super::schema`].

use super::schema::{self, Row, GLOBAL, GLOBAL_TYPE, UPLINK, UPLINK_TYPE};
use super::values::{self, ParsedPrefix};
use super::{Config, ConfigError, Diagnostic, HostsMode, Loaded, NetifdRanges, UplinkConfig};
use crate::uci::{self, Section, UciOption, Value};
use ipnet::Ipv6Net;
use std::io::Read;
use std::path::Path;

/// /etc/config files are small; anything this big is not a config file, and reading it
/// whole would only cost memory on a router.
const MAX_FILE_SIZE: u64 = 1 << 20;

/// Reads and validates the UCI file at `path`.
pub fn from_uci(path: &Path) -> Result<Loaded, ConfigError> {
    let file = path.display().to_string();
    let whole_file_error = |message: String| ConfigError {
        errors: vec![Diagnostic {
            file: file.clone(),
            line: 0,
            section: None,
            option: None,
            message,
        }],
    };
    let handle = std::fs::File::open(path).map_err(|e| whole_file_error(format!("{e}")))?;
    let mut text = Vec::new();
    handle
        .take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut text)
        .map_err(|e| whole_file_error(format!("{e}")))?;
    if text.len() as u64 > MAX_FILE_SIZE {
        return Err(whole_file_error(format!(
            "larger than {MAX_FILE_SIZE} bytes, not a config file"
        )));
    }
    from_uci_text(&file, &text)
}

/// Validates UCI `text`; `file` is only used to name it in diagnostics.
pub fn from_uci_text(file: &str, text: &[u8]) -> Result<Loaded, ConfigError> {
    let package = uci::parse(text).map_err(|e| ConfigError {
        errors: vec![Diagnostic {
            file: file.to_string(),
            // libuci's counter does not count a last line without newline.
            line: e.line.max(1),
            section: None,
            option: None,
            message: e.to_string(),
        }],
    })?;
    let references = uci::section_references(&package);
    let mut report = Report {
        file,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let mut config = Config::default();
    let mut global_line: Option<usize> = None;
    let mut uplinks: Vec<(UplinkConfig, usize)> = Vec::new();

    for (section, reference) in package.sections.iter().zip(&references) {
        let mut s = SectionReport {
            report: &mut report,
            section,
            reference,
        };
        match section.section_type.as_str() {
            GLOBAL_TYPE => match global_line {
                Some(first) => s.error(
                    section.line,
                    None,
                    format!("only one '{GLOBAL_TYPE}' section is allowed (first at line {first})"),
                ),
                None => {
                    global_line = Some(section.line);
                    s.global(&mut config);
                }
            },
            UPLINK_TYPE => {
                if let Some(uplink) = s.uplink() {
                    uplinks.push(uplink);
                }
            }
            other => s.warning(
                section.line,
                None,
                format!("unknown section type '{other}', ignored"),
            ),
        }
    }

    // Two uplinks on one device would answer every NS twice, with different settings.
    for (i, (uplink, device_line)) in uplinks.iter().enumerate() {
        if let Some((first, _)) = uplinks[..i].iter().find(|(u, _)| u.device == uplink.device) {
            report.errors.push(Diagnostic {
                file: file.to_string(),
                line: *device_line,
                section: Some(uplink.name.clone()),
                option: Some("device".to_string()),
                message: format!(
                    "device '{}' is already used by uplink '{}'",
                    uplink.device, first.name
                ),
            });
        }
    }
    if uplinks.is_empty() && report.errors.is_empty() {
        report.warnings.push(Diagnostic {
            file: file.to_string(),
            line: 0,
            section: None,
            option: None,
            message: format!("no enabled '{UPLINK_TYPE}' section: nothing will be answered"),
        });
    }

    config.uplinks = uplinks.into_iter().map(|(u, _)| u).collect();
    if report.errors.is_empty() {
        Ok(Loaded {
            config,
            warnings: report.warnings,
        })
    } else {
        Err(ConfigError {
            errors: report.errors,
        })
    }
}

/// The items of a `list`, or of an `option` whose value is space-separated.
fn words(value: &Value) -> Vec<&str> {
    match value {
        Value::Single(v) => v.split_ascii_whitespace().collect(),
        Value::List(items) => items
            .iter()
            .flat_map(|i| i.split_ascii_whitespace())
            .collect(),
    }
}

struct Report<'a> {
    file: &'a str,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

/// Reads one section's options, reporting problems located in it.
struct SectionReport<'r, 'a> {
    report: &'r mut Report<'a>,
    section: &'r Section,
    reference: &'r str,
}

impl<'r> SectionReport<'r, '_> {
    fn diagnostic(&self, line: usize, option: Option<&str>, message: String) -> Diagnostic {
        Diagnostic {
            file: self.report.file.to_string(),
            line,
            section: Some(self.reference.to_string()),
            option: option.map(str::to_string),
            message,
        }
    }

    fn error(&mut self, line: usize, option: Option<&str>, message: String) {
        let d = self.diagnostic(line, option, message);
        self.report.errors.push(d);
    }

    fn warning(&mut self, line: usize, option: Option<&str>, message: String) {
        let d = self.diagnostic(line, option, message);
        self.report.warnings.push(d);
    }

    /// Warns about option names the schema does not have (a typo guard).
    fn unknown_options(&mut self, known: &[Row]) {
        for option in &self.section.options {
            if !known.iter().any(|row| row.name == option.name) {
                self.warning(
                    option.line,
                    Some(&option.name),
                    format!("unknown option '{}', ignored", option.name),
                );
            }
        }
    }

    /// The option's value if it is a single one; a list is an error.
    fn single(&mut self, name: &str) -> Option<(&'r UciOption, String)> {
        let section: &'r Section = self.section;
        let option = section.option(name)?;
        match &option.value {
            Value::Single(v) => Some((option, v.clone())),
            Value::List(_) => {
                self.error(
                    option.line,
                    Some(name),
                    "takes one value; write 'option', not 'list'".to_string(),
                );
                None
            }
        }
    }

    /// Reads an optional single-valued option with `parse`, or `default`.
    fn parsed<T>(&mut self, name: &str, default: T, parse: fn(&str) -> Result<T, String>) -> T {
        let Some((option, value)) = self.single(name) else {
            return default;
        };
        let line = option.line;
        match parse(&value) {
            Ok(v) => v,
            Err(message) => {
                self.error(line, Some(name), message);
                default
            }
        }
    }

    fn global(&mut self, config: &mut Config) {
        self.unknown_options(&GLOBAL);
        config.enabled = self.parsed("enabled", schema::GLOBAL_ENABLED, values::boolean);
        config.log_level = self.parsed("log_level", schema::LOG_LEVEL, values::log_level);
    }

    /// A `config uplink` section: `None` when disabled or invalid. Returns the uplink
    /// and the line of its `device` option.
    fn uplink(&mut self) -> Option<(UplinkConfig, usize)> {
        let errors_before = self.report.errors.len();
        let warnings_before = self.report.warnings.len();
        let enabled = self.parsed("enabled", schema::UPLINK_ENABLED, values::boolean);
        if self.report.errors.len() > errors_before {
            return None;
        }
        let uplink = self.uplink_settings();
        if !enabled {
            // A disabled uplink may be half written; show its problems, don't fail.
            let demoted: Vec<Diagnostic> = self.report.errors.drain(errors_before..).collect();
            let notes: Vec<Diagnostic> = self.report.warnings.drain(warnings_before..).collect();
            for mut d in demoted.into_iter().chain(notes) {
                d.message.push_str(" (uplink disabled)");
                self.report.warnings.push(d);
            }
            return None;
        }
        if self.report.errors.len() > errors_before {
            return None;
        }
        uplink
    }

    fn uplink_settings(&mut self) -> Option<(UplinkConfig, usize)> {
        self.unknown_options(&UPLINK);
        let device = self.single("device");
        let device_line = device.as_ref().map_or(self.section.line, |(o, _)| o.line);
        let device = match device {
            Some((_, value)) => match values::device(&value) {
                Ok(()) => Some(value),
                Err(message) => {
                    self.error(device_line, Some("device"), message);
                    None
                }
            },
            None => {
                if self.section.option("device").is_none() {
                    self.error(
                        self.section.line,
                        Some("device"),
                        "required option is missing (the Linux device, e.g. 'eth0')".to_string(),
                    );
                }
                None
            }
        };
        let interface = self.single("interface").map(|(_, v)| v);
        let prefixes = self.prefixes("prefix");
        let excludes = self.prefixes("exclude");
        let downstreams = self.downstreams(device.as_deref());
        let prefix_from = self.interfaces("prefix_from");
        if ["prefix", "downstream", "prefix_from"]
            .iter()
            .all(|name| self.section.option(name).is_none())
        {
            self.error(
                self.section.line,
                Some("prefix"),
                "required option is missing (IPv6 prefixes to answer for, 'downstream' \
                 devices whose routes give them, or 'prefix_from' naming netifd interfaces)"
                    .to_string(),
            );
        }
        let hosts = self.single("hosts").map(|(o, v)| (o.line, v));
        let hosts = match hosts {
            None => None,
            Some((line, value)) => match values::hosts_mode(&value) {
                Ok(mode)
                    if mode != HostsMode::Any
                        && downstreams.is_empty()
                        && prefix_from.is_empty() =>
                {
                    self.error(
                        line,
                        Some("hosts"),
                        format!(
                            "'{value}' needs a 'downstream' device or a 'prefix_from' \
                             interface whose neighbours count"
                        ),
                    );
                    None
                }
                Ok(mode) => Some(mode),
                Err(message) => {
                    self.error(line, Some("hosts"), message);
                    None
                }
            },
        };
        let announce = self.parsed("announce", schema::ANNOUNCE, values::boolean);
        if announce && downstreams.is_empty() && prefix_from.is_empty() {
            let line = self
                .section
                .option("announce")
                .map_or(self.section.line, |o| o.line);
            self.error(
                line,
                Some("announce"),
                "needs a 'downstream' device or a 'prefix_from' interface whose hosts it \
                 announces"
                    .to_string(),
            );
        }
        // Excludes may also cut holes in the routed and netifd ranges, which are known only
        // at run time.
        if downstreams.is_empty() && prefix_from.is_empty() {
            self.check_excludes(&prefixes, &excludes);
        }
        let source = self.parsed("source", schema::SOURCE, values::source_policy);
        let router = self.parsed("router", schema::ROUTER, values::boolean);
        let override_flag = self.parsed("override", schema::OVERRIDE, values::boolean);
        let rate = self.parsed("rate_limit", schema::RATE_LIMIT, values::rate);
        let source_rate = self.parsed("source_rate_limit", schema::SOURCE_RATE_LIMIT, values::rate);
        let uplink = UplinkConfig {
            name: self.reference.to_string(),
            device: device?,
            interface,
            prefixes: prefixes.into_iter().map(|(net, _)| net).collect(),
            excludes: excludes.into_iter().map(|(net, _)| net).collect(),
            downstreams,
            hosts,
            announce,
            prefix_from,
            netifd: NetifdRanges::default(),
            source,
            router,
            override_flag,
            rate_limit: schema::rate_limit(rate),
            source_rate_limit: schema::rate_limit(source_rate),
        };
        Some((uplink, device_line))
    }

    /// `downstream` device names, as `list` or `option` (items may be space-separated),
    /// each once; none of them may be the uplink's own `device`.
    fn downstreams(&mut self, uplink: Option<&str>) -> Vec<String> {
        let section: &'r Section = self.section;
        let Some(option) = section.option("downstream") else {
            return Vec::new();
        };
        let items = words(&option.value);
        let line = option.line;
        if items.is_empty() {
            self.error(line, Some("downstream"), "is empty".to_string());
        }
        let mut devices: Vec<String> = Vec::new();
        for item in items {
            if let Err(message) = values::device(item) {
                self.error(line, Some("downstream"), message);
            } else if uplink == Some(item) {
                self.error(
                    line,
                    Some("downstream"),
                    format!(
                        "'{item}' is this uplink's own device: a route out of the uplink is \
                         never answered for"
                    ),
                );
            } else if !devices.iter().any(|d| d == item) {
                devices.push(item.to_string());
            }
        }
        devices
    }

    /// `prefix_from` as `list` or `option`, items maybe space-separated: netifd interface
    /// names (UCI section names: letters, digits, '_'; '-' is accepted for hand-made
    /// dynamic interfaces), each once.
    fn interfaces(&mut self, name: &str) -> Vec<String> {
        let section: &'r Section = self.section;
        let Some(option) = section.option(name) else {
            return Vec::new();
        };
        let items: Vec<&str> = match &option.value {
            Value::Single(v) => v.split_ascii_whitespace().collect(),
            Value::List(items) => items
                .iter()
                .flat_map(|i| i.split_ascii_whitespace())
                .collect(),
        };
        let line = option.line;
        if items.is_empty() {
            self.error(line, Some(name), "is empty".to_string());
        }
        let mut names: Vec<String> = Vec::new();
        for item in items {
            let valid = item.len() <= 64
                && item
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !valid {
                self.error(
                    line,
                    Some(name),
                    format!("'{item}' is not a netifd interface name (letters, digits, '_')"),
                );
            } else if names.iter().any(|n| n == item) {
                self.warning(line, Some(name), format!("'{item}' is listed twice"));
            } else {
                names.push(item.to_string());
            }
        }
        names
    }

    /// `prefix`/`exclude` as `list` or `option`; items may also be space-separated.
    /// Returns the valid prefixes with the line each came from.
    fn prefixes(&mut self, name: &str) -> Vec<(Ipv6Net, usize)> {
        let section: &'r Section = self.section;
        let Some(option) = section.option(name) else {
            return Vec::new();
        };
        let items = words(&option.value);
        let line = option.line;
        if items.is_empty() {
            self.error(line, Some(name), "is empty".to_string());
        }
        let mut nets = Vec::new();
        for item in items {
            match values::ipv6_prefix(item) {
                Ok(ParsedPrefix {
                    net,
                    truncated_from,
                }) => {
                    if let Some(given) = truncated_from {
                        self.warning(
                            line,
                            Some(name),
                            format!("'{given}' has host bits set; using {net}"),
                        );
                    }
                    nets.push((net, line));
                }
                Err(message) => self.error(line, Some(name), message),
            }
        }
        nets
    }

    fn check_excludes(&mut self, prefixes: &[(Ipv6Net, usize)], excludes: &[(Ipv6Net, usize)]) {
        let exclude_nets: Vec<Ipv6Net> = excludes.iter().map(|(n, _)| *n).collect();
        for (exclude, line) in excludes {
            if !prefixes.iter().any(|(p, _)| values::overlaps(p, exclude)) {
                self.warning(
                    *line,
                    Some("exclude"),
                    format!("{exclude} is outside every prefix, so it excludes nothing"),
                );
            }
        }
        if prefixes.is_empty() || exclude_nets.is_empty() {
            return;
        }
        let covered: Vec<&(Ipv6Net, usize)> = prefixes
            .iter()
            .filter(|(p, _)| values::fully_excluded(p, &exclude_nets))
            .collect();
        let exclude_line = excludes[excludes.len() - 1].1;
        if covered.len() == prefixes.len() {
            self.error(
                exclude_line,
                Some("exclude"),
                "excludes leave nothing to answer for".to_string(),
            );
        } else {
            for (prefix, line) in covered {
                self.warning(
                    *line,
                    Some("prefix"),
                    format!("{prefix} is entirely excluded"),
                );
            }
        }
    }
}
