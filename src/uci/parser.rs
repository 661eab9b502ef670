//! The UCI file grammar, modelled on libuci's parser (openwrt/uci `file.c`, `list.c`,
//! `util.c`).
//!
//! libuci does not tokenize: it reads one line into a buffer with `fgets`, then walks it
//! in place, compacting unquoted/quoted pieces towards the front and writing NUL bytes
//! where `strtok`, `#`, `;` and token ends fall. Several of its observable quirks come
//! from exactly that (an unquoted value directly followed by `;` hides the rest of the
//! line; error byte offsets count from the start of the first line of a multi-line
//! value; `option` alone on a line is an "invalid command" because `strtok` only splits
//! on space and tab). To agree with it byte for byte, this module keeps the same buffer
//! model: a byte vector where every index at or past its end reads as NUL, a read
//! position, and the same growth rule (32 bytes, doubled), because with NUL bytes in the
//! input, `fgets` chunk boundaries decide what survives.

use super::{Package, ParseError, Section, UciOption, Value};

/// libuci `LINEBUF`: the initial line buffer size.
const LINE_BUFFER_START: usize = 32;

/// Parses one UCI file the way `uci_load` does in its default strict mode (a package
/// line is checked and ignored, as when a single named file is loaded).
pub fn parse(text: &[u8]) -> Result<Package, ParseError> {
    let mut parser = Parser {
        line: LineBuffer::new(text),
        package: Package::default(),
        current: None,
        allocated_sections: 0,
    };
    while !parser.line.eof {
        parser.line.pos = 0;
        parser.line.read_line(0);
        if parser.line.at(0) != 0 {
            parser.parse_line()?;
        }
    }
    Ok(parser.package)
}

/// The libuci `uci_parse_context` line buffer and the `FILE` behind it.
struct LineBuffer<'a> {
    input: &'a [u8],
    /// Read position in `input` (the `FILE` offset).
    next: usize,
    /// `feof()`: a read hit the end of input.
    eof: bool,
    /// The bytes of the C buffer written so far (zero-filled up to the highest one); reads
    /// past its end see NUL, as C reads of the zeroed tail would.
    buf: Vec<u8>,
    /// libuci's `bufsz`: how large the C buffer is, which decides how much each `fgets`
    /// may read. Kept apart from `buf`, because libuci doubles it once per piece read
    /// and a line with a NUL byte stops `strlen` short, so every later line is another
    /// doubling: about 30 such lines would make it allocate gigabytes (found by the
    /// `config` fuzz target). Only `buf` is allocated, as long as what was written.
    bufsz: usize,
    /// `buf_filled`: where the last read line ends.
    filled: usize,
    /// Parse position in `buf`.
    pos: usize,
    /// libuci's line counter: newline-terminated lines read so far.
    line: usize,
    /// Newlines in `input[..next]`, to know the physical line of what is read next.
    newlines_read: usize,
    /// `(buffer offset, physical line)` for each piece read into the current logical
    /// line, to give sections and options their real line numbers.
    pieces: Vec<(usize, usize)>,
}

impl<'a> LineBuffer<'a> {
    fn new(input: &'a [u8]) -> Self {
        LineBuffer {
            input,
            next: 0,
            eof: false,
            buf: Vec::new(),
            bufsz: LINE_BUFFER_START,
            filled: 0,
            pos: 0,
            line: 0,
            newlines_read: 0,
            pieces: Vec::new(),
        }
    }

    /// The byte at `i`; a C string reads NUL past its end.
    fn at(&self, i: usize) -> u8 {
        self.buf.get(i).copied().unwrap_or(0)
    }

    fn cur(&self) -> u8 {
        self.at(self.pos)
    }

    fn put(&mut self, i: usize, b: u8) {
        if i >= self.bufsz {
            return;
        }
        if i >= self.buf.len() {
            self.buf.resize(i + 1, 0);
        }
        self.buf[i] = b;
    }

    /// `strlen` of the C string starting at `i`.
    fn c_strlen(&self, i: usize) -> usize {
        self.buf.get(i..).map_or(0, |rest| {
            rest.iter().position(|&b| b == 0).unwrap_or(rest.len())
        })
    }

