//! Every schema rule, each with the exact place its diagnostic points at.

use super::*;
use std::net::Ipv6Addr;
use std::path::Path;

const FILE: &str = "/etc/config/ndpresponder";

/// A minimal valid uplink to build cases on (lines 1-3).
const WAN: &str = "config uplink 'wan'\n\toption device 'eth0'\n\tlist prefix '2001:db8:1::/64'\n";

fn net(s: &str) -> Ipv6Net {
    s.parse().unwrap()
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Kind {
    Error,
    Warning,
}

/// What one diagnostic must say: kind, line, section, option, and a message fragment.
type Expect = (
    Kind,
    usize,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
);

fn diagnostics(text: &str) -> Vec<(Kind, Diagnostic)> {
    match from_uci_text(FILE, text.as_bytes()) {
        Ok(loaded) => loaded
            .warnings
            .into_iter()
            .map(|d| (Kind::Warning, d))
            .collect(),
        Err(e) => e.errors.into_iter().map(|d| (Kind::Error, d)).collect(),
    }
}

fn check(case: &str, text: &str, expected: &[Expect]) {
    let got = diagnostics(text);
    let shown: Vec<String> = got.iter().map(|(k, d)| format!("{k:?}: {d}")).collect();
    assert_eq!(got.len(), expected.len(), "{case}: got {shown:#?}");
    for ((kind, d), (want_kind, line, section, option, fragment)) in got.iter().zip(expected) {
        let ok = kind == want_kind
            && d.file == FILE
            && d.line == *line
            && d.section.as_deref() == *section
            && d.option.as_deref() == *option
            && d.message.contains(fragment);
        assert!(ok, "{case}: {shown:#?}\nexpected {expected:#?}");
    }
}

#[test]
fn every_rule_reports_its_exact_location() {
    use Kind::{Error as E, Warning as W};
    let cases: &[(&str, String, &[Expect])] = &[
        ("valid minimal", WAN.to_string(), &[]),
        (
            "bad boolean",
            format!("{WAN}\toption router 'maybe'\n"),
            &[(E, 4, Some("wan"), Some("router"), "'maybe' is not a boolean")],
        ),
        (
            "unknown log level lists the allowed ones",
            format!("config ndpresponder 'main'\n\toption log_level 'verbose'\n{WAN}"),
            &[(
                E,
                2,
                Some("main"),
                Some("log_level"),
                "'verbose' is not one of: err, warning, notice, info, debug",
            )],
        ),
        (
            "unknown source policy",
            format!("{WAN}\toption source 'global'\n"),
            &[(E, 4, Some("wan"), Some("source"), "is not one of: target, link-local, auto")],
        ),
        (
            "missing device",
            "config uplink 'wan'\n\tlist prefix '2001:db8::/64'\n".to_string(),
            &[(E, 1, Some("wan"), Some("device"), "required option is missing")],
        ),
        (
            "device name too long",
            "config uplink 'wan'\n\toption device 'abcdefghijklmnop'\n\tlist prefix '2001:db8::/64'\n"
                .to_string(),
            &[(E, 2, Some("wan"), Some("device"), "longer than 15 bytes")],
        ),
        (
            "device name with slash",
            "config uplink 'wan'\n\toption device 'eth0/1'\n\tlist prefix '2001:db8::/64'\n"
                .to_string(),
            &[(E, 2, Some("wan"), Some("device"), "'eth0/1' contains '/'")],
        ),
        (
            "device given as a list",
            "config uplink 'wan'\n\tlist device 'eth0'\n\tlist prefix '2001:db8::/64'\n"
                .to_string(),
            &[(E, 2, Some("wan"), Some("device"), "takes one value")],
        ),
        (
            "missing prefix",
            "config uplink 'wan'\n\toption device 'eth0'\n".to_string(),
            &[(E, 1, Some("wan"), Some("prefix"), "required option is missing")],
        ),
        (
            "downstreams without a prefix are a rule",
            "config uplink 'wan'\n\toption device 'eth0'\n\tlist downstream 'br-lan'\n"
                .to_string(),
            &[],
        ),
        (
            "a downstream may not be the uplink",
            format!("{WAN}\tlist downstream 'br-lan'\n\tlist downstream 'eth0'\n"),
            &[(E, 5, Some("wan"), Some("downstream"), "'eth0' is this uplink's own device")],
        ),
        (
            "bad downstream name",
            format!("{WAN}\toption downstream 'br-lan docker:0'\n"),
            &[(E, 4, Some("wan"), Some("downstream"), "'docker:0' contains")],
        ),
        (
            "unknown hosts policy",
            format!("{WAN}\tlist downstream 'br-lan'\n\toption hosts 'some'\n"),
            &[(E, 5, Some("wan"), Some("hosts"), "'some' is not one of: any, known, probe")],
        ),
        (
            "known hosts need a downstream",
            format!("{WAN}\toption hosts 'known'\n"),
            &[(E, 4, Some("wan"), Some("hosts"), "needs a 'downstream' device or a 'prefix_from'")],
        ),
        (
            "announcing needs a downstream",
            format!("{WAN}\toption announce '1'\n"),
            &[(E, 4, Some("wan"), Some("announce"), "needs a 'downstream' device or a 'prefix_from'")],
        ),
        (
            "probing needs a downstream",
            format!("{WAN}\toption hosts 'probe'\n"),
            &[(E, 4, Some("wan"), Some("hosts"), "'probe' needs a 'downstream' device")],
        ),
        (
            "a prefix_from interface is enough for known hosts and announcing",
            format!("{WAN}\tlist prefix_from 'lan'\n\toption hosts 'known'\n\toption announce '1'\n"),
            &[],
        ),
        (
            "with downstreams, an exclude outside the prefixes is no warning",
            format!("{WAN}\tlist downstream 'br-lan'\n\tlist exclude '2001:db8:9::/64'\n"),
            &[],
        ),
        (
            "IPv4 prefix is named",
            format!("{WAN}\tlist prefix '192.0.2.0/24'\n"),
            &[(E, 4, Some("wan"), Some("prefix"), "'192.0.2.0/24' is IPv4")],
        ),
        (
            "garbage prefix is named",
            format!("{WAN}\tlist exclude 'fe80::zz'\n"),
            &[(E, 4, Some("wan"), Some("exclude"), "'fe80::zz' is not an IPv6 prefix")],
        ),
        (
            "prefix length over 128",
            format!("{WAN}\tlist prefix '2001:db8::/129'\n"),
            &[(E, 4, Some("wan"), Some("prefix"), "over 128")],
        ),
        (
            "host bits are a warning",
            "config uplink 'wan'\n\toption device 'eth0'\n\toption prefix '2001:db8::5/64'\n"
                .to_string(),
            &[(
                W,
                3,
                Some("wan"),
                Some("prefix"),
                "'2001:db8::5/64' has host bits set; using 2001:db8::/64",
            )],
        ),
        (
            "excludes cover everything",
            "config uplink 'wan'\n\toption device 'eth0'\n\tlist prefix '2001:db8::/127'\n\
             \tlist exclude '2001:db8::/128'\n\tlist exclude '2001:db8::1'\n"
                .to_string(),
            &[(E, 5, Some("wan"), Some("exclude"), "excludes leave nothing to answer for")],
        ),
        (
            "one prefix entirely excluded",
            format!("{WAN}\tlist prefix '2001:db8:2::/64'\n\tlist exclude '2001:db8:2::/48'\n"),
            &[(W, 4, Some("wan"), Some("prefix"), "2001:db8:2::/64 is entirely excluded")],
        ),
        (
            "exclude outside every prefix",
            format!("{WAN}\tlist exclude '2001:db8:9::1'\n"),
            &[(W, 4, Some("wan"), Some("exclude"), "2001:db8:9::1/128 is outside every prefix")],
        ),
        (
            "same device twice",
            format!("{WAN}config uplink\n\toption device 'eth0'\n\tlist prefix '2001:db8:2::/64'\n"),
            &[(
                E,
                5,
                Some("@uplink[1]"),
                Some("device"),
                "device 'eth0' is already used by uplink 'wan'",
            )],
        ),
        (
            "same device twice, one disabled",
            format!(
                "{WAN}config uplink\n\toption enabled 'no'\n\toption device 'eth0'\n\
                 \tlist prefix '2001:db8:2::/64'\n"
            ),
            &[],
        ),
        (
            "unknown option is a typo guard",
            format!("{WAN}\toption rate_limt '5'\n"),
            &[(W, 4, Some("wan"), Some("rate_limt"), "unknown option 'rate_limt'")],
        ),
        (
            "unknown section type",
            format!("{WAN}config uplnk 'lan'\n\toption device 'eth1'\n"),
            &[(W, 4, Some("lan"), None, "unknown section type 'uplnk'")],
        ),
        (
            "two global sections",
            format!("config ndpresponder 'main'\n{WAN}config ndpresponder 'other'\n"),
            &[(E, 5, Some("other"), None, "only one 'ndpresponder' section")],
        ),
        (
            "rate not a number",
            format!("{WAN}\toption rate_limit '10k'\n"),
            &[(E, 4, Some("wan"), Some("rate_limit"), "'10k' is not a whole number")],
        ),
        (
            "rate too large",
            format!("{WAN}\toption source_rate_limit '4294967296'\n"),
            &[(E, 4, Some("wan"), Some("source_rate_limit"), "too large")],
        ),
        (
            "disabled uplink problems are warnings",
            format!("{WAN}config uplink 'spare'\n\toption enabled '0'\n\toption source 'x'\n"),
            &[
                (W, 4, Some("spare"), Some("device"), "e.g. 'eth0') (uplink disabled)"),
                (W, 4, Some("spare"), Some("prefix"), "required option is missing"),
                (W, 6, Some("spare"), Some("source"), "'x' is not one of"),
            ],
        ),
        (
            "no uplink at all",
            "config ndpresponder 'main'\n".to_string(),
            &[(W, 0, None, None, "no enabled 'uplink' section")],
        ),
        (
            "UCI syntax error keeps file and line",
            format!("{WAN}\toption bad-name '1'\n"),
            &[(
                E,
                4,
                None,
                None,
                "Parse error (invalid character in name field) at line 4, byte 17",
            )],
        ),
        (
            "all errors are reported, not just the first",
            "config uplink 'a'\n\toption device 'eth0'\n\tlist prefix 'x'\n\toption router '2'\n"
                .to_string(),
            &[
                (E, 3, Some("a"), Some("prefix"), "'x' is not an IPv6 prefix"),
                (E, 4, Some("a"), Some("router"), "'2' is not a boolean"),
            ],
        ),
    ];
    for (case, text, expected) in cases {
        check(case, text, expected);
    }
}

#[test]
fn defaults_and_every_setting_are_read() {
    let text = "config ndpresponder 'main'\n\toption enabled 'off'\n\toption log_level 'debug'\n\
                config uplink 'wan'\n\toption device 'eth0'\n\toption interface 'wan6'\n\
                \toption prefix '2001:db8:1::/64 2001:db8:2::5'\n\tlist exclude '2001:db8:1::1'\n\
                \toption source 'link-local'\n\toption router 'false'\n\toption override 'yes'\n\
                \toption rate_limit '0'\n\toption source_rate_limit '7'\n\
                config uplink\n\toption device 'eth1'\n\tlist prefix '2001:db8:3::/112'\n\
                config uplink 'off'\n\toption enabled 'disabled'\n\toption device 'eth2'\n\
                \tlist prefix '2001:db8:4::/64'\n";
    let loaded = from_uci_text(FILE, text.as_bytes()).unwrap();
    assert_eq!(loaded.warnings, []);
    let c = loaded.config;
    assert!(!c.enabled);
    assert_eq!(c.log_level, LogLevel::Debug);
    assert_eq!(c.uplinks.len(), 2, "disabled uplinks are left out");
    let wan = &c.uplinks[0];
    assert_eq!(
        wan,
        &UplinkConfig {
            interface: Some("wan6".to_string()),
            prefixes: vec![net("2001:db8:1::/64"), net("2001:db8:2::5/128")],
            excludes: vec![net("2001:db8:1::1/128")],
            source: SourcePolicy::LinkLocal,
            router: false,
            override_flag: true,
            rate_limit: RateLimit { rate: 0, burst: 0 },
            source_rate_limit: RateLimit { rate: 7, burst: 7 },
            ..UplinkConfig::new("wan", "eth0")
        }
    );
    let anon = &c.uplinks[1];
    assert_eq!(anon.name, "@uplink[1]");
    assert_eq!(anon.interface, None);
    assert_eq!(anon.source, SourcePolicy::Target);
    assert!(anon.router && !anon.override_flag);
    assert_eq!(
        anon.rate_limit,
        RateLimit {
            rate: 10_000,
            burst: 10_000
        }
    );
    assert_eq!(
        anon.source_rate_limit,
        RateLimit {
            rate: 1_000,
            burst: 1_000
        }
    );

    let follow = format!("{WAN}\tlist downstream 'br-lan'\n\tlist downstream 'docker0 br-lan'\n\toption hosts 'any'\n\toption announce 'yes'\n");
    let follow = from_uci_text(FILE, follow.as_bytes()).unwrap().config;
    assert_eq!(follow.uplinks[0].downstreams, vec!["br-lan", "docker0"]);
    assert_eq!(follow.uplinks[0].hosts, Some(HostsMode::Any));
    assert!(follow.uplinks[0].announce);

    let global_defaults = from_uci_text(FILE, WAN.as_bytes()).unwrap().config;
    assert!(global_defaults.enabled);
    assert_eq!(global_defaults.log_level, LogLevel::Info);
}

#[test]
fn every_boolean_spelling_of_get_bool() {
    for (word, want) in [
        ("1", true),
        ("on", true),
        ("true", true),
        ("yes", true),
        ("enabled", true),
        ("0", false),
        ("off", false),
        ("false", false),
        ("no", false),
        ("disabled", false),
    ] {
        let text = format!("{WAN}\toption override '{word}'\n");
        let c = from_uci_text(FILE, text.as_bytes()).unwrap().config;
        assert_eq!(c.uplinks[0].override_flag, want, "{word}");
    }
}

#[test]
fn diagnostic_display_leaves_out_unknown_parts() {
    let mut d = Diagnostic {
        file: "f".to_string(),
        line: 3,
        section: Some("wan".to_string()),
        option: Some("device".to_string()),
        message: "m".to_string(),
    };
    assert_eq!(d.to_string(), "f:3: section 'wan' option 'device': m");
    d.option = None;
    assert_eq!(d.to_string(), "f:3: section 'wan': m");
    d.section = None;
    d.option = Some("o".to_string());
    assert_eq!(d.to_string(), "f:3: option 'o': m");
    d.option = None;
    d.line = 0;
    assert_eq!(d.to_string(), "f: m");
    let e = ConfigError {
        errors: vec![d.clone(), d],
    };
    assert_eq!(e.to_string(), "f: m\nf: m");
}

#[test]
fn render_shows_every_setting() {
    let text = format!("{WAN}\tlist exclude '2001:db8:1::1'\n\toption rate_limit '0'\n");
    let c = from_uci_text(FILE, text.as_bytes()).unwrap().config;
    assert_eq!(
        render(&c),
        "enabled: yes\nlog_level: info\nuplink wan:\n  device: eth0\n  interface: -\n\
         \x20 prefix: 2001:db8:1::/64\n  prefix_from: -\n  exclude: 2001:db8:1::1/128\n\
         \x20 downstream: -\n  hosts: any (static), known (netifd), known (routed)\n  announce: no\n\
         \x20 source: target\n\
         \x20 router: yes\n  override: no\n  rate_limit: off\n\
         \x20 source_rate_limit: 1000/s burst 1000\n"
    );
    assert_eq!(
        render(&Config::default()),
        "enabled: yes\nlog_level: info\nuplinks: none\n"
    );
}

#[test]
fn from_uci_reads_files_and_names_unreadable_ones() {
    let dir = std::env::temp_dir().join(format!("ndpresponder-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ndpresponder");
    std::fs::write(&path, WAN).unwrap();
    let loaded = from_uci(&path).unwrap();
    assert_eq!(
        loaded.config.uplinks[0].prefixes[0].addr(),
        "2001:db8:1::".parse::<Ipv6Addr>().unwrap()
    );
    let missing = dir.join("absent");
    let err = from_uci(&missing).unwrap_err();
    assert_eq!(err.errors.len(), 1);
    assert_eq!(err.errors[0].file, missing.display().to_string());
    assert_eq!(err.errors[0].line, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hostile_files_never_panic() {
    // Mutations of a full config: any outcome is fine except a panic.
    let base = format!(
        "config ndpresponder 'main'\n\toption log_level 'info'\n{WAN}\tlist exclude '2001:db8:1::/65'\n"
    );
    let mut state = 0x1234_5678_9abc_def1u64;
    for _ in 0..2000 {
        let mut bytes = base.clone().into_bytes();
        for _ in 0..3 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let i = (state as usize) % bytes.len();
            bytes[i] = (state >> 40) as u8;
        }
        let _ = from_uci_text(FILE, &bytes);
    }
}

#[test]
fn shipped_default_file_loads_cleanly() {
    // What the package installs as /etc/config/ndpresponder: valid, no warnings, and with
    // its only uplink disabled until the user fills it in.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/files/etc/config/ndpresponder");
    let loaded = from_uci(Path::new(path)).unwrap();
    assert!(loaded.config.enabled);
    assert!(loaded.config.uplinks.is_empty());
    let unexpected: Vec<String> = loaded
        .warnings
        .iter()
        .map(|w| w.to_string())
        .filter(|w| !w.contains("no enabled 'uplink' section"))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
}

#[test]
fn prefix_from_names_netifd_interfaces() {
    use Kind::{Error as E, Warning as W};
    let only = "config uplink 'wan'\n\toption device 'eth0'\n\tlist prefix_from 'lan'\n\
                \tlist prefix_from 'wan_6 guest'\n";
    let c = from_uci_text(FILE, only.as_bytes()).unwrap().config;
    assert_eq!(c.uplinks[0].prefix_from, ["lan", "wan_6", "guest"]);
    assert!(c.uplinks[0].prefixes.is_empty());
    // The ranges come at run time: an exclude cannot be checked against them here.
    check(
        "exclude with prefix_from only",
        &format!("{only}\tlist exclude '2001:db8::/64'\n"),
        &[],
    );
    check(
        "neither prefix nor prefix_from",
        "config uplink 'wan'\n\toption device 'eth0'\n",
        &[(
            E,
            1,
            Some("wan"),
            Some("prefix"),
            "or 'prefix_from' naming netifd interfaces",
        )],
    );
    check(
        "bad name",
        &format!("{WAN}\tlist prefix_from 'lan/1'\n"),
        &[(
            E,
            4,
            Some("wan"),
            Some("prefix_from"),
            "'lan/1' is not a netifd",
        )],
    );
    check(
        "twice",
        &format!("{WAN}\tlist prefix_from 'lan'\n\tlist prefix_from 'lan'\n"),
        &[(
            W,
            5,
            Some("wan"),
            Some("prefix_from"),
            "'lan' is listed twice",
        )],
    );
}
