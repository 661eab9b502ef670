//! Command-line flags. Hand-rolled (getopt style, as OpenWrt daemons are) to keep the
//! router binary small; every mistake is a one-line error naming the flag and value.

use crate::config::{schema, values};
use crate::config::{Config, HostsMode, RangeOrigin, RateLimit, UplinkConfig};
use ipnet::Ipv6Net;
use std::path::{Path, PathBuf};

pub const DEFAULT_CONFIG_DIR: &str = "/etc/config";
pub const DEFAULT_UBUS_SOCKET: &str = "/var/run/ubus/ubus.sock";
/// uci reads a package from here instead of /etc/config when it exists (openwrt/uci
/// commit fb3c234, 2025): a runtime override that tools may write.
pub const UCI_OVERRIDE_DIR: &str = "/var/run/uci";
const PACKAGE: &str = "ndpresponder";

/// The file to read for UCI directory `dir`: as uci itself does, the override directory
/// wins for the default directory; an explicit `-c DIR` is taken as given.
pub fn uci_file(dir: &Path, override_dir: &Path) -> PathBuf {
    let runtime = override_dir.join(PACKAGE);
    if dir == Path::new(DEFAULT_CONFIG_DIR) && runtime.is_file() {
        runtime
    } else {
        dir.join(PACKAGE)
    }
}

/// The help text; the defaults it names are the schema's.
pub fn usage() -> String {
    let on_off = |b: bool| if b { "on" } else { "off" };
    let source = values::word_for(&values::SOURCE_POLICIES, &schema::SOURCE);
    let router = on_off(schema::ROUTER);
    let override_flag = on_off(schema::OVERRIDE);
    let (rate, source_rate) = (schema::RATE_LIMIT, schema::SOURCE_RATE_LIMIT);
    let hosts_word = |o: RangeOrigin| values::word_for(&values::HOSTS_MODES, &o.default_hosts());
    let (hosts_static, hosts_routed) = (
        hosts_word(RangeOrigin::Static),
        hosts_word(RangeOrigin::Route),
    );
    format!(
        "\
Usage: ndpresponder [OPTIONS]            run from UCI (/etc/config/ndpresponder)
       ndpresponder -i IFACE -n PREFIX|--downstream DEV [OPTIONS]
                                          run from command-line rules
       ndpresponder check [-c DIR]        validate and print the UCI configuration

Answers IPv6 Neighbor Solicitations on the uplink(s) for addresses in the given prefixes,
with Neighbor Advertisements whose IPv6 source is the target address itself.

Command-line rules (apply to every -i):
  -i, --interface IFACE     uplink device to answer on (repeatable)
  -n, --prefix PREFIX       IPv6 prefix to answer for, e.g. 2001:db8:1:2::/112;
                            a bare address means /128 (repeatable)
  -x, --exclude PREFIX      never answer inside this prefix (repeatable)
      --downstream DEV      also answer for targets whose route in the main table leaves
                            through DEV (br-lan, docker0) and not through the uplink;
                            followed live from the kernel (repeatable)
      --hosts MODE          any: every address of a range; known: only hosts with a
                            neighbour entry on a downstream device; probe: as known, and
                            an unknown target is probed there and answered if it exists;
                            default: {hosts_static} for -n prefixes, {hosts_routed} for routed ranges
      --announce            when a host appears on a downstream device in a range, send
                            an unsolicited NA for it on the uplink and an NS from it to
                            the default router, so the router learns it at once; all
                            hosts again when the uplink comes back or the ranges change
      --source POLICY       NA source address: target, link-local, or auto (default {source})
                            (link-local when the NS came from a link-local address)
      --router on|off       NA Router flag (default {router})
      --override on|off     NA Override flag (default {override_flag}, RFC 4861 section 7.2.8)
      --rate-limit N        at most N answers per second per uplink (0 = off, default {rate})
      --source-rate-limit N at most N answers per second to one source (0 = off, default {source_rate})

UCI mode:
  -c, --config-dir DIR      read DIR/ndpresponder instead of /etc/config/ndpresponder

Common:
  -s, --ubus-socket PATH    ubus socket (default {DEFAULT_UBUS_SOCKET})
  -u, --no-ubus             do not register on ubus
  -f, --foreground          log to stderr instead of syslog (never forks either way)
  -v, --verbose             log every decision with its reason
  -h, --help                show this help
      --version             print the version

Signals: SIGHUP reloads the UCI file, SIGUSR1 logs the counters, SIGTERM/SIGINT exit.
"
    )
}