    /// The C string at `i`, as text (values may hold any byte; invalid UTF-8 is
    /// replaced, names and types are ASCII by validation).
    fn c_string(&self, i: usize) -> String {
        let len = self.c_strlen(i);
        match self.buf.get(i..i + len) {
            Some(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            None => String::new(),
        }
    }

    fn grow(&mut self) {
        self.bufsz = self.bufsz.saturating_mul(2);
    }

    /// `fgets(&buf[ofs], bufsz - ofs, file)`: reads up to `bufsz - ofs - 1` bytes,
    /// stopping after a newline, and NUL-terminates. Returns how many bytes were stored,
    /// or `None` when nothing could be read.
    fn fgets(&mut self, ofs: usize) -> Option<usize> {
        let room = self.bufsz.saturating_sub(ofs + 1);
        let rest = self.input.get(self.next..).unwrap_or(&[]);
        let mut take = 0;
        let mut hit_newline = false;
        while take < room && take < rest.len() {
            let b = rest[take];
            take += 1;
            if b == b'\n' {
                hit_newline = true;
                break;
            }
        }
        if !hit_newline && take < room {
            // Stopped for lack of input, not for lack of room.
            self.eof = true;
        }
        if take == 0 {
            return None;
        }
        let chunk = &rest[..take];
        self.newlines_read += chunk.iter().filter(|&&b| b == b'\n').count();
        if self.buf.len() < ofs + take + 1 {
            self.buf.resize(ofs + take + 1, 0);
        }
        self.buf[ofs..ofs + take].copy_from_slice(chunk);
        self.buf[ofs + take] = 0;
        self.next += take;
        Some(take)
    }

    /// libuci `uci_getln`: reads the next line into the buffer at `offset` (0 for a
    /// new logical line, the current position to continue one).
    fn read_line(&mut self, offset: usize) {
        if offset == 0 {
            self.pieces.clear();
        }
        if offset + 1 >= self.bufsz {
            self.grow();
        }
        self.pieces.push((offset, self.newlines_read + 1));
        let mut ofs = offset;
        loop {
            self.put(ofs, 0);
            if self.fgets(ofs).is_none() || self.at(ofs) == 0 {
                return;
            }
            ofs += self.c_strlen(ofs);
            self.filled = ofs;
            if self.at(ofs - 1) == b'\n' {
                self.line += 1;
                return;
            }
            self.grow();
        }
    }

    /// Physical (1-based) line of buffer position `i` of the current logical line.
    fn physical_line(&self, i: usize) -> usize {
        self.pieces
            .iter()
            .rev()
            .find(|(start, _)| *start <= i)
            .map_or(self.newlines_read + 1, |(_, line)| *line)
    }

    fn error(&self, reason: &'static str) -> ParseError {
        ParseError {
            line: self.line,
            byte: self.pos,
            reason,
        }
    }

    /// `skip_whitespace`: C `isspace`, so CR, VT and FF too.
    fn skip_whitespace(&mut self) {
        while is_c_space(self.cur()) {
            self.pos += 1;
        }
    }

    /// `uci_increase_pos`: steps over the command word that `strtok` terminated.
    fn step_over_command(&mut self, missing: &'static str) -> Result<(), ParseError> {
        let add = self.c_strlen(self.pos) + 1;
        if self.pos + add > self.filled {
            return Err(self.error(missing));
        }
        self.pos += add;
        Ok(())
    }

    /// `addc`: moves one byte from the parse position down to the output position.
    fn copy_byte(&mut self, target: &mut usize) {
        let b = self.cur();
        self.put(*target, b);
        *target += 1;
        self.pos += 1;
    }

    /// `parse_backslash`: skips the backslash; at the end of a line it fetches the next
    /// one and reports that nothing is to be copied. No C escapes are decoded: the next
    /// byte is kept as is (file.c has a FIXME about this).
    fn backslash_keeps_next(&mut self) -> bool {
        self.pos += 1;
        let c = self.cur();
        let crlf_end = c == b'\r' && self.at(self.pos + 1) == b'\n' && self.at(self.pos + 2) == 0;
        if c == 0 || c == b'\n' || crlf_end {
            self.read_line(self.pos);
            return false;
        }
        true
    }

    /// `parse_double_quote`: backslash keeps the next byte; newlines stay in the value.
    fn double_quoted(&mut self, target: &mut usize) -> Result<(), ParseError> {
        self.pos += 1;
        loop {
            match self.cur() {
                b'"' => {
                    self.pos += 1;
                    return Ok(());
                }
                0 => {
                    self.read_line(self.pos);
                    if self.cur() == 0 {
                        return Err(self.error("EOF with unterminated \""));
                    }
                }
                b'\\' => {
                    if self.backslash_keeps_next() {
                        self.copy_byte(target);
                    }
                }
                _ => self.copy_byte(target),
            }
        }
    }

    /// `parse_single_quote`: fully literal up to the next `'`, across lines.
    fn single_quoted(&mut self, target: &mut usize) -> Result<(), ParseError> {
        self.pos += 1;
        loop {
            match self.cur() {
                b'\'' => {
                    self.pos += 1;
                    return Ok(());
                }
                0 => {
                    self.read_line(self.pos);
                    if self.cur() == 0 {
                        return Err(self.error("EOF with unterminated '"));
                    }
                }
                _ => self.copy_byte(target),
            }
        }
    }

    /// `parse_str`: one argument made of adjacent unquoted, '…' and "…" pieces, written
    /// in place from `target` and NUL-terminated there.
    fn argument_pieces(&mut self, target: &mut usize) -> Result<(), ParseError> {
        let mut step_over_end = true;
        loop {
            match self.cur() {
                b'\'' => self.single_quoted(target)?,
                b'"' => self.double_quoted(target)?,
                b'#' => {
                    // A comment, even glued to a token: the line ends here.
                    self.put(self.pos, 0);
                    break;
                }
                0 => break,
                b';' => {
                    // Ends the command; left in place for `assert_eol` to consume.
                    step_over_end = false;
                    break;
                }
                b'\\' => {
                    if self.backslash_keeps_next() {
                        self.copy_byte(target);
                    }
                }
                _ => self.copy_byte(target),
            }
            let c = self.cur();
            if c == 0 || is_c_space(c) {
                break;
            }
        }
        if self.cur() != 0 && step_over_end {
            self.pos += 1;
        }
        self.put(*target, 0);
        Ok(())
    }

    /// `next_arg`: the start of the next argument (empty string when there is none).
    fn next_arg(&mut self, required: bool, check: NameCheck) -> Result<usize, ParseError> {
        self.skip_whitespace();
        let start = self.pos;
        let mut target = start;
        if self.cur() == b';' {
            self.put(self.pos, 0);
            self.pos += 1;
        } else {
            self.argument_pieces(&mut target)?;
        }
        if self.at(start) == 0 {
            if required {
                return Err(self.error("insufficient arguments"));
            }
            return Ok(start);
        }
        let len = self.c_strlen(start);
        let valid = match check {
            NameCheck::None => true,
            NameCheck::Name => valid_name(&self.buf[start..start + len], false),
            NameCheck::Package => valid_name(&self.buf[start..start + len], true),
        };
        if !valid {
            return Err(self.error("invalid character in name field"));
        }
        Ok(start)
    }

    /// `assert_eol`: strict mode allows nothing after the last argument.
    fn assert_end_of_command(&mut self) -> Result<(), ParseError> {
        self.skip_whitespace();
        let extra = self.next_arg(false, NameCheck::None)?;
        if self.at(extra) != 0 {
            return Err(self.error("too many arguments"));
        }
        Ok(())
    }

    /// `strtok(cur, " \t")`: skips spaces and tabs (only those), NUL-terminates the
    /// word at the next one. Returns the word's bounds, or `None` at end of string.
    fn command_word(&mut self) -> Option<(usize, usize)> {
        let mut start = self.pos;
        while matches!(self.at(start), b' ' | b'\t') {
            start += 1;
        }
        if self.at(start) == 0 {
            return None;
        }
        let mut end = start;
        while !matches!(self.at(end), 0 | b' ' | b'\t') {
            end += 1;
        }
        self.put(end, 0);
        Some((start, end))
    }
}

#[derive(Clone, Copy)]
enum NameCheck {
    None,
    Name,
    Package,
}

#[derive(Clone, Copy)]
enum Command {
    Package,
    Config,
    Option,
    List,
}

/// The parse state around the buffer: the package being built and the open section.
struct Parser<'a> {
    line: LineBuffer<'a>,
    package: Package,
    /// Index of the section that `option`/`list` lines go to.
    current: Option<usize>,
    /// libuci `n_section`: sections allocated so far, the XX in `cfgXXYYYY`.
    allocated_sections: usize,
}

