//! `uci show <package>` output (openwrt/uci `cli.c`, `uci_show_package`).

use super::{Package, Value};

/// Renders `pkg` exactly as `uci show <package_name>` prints it: `pkg.sec=type`, then
/// `pkg.sec.opt='value'` per option, list items quoted and space-separated. Anonymous
/// sections are shown as `@type[N]`, where N counts every section of that type before
/// it, named ones included (cli.c `uci_lookup_section_ref`).
pub fn show(package_name: &str, pkg: &Package) -> String {
    let mut out = String::new();
    let mut seen_types: Vec<(&str, usize)> = Vec::new();
    for section in &pkg.sections {
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
        let reference = if section.anonymous {
            format!("@{}[{}]", section.section_type, index)
        } else {
            section.name.clone()
        };
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

/// cli.c `uci_print_value`: single quotes, an embedded `'` written as `'\''`.
fn push_quoted(out: &mut String, value: &str) {
    out.push('\'');
    out.push_str(&value.replace('\'', "'\\''"));
    out.push('\'');
}