/// Where the rules come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Fixed rules from flags.
    Flags(Config),
    /// A UCI config directory, re-read on reload.
    Uci(PathBuf),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOptions {
    pub source: Source,
    pub ubus_socket: Option<PathBuf>,
    pub foreground: bool,
    pub verbose: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Run(RunOptions),
    Check { config_dir: PathBuf },
    Help,
    Version,
}

/// A usage error: printed as one line, exit status 2.
#[derive(Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

fn value<'a>(
    flag: &str,
    inline: Option<&'a str>,
    rest: &mut impl Iterator<Item = &'a str>,
) -> Result<&'a str, UsageError> {
    inline
        .or_else(|| rest.next())
        .ok_or_else(|| UsageError(format!("option '{flag}' needs a value")))
}

/// Prefixes this into a usage error naming the flag: "-n: '10.0.0.0/8' is IPv4; ...".
fn named<T>(flag: &str, r: Result<T, String>) -> Result<T, UsageError> {
    r.map_err(|why| UsageError(format!("{flag}: {why}")))
}

fn prefix(flag: &str, v: &str) -> Result<Ipv6Net, UsageError> {
    named(flag, values::ipv6_prefix(v)).map(|p| p.net)
}

fn rate(flag: &str, v: &str) -> Result<RateLimit, UsageError> {
    named(flag, values::rate(v)).map(schema::rate_limit)
}

/// Flags that define command-line rules (and so make no sense with UCI).
fn is_rule_flag(flag: &str) -> bool {
    matches!(
        flag,
        "-i" | "--interface"
            | "-n"
            | "--prefix"
            | "-x"
            | "--exclude"
            | "--source"
            | "--router"
            | "--override"
            | "--rate-limit"
            | "--source-rate-limit"
            | "--downstream"
            | "--hosts"
            | "--announce"
    )
}