impl Parser<'_> {
    /// `uci_parse_line`: one or more `;`-separated commands.
    fn parse_line(&mut self) -> Result<(), ParseError> {
        self.line.skip_whitespace();
        loop {
            let Some((start, end)) = self.line.command_word() else {
                return Ok(());
            };
            let word = &self.line.buf[start..end];
            if word[0] == b'#' {
                return Ok(());
            }
            let command = match word {
                b"p" | b"package" => Command::Package,
                b"c" | b"config" => Command::Config,
                b"o" | b"option" => Command::Option,
                b"l" | b"list" => Command::List,
                _ => return Err(self.line.error("invalid command")),
            };
            let physical_line = self.line.physical_line(start);
            match command {
                Command::Package => self.package_statement()?,
                Command::Config => self.config_statement(physical_line)?,
                Command::Option => self.option_statement(false, physical_line)?,
                Command::List => self.option_statement(true, physical_line)?,
            }
        }
    }

    /// `uci_parse_package` for a single-file load: the name is checked, then ignored.
    fn package_statement(&mut self) -> Result<(), ParseError> {
        self.line.step_over_command("package without name")?;
        self.line.next_arg(true, NameCheck::Package)?;
        self.line.assert_end_of_command()
    }

    /// `uci_parse_config`: opens a section, or re-opens a named one of the same type.
    fn config_statement(&mut self, physical_line: usize) -> Result<(), ParseError> {
        self.line.step_over_command("config without name")?;
        let type_at = self.line.next_arg(true, NameCheck::None)?;
        let section_type = self.line.c_string(type_at);
        if !valid_type(section_type.as_bytes()) {
            return Err(self.line.error("invalid character in type field"));
        }
        let name_at = self.line.next_arg(false, NameCheck::Name)?;
        self.line.assert_end_of_command()?;
        let name = self.line.c_string(name_at);

        if name.is_empty() {
            self.allocated_sections += 1;
            let generated = format!(
                "cfg{:02x}{:04x}",
                self.allocated_sections,
                djb_hash(section_type.as_bytes()) & 0xffff
            );
            self.open_new_section(generated, true, section_type, physical_line);
            return Ok(());
        }
        // Generated names count too: libuci looks sections up by `e.name`.
        match self.package.sections.iter().position(|s| s.name == name) {
            Some(existing) => {
                if self.package.sections[existing].section_type != section_type {
                    return Err(self.line.error(
                        "section of different type overwrites prior section with same name",
                    ));
                }
                self.current = Some(existing);
            }
            None => {
                self.allocated_sections += 1;
                self.open_new_section(name, false, section_type, physical_line);
            }
        }
        Ok(())
    }

    fn open_new_section(
        &mut self,
        name: String,
        anonymous: bool,
        section_type: String,
        line: usize,
    ) {
        self.package.sections.push(Section {
            name,
            anonymous,
            section_type,
            line,
            options: Vec::new(),
        });
        self.current = Some(self.package.sections.len() - 1);
    }

    /// `uci_parse_option`: `uci_set` for `option`, `uci_add_list` for `list`.
    fn option_statement(&mut self, list: bool, physical_line: usize) -> Result<(), ParseError> {
        let Some(section_index) = self.current else {
            return Err(self
                .line
                .error("option/list command found before the first section"));
        };
        self.line.step_over_command("option without name")?;
        let name_at = self.line.next_arg(true, NameCheck::Name)?;
        let value_at = self.line.next_arg(false, NameCheck::None)?;
        self.line.assert_end_of_command()?;
        let name = self.line.c_string(name_at);
        let value = self.line.c_string(value_at);

        let Some(section) = self.package.sections.get_mut(section_index) else {
            return Ok(());
        };
        let existing = section.options.iter_mut().find(|o| o.name == name);
        match (existing, list) {
            (Some(option), true) => {
                // A string becomes a list whose first item is the old value.
                let items = match std::mem::replace(&mut option.value, Value::List(Vec::new())) {
                    Value::Single(old) => vec![old, value],
                    Value::List(mut items) => {
                        items.push(value);
                        items
                    }
                };
                option.value = Value::List(items);
                option.line = physical_line;
            }
            (None, true) => section.options.push(UciOption {
                name,
                value: Value::List(vec![value]),
                line: physical_line,
            }),
            // `uci_set` with an empty value on a parsed file changes nothing: it neither
            // creates nor deletes the option (the lookup is not "complete").
            (_, false) if value.is_empty() => {}
            // Current uci replaces a re-set option in place (uci 2021 moved it last).
            (Some(option), false) => {
                option.value = Value::Single(value);
                option.line = physical_line;
            }
            (None, false) => section.options.push(UciOption {
                name,
                value: Value::Single(value),
                line: physical_line,
            }),
        }
        Ok(())
    }
}

