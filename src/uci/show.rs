//! `uci show <package>` output (openwrt/uci `cli.c`, `uci_show_package`).

use super::{Package, Value};

/// Renders `pkg` exactly as `uci show <package_name>` prints it: `pkg.sec=type`, then
/// `pkg.sec.opt='value'` per option, list items quoted and space-separated.
pub fn show(package_name: &str, pkg: &Package) -> String {
    let mut out = String::new();
    for (section, reference) in pkg.sections.iter().zip(section_references(pkg)) {
        out.push_str(&format!(
            "{package_name}.{reference}={}\n",
            section.section_type
        ));
        for option in &section.options {
            out.push_str(&format!("{package_name}.{reference}.{}=", option.name));
            match &option.value {
                Value::Single(v) => push_quoted(&mut out, v),
                Value::List(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push(' ');
                        }
                        push_quoted(&mut out, item);
                    }
                }
            }
            out.push('\n');
        }
    }
    out
}

/// How `uci show` names each section: its name, or `@type[N]` when anonymous, where N
/// counts every section of that type before it, named ones included (cli.c
/// `uci_lookup_section_ref`). Also how diagnostics name sections.
pub fn section_references(pkg: &Package) -> Vec<String> {
    let mut seen_types: Vec<(&str, usize)> = Vec::new();
    pkg.sections
        .iter()
        .map(|section| {
            let index = match seen_types
                .iter_mut()
                .find(|(t, _)| *t == section.section_type)
            {
                Some((_, count)) => {
                    *count += 1;
                    *count - 1
                }
                None => {
                    seen_types.push((&section.section_type, 1));
                    0
                }
            };
            if section.anonymous {
                format!("@{}[{}]", section.section_type, index)
            } else {
                section.name.clone()
            }
        })
        .collect()
}

/// cli.c `uci_print_value`: single quotes, an embedded `'` written as `'\''`.
fn push_quoted(out: &mut String, value: &str) {
    out.push('\'');
    out.push_str(&value.replace('\'', "'\\''"));
    out.push('\'');
}