/// Parses the arguments after the program name.
pub fn parse<'a>(args: impl IntoIterator<Item = &'a str>) -> Result<Command, UsageError> {
    let mut args = args.into_iter().peekable();
    let check = args.peek() == Some(&"check");
    if check {
        args.next();
    }
    let mut devices: Vec<String> = Vec::new();
    let mut prefixes = Vec::new();
    let mut excludes = Vec::new();
    let mut downstreams: Vec<String> = Vec::new();
    let mut hosts: Option<HostsMode> = None;
    let mut announce = false;
    let mut source = schema::SOURCE;
    let mut router = schema::ROUTER;
    let mut override_flag = schema::OVERRIDE;
    let mut rate_limit = schema::rate_limit(schema::RATE_LIMIT);
    let mut source_rate_limit = schema::rate_limit(schema::SOURCE_RATE_LIMIT);
    let mut config_dir: Option<PathBuf> = None;
    let mut ubus_socket = Some(PathBuf::from(DEFAULT_UBUS_SOCKET));
    let mut foreground = false;
    let mut verbose = false;
    let mut rule_flag_seen: Option<String> = None;

    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (arg, None),
        };
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "--version" => return Ok(Command::Version),
            "-f" | "--foreground" => foreground = true,
            "-v" | "--verbose" => verbose = true,
            "-u" | "--no-ubus" => ubus_socket = None,
            "-i" | "--interface" => {
                let v = value(flag, inline, &mut args)?;
                named(flag, values::device(v))?;
                if !devices.iter().any(|d| d == v) {
                    devices.push(v.to_string());
                }
            }
            "-n" | "--prefix" => prefixes.push(prefix(flag, value(flag, inline, &mut args)?)?),
            "-x" | "--exclude" => excludes.push(prefix(flag, value(flag, inline, &mut args)?)?),
            "--downstream" => {
                let v = value(flag, inline, &mut args)?;
                named(flag, values::device(v))?;
                if !downstreams.iter().any(|d| d == v) {
                    downstreams.push(v.to_string());
                }
            }
            "--announce" => announce = true,
            "--hosts" => {
                hosts = Some(named(
                    flag,
                    values::hosts_mode(value(flag, inline, &mut args)?),
                )?);
            }
            "--source" => {
                source = named(flag, values::source_policy(value(flag, inline, &mut args)?))?;
            }
            "--router" => router = named(flag, values::boolean(value(flag, inline, &mut args)?))?,
            "--override" => {
                override_flag = named(flag, values::boolean(value(flag, inline, &mut args)?))?
            }
            "--rate-limit" => rate_limit = rate(flag, value(flag, inline, &mut args)?)?,
            "--source-rate-limit" => {
                source_rate_limit = rate(flag, value(flag, inline, &mut args)?)?
            }
            "-c" | "--config-dir" => {
                config_dir = Some(PathBuf::from(value(flag, inline, &mut args)?))
            }
            "-s" | "--ubus-socket" => {
                ubus_socket = Some(PathBuf::from(value(flag, inline, &mut args)?))
            }
            other if other.starts_with('-') => {
                return Err(UsageError(format!("unknown option '{other}' (see -h)")))
            }
            other => {
                return Err(UsageError(format!(
                    "unexpected argument '{other}' (see -h)"
                )))
            }
        }
        if is_rule_flag(flag) {
            rule_flag_seen.get_or_insert_with(|| flag.to_string());
        }
    }

    if check {
        if let Some(f) = rule_flag_seen {
            return Err(UsageError(format!(
                "'check' validates the UCI file; {f} does not apply"
            )));
        }
        return Ok(Command::Check {
            config_dir: config_dir.unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_DIR)),
        });
    }

    let source = if devices.is_empty() {
        if let Some(f) = rule_flag_seen {
            return Err(UsageError(format!("{f} needs at least one -i IFACE")));
        }
        Source::Uci(config_dir.unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_DIR)))
    } else {
        if config_dir.is_some() {
            return Err(UsageError(
                "-c and -i exclude each other: rules come from UCI or from flags".into(),
            ));
        }
        if prefixes.is_empty() && downstreams.is_empty() {
            return Err(UsageError(
                "-i needs at least one -n PREFIX or --downstream DEV".into(),
            ));
        }
        if let Some(d) = downstreams.iter().find(|d| devices.contains(d)) {
            return Err(UsageError(format!(
                "--downstream {d} is also an uplink (-i): a route out of the uplink is never answered for"
            )));
        }
        if announce && downstreams.is_empty() {
            return Err(UsageError(
                "--announce needs at least one --downstream DEV whose hosts it announces".into(),
            ));
        }
        if hosts.is_some_and(|h| h != HostsMode::Any) && downstreams.is_empty() {
            return Err(UsageError(
                "--hosts known and probe need at least one --downstream DEV".into(),
            ));
        }
        let uplinks = devices
            .into_iter()
            .map(|device| UplinkConfig {
                prefixes: prefixes.clone(),
                excludes: excludes.clone(),
                downstreams: downstreams.clone(),
                hosts,
                announce,
                source,
                router,
                override_flag,
                rate_limit,
                source_rate_limit,
                ..UplinkConfig::new(device.clone(), device)
            })
            .collect::<Vec<_>>();
        if !prefixes.is_empty()
            && downstreams.is_empty()
            && prefixes
                .iter()
                .all(|p| values::fully_excluded(p, &excludes))
        {
            return Err(UsageError(
                "the -x excludes cover every -n prefix: nothing is left to answer for".into(),
            ));
        }
        Source::Flags(Config {
            uplinks,
            ..Config::default()
        })
    };
    Ok(Command::Run(RunOptions {
        source,
        ubus_socket,
        foreground,
        verbose,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SourcePolicy;

    /// The README shows the help text as the program prints it.
    #[test]
    fn readme_shows_the_usage_text() {
        let readme = include_str!("../README.md");
        assert!(
            readme.contains(&usage()),
            "README.md's usage block differs from usage():\n{}",
            usage()
        );
    }

    fn run(args: &str) -> RunOptions {
        match parse(args.split_whitespace()) {
            Ok(Command::Run(o)) => o,
            other => panic!("{args}: {other:?}"),
        }
    }

    fn err(args: &str) -> String {
        parse(args.split_whitespace()).unwrap_err().0
    }

    #[test]
    fn flags_build_one_uplink_per_interface() {
        let o = run("-i eth0 -i eth1 -n 2001:db8:1:2::/112 -x 2001:db8:1:2::1 -f -v --source=auto --router off --override on");
        let Source::Flags(cfg) = o.source else {
            panic!()
        };
        assert_eq!(cfg.uplinks.len(), 2);
        let u = &cfg.uplinks[1];
        assert_eq!(u.device, "eth1");
        assert_eq!(
            u.prefixes,
            vec!["2001:db8:1:2::/112".parse::<Ipv6Net>().unwrap()]
        );
        assert_eq!(
            u.excludes,
            vec!["2001:db8:1:2::1/128".parse::<Ipv6Net>().unwrap()]
        );
        assert_eq!(u.source, SourcePolicy::Auto);
        assert!(!u.router && u.override_flag);
        assert!(o.foreground && o.verbose);
    }

    #[test]
    fn downstreams_alone_make_a_rule() {
        let o = run("-i eth0 --downstream br-lan --downstream=docker0 --downstream br-lan");
        let Source::Flags(cfg) = o.source else {
            panic!()
        };
        let u = &cfg.uplinks[0];
        assert!(u.prefixes.is_empty());
        assert_eq!(u.downstreams, vec!["br-lan", "docker0"]);
        assert_eq!(u.hosts, None);
        assert!(!u.announce);
        assert_eq!(
            err("-i eth0 -n 2001:db8::/64 --announce"),
            "--announce needs at least one --downstream DEV whose hosts it announces"
        );
        let o = run("-i eth0 --downstream br-lan --hosts any -n 2001:db8::/64 --announce");
        let Source::Flags(cfg) = o.source else {
            panic!()
        };
        assert_eq!(cfg.uplinks[0].hosts, Some(HostsMode::Any));
        assert!(cfg.uplinks[0].announce);
    }

    #[test]
    fn no_interface_means_uci_mode() {
        assert_eq!(run("").source, Source::Uci(PathBuf::from("/etc/config")));
        assert_eq!(
            run("-c /tmp/x -u").source,
            Source::Uci(PathBuf::from("/tmp/x"))
        );
        assert_eq!(run("-u").ubus_socket, None);
    }

    #[test]
    fn override_directory_wins_only_for_the_default_directory() {
        let tmp = std::env::temp_dir().join(format!("ndpr-override-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let etc = Path::new(DEFAULT_CONFIG_DIR);
        assert_eq!(uci_file(etc, &tmp), etc.join("ndpresponder"));
        std::fs::write(tmp.join("ndpresponder"), "").unwrap();
        assert_eq!(uci_file(etc, &tmp), tmp.join("ndpresponder"));
        let other = Path::new("/srv/cfg");
        assert_eq!(uci_file(other, &tmp), other.join("ndpresponder"));
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn subcommands_and_info_flags() {
        assert_eq!(parse(["--version"]), Ok(Command::Version));
        assert_eq!(parse(["-h"]), Ok(Command::Help));
        assert_eq!(
            parse(["check", "-c", "/tmp/c"]),
            Ok(Command::Check {
                config_dir: PathBuf::from("/tmp/c")
            })
        );
    }

    #[test]
    fn mistakes_are_one_clear_line() {
        assert_eq!(err("-z"), "unknown option '-z' (see -h)");
        assert_eq!(
            err("-i eth0 -n 10.0.0.0/8"),
            "-n: '10.0.0.0/8' is IPv4; only IPv6 prefixes can be answered for"
        );
        assert_eq!(
            err("-i eth0"),
            "-i needs at least one -n PREFIX or --downstream DEV"
        );
        assert_eq!(
            err("-i eth0 --downstream eth0"),
            "--downstream eth0 is also an uplink (-i): a route out of the uplink is never answered for"
        );
        assert_eq!(
            err("-i eth0 -n 2001:db8::/64 --hosts known"),
            "--hosts known and probe need at least one --downstream DEV"
        );
        assert_eq!(
            err("-i eth0 --downstream br-lan --hosts some"),
            "--hosts: 'some' is not one of: any, known, probe"
        );
        assert_eq!(
            err("--downstream br-lan"),
            "--downstream needs at least one -i IFACE"
        );
        assert_eq!(err("-n 2001:db8::/64"), "-n needs at least one -i IFACE");
        assert_eq!(
            err("-i eth0 -n 2001:db8::/64 -c /etc/config"),
            "-c and -i exclude each other: rules come from UCI or from flags"
        );
        assert_eq!(err("-i"), "option '-i' needs a value");
        assert_eq!(
            err("-i eth0 -n 2001:db8::/64 --source x"),
            "--source: 'x' is not one of: target, link-local, auto"
        );
        assert_eq!(
            err("-i eth0 -n 2001:db8::/64 -x 2001:db8::/65 -x 2001:db8:0:0:8000::/65"),
            "the -x excludes cover every -n prefix: nothing is left to answer for"
        );
        assert_eq!(
            err("-i eth0/1 -n 2001:db8::/64"),
            "-i: device name 'eth0/1' contains '/', ':' or whitespace"
        );
        assert_eq!(
            err("-i eth0 -n 2001:db8::/64 --router maybe")
                .split(':')
                .next(),
            Some("--router")
        );
        assert_eq!(
            err("check -i eth0"),
            "'check' validates the UCI file; -i does not apply"
        );
    }
}