/// C `isspace` in the C locale.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// `uci_validate_name` / `uci_validate_package` (util.c `uci_validate_str`):
/// `[A-Za-z0-9_]`, plus `-` in package names.
fn valid_name(s: &[u8], package: bool) -> bool {
    !s.is_empty()
        && s.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || (package && c == b'-'))
}

/// `uci_validate_type`: printable ASCII without the space.
fn valid_type(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&c| (33..=126).contains(&c))
}

/// list.c `djbhash` seeded with 5381 over the type alone: the options are not yet
/// known when a parsed anonymous section is named.
fn djb_hash(s: &[u8]) -> u32 {
    s.iter().fold(5381u32, |h, &c| {
        h.wrapping_shl(5).wrapping_add(h).wrapping_add(u32::from(c))
    }) & 0x7fff_ffff
}

#[cfg(test)]
mod unit {
    use super::*;

    /// Found by the `config` fuzz target (a 7 KiB file that made the parser allocate 1 GiB).
    /// A NUL byte ends libuci's `strlen` before the newline, so the next line is read onto
    /// the same logical line and libuci doubles `bufsz` again: once per line. 64 such lines
    /// asked for 2^69 bytes; now only what was read is stored, and the lines still glue
    /// together as in libuci.
    #[test]
    fn fuzz_lines_with_nul_bytes_do_not_double_the_buffer_each() {
        let mut text = b"config t 'n'\n".to_vec();
        for _ in 0..64 {
            text.extend_from_slice(b"option a\0ignored\n");
        }
        let err = parse(&text).unwrap_err();
        assert_eq!((err.line, err.reason), (1, "too many arguments"), "{err:?}");
        let pkg = parse(b"config t 'n'\noption a x\0ignored\ny\n").unwrap();
        let value = &pkg.sections[0].option("a").unwrap().value;
        assert_eq!(*value, Value::Single("xy".to_string()));
    }

    #[test]
    fn anonymous_name_hash_matches_libuci() {
        // From the corpus: `interface` gives 6d96, `rule` gives 92bd.
        assert_eq!(djb_hash(b"interface") & 0xffff, 0x6d96);
        assert_eq!(djb_hash(b"rule") & 0xffff, 0x92bd);
    }

    #[test]
    fn unquoted_value_before_semicolon_hides_rest_of_line() {
        // The token's terminating NUL lands on the `;` itself (no compaction happened),
        // so libuci never sees the second command.
        let pkg = parse(b"config t 'n'\noption a 1; option b 2\n").unwrap();
        assert_eq!(pkg.sections[0].options.len(), 1);
        let pkg = parse(b"config t 'n'\noption a 1 ; option b 2\n").unwrap();
        assert_eq!(pkg.sections[0].options.len(), 2);
    }

    #[test]
    fn semicolon_then_newline_is_an_invalid_command() {
        // After `;` strtok only skips space and tab, so it returns "\n" as a word.
        let err = parse(b"config t 'n'; \n").unwrap_err();
        assert_eq!(err.reason, "invalid command");
        assert_eq!((err.line, err.byte), (1, 13));
    }

    #[test]
    fn keyword_at_end_of_file_lacks_its_name() {
        let err = parse(b"config t\noption").unwrap_err();
        assert_eq!(err.reason, "option without name");
        // The last line has no newline, so libuci's counter still says 1.
        assert_eq!((err.line, err.byte), (1, 0));
    }

    #[test]
    fn continuation_line_starting_with_space_ends_the_token() {
        let pkg = parse(b"config t n\noption a x\\\n y\n").unwrap_err();
        assert_eq!(pkg.reason, "too many arguments");
        let pkg = parse(b"config t n\noption a x\\\ny\n").unwrap();
        assert_eq!(
            pkg.sections[0].options[0].value,
            Value::Single("xy".to_string())
        );
    }

    #[test]
    fn lines_are_physical_lines() {
        let pkg =
            parse(b"\n# c\nconfig t 'a'\n\toption v 'x\ny'; option w 1\n\nlist l 1\n").unwrap();
        let s = &pkg.sections[0];
        assert_eq!(s.line, 3);
        let lines: Vec<_> = s
            .options
            .iter()
            .map(|o| (o.name.as_str(), o.line))
            .collect();
        assert_eq!(lines, [("v", 4), ("w", 5), ("l", 7)]);
    }

    #[test]
    fn empty_option_value_keeps_an_existing_option() {
        let pkg = parse(b"config t n\noption a x\noption a ''\n").unwrap();
        assert_eq!(
            pkg.sections[0].options[0].value,
            Value::Single("x".to_string())
        );
    }

    #[test]
    fn named_section_can_reopen_anonymous_one_by_generated_name() {
        let pkg = parse(b"config t\noption a 1\nconfig t cfg01b619\noption b 2\n").unwrap();
        assert_eq!(pkg.sections.len(), 1, "{pkg:?}");
        assert!(pkg.sections[0].anonymous);
        assert_eq!(pkg.sections[0].options.len(), 2);
    }
}
