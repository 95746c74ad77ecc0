//! Tokens of CQL2 text, each with its byte offset. A loop over the bytes: no recursion, and the token
//! list is at most as long as the text, which `parse` bounds before lexing.

use super::{Limit, ParseError, MAX_LITERAL_BYTES};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// An unquoted word: a keyword, function name or property name (case kept).
    Word(String),
    /// A double-quoted property name.
    Quoted(String),
    Str(String),
    Num(f64),
    LParen,
    RParen,
    Comma,
    Op(&'static str),
    Eof,
}

impl Tok {
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("`{}`", short(w)),
            Tok::Quoted(w) => format!("property \"{}\"", short(w)),
            Tok::Str(s) => format!("string '{}'", short(s)),
            Tok::Num(n) => format!("number {n}"),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Op(o) => format!("`{o}`"),
            Tok::Eof => "end of filter".into(),
        }
    }
}

/// Long literals are cut in messages, which the server echoes back.
fn short(s: &str) -> String {
    const MAX_CHARS: usize = 40;
    match s.char_indices().nth(MAX_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

pub(crate) fn tokenize(text: &str) -> Result<Vec<(usize, Tok)>, ParseError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => {
                out.push((start, Tok::LParen));
                i += 1;
            }
            b')' => {
                out.push((start, Tok::RParen));
                i += 1;
            }
            b',' => {
                out.push((start, Tok::Comma));
                i += 1;
            }
            b'=' => {
                out.push((start, Tok::Op("=")));
                i += 1;
            }
            b'<' | b'>' => {
                let next = bytes.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    (b'<', Some(b'>')) => ("<>", 2),
                    (b'<', Some(b'=')) => ("<=", 2),
                    (b'>', Some(b'=')) => (">=", 2),
                    (b'<', _) => ("<", 1),
                    _ => (">", 1),
                };
                out.push((start, Tok::Op(op)));
                i += len;
            }
            b'\'' => {
                let (s, end) = quoted(text, i, b'\'')?;
                out.push((start, Tok::Str(s)));
                i = end;
            }
            b'"' => {
                let (s, end) = quoted(text, i, b'"')?;
                if s.is_empty() {
                    return Err(ParseError::new(start, "empty property name"));
                }
                out.push((start, Tok::Quoted(s)));
                i = end;
            }
            b'0'..=b'9' | b'.' | b'-' | b'+' => {
                let end = number_end(bytes, i);
                let lit = &text[i..end];
                let n = lit
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| ParseError::new(start, format!("`{lit}` is not a number")))?;
                out.push((start, Tok::Num(n)));
                i = end;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut end = i;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric() || matches!(bytes[end], b'_' | b':' | b'.'))
                {
                    end += 1;
                }
                if end - i > MAX_LITERAL_BYTES {
                    return Err(ParseError::over(start, Limit::LiteralBytes));
                }
                out.push((start, Tok::Word(text[i..end].to_owned())));
                i = end;
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(ParseError::new(start, format!("unexpected character `{ch}`")));
            }
        }
    }
    out.push((text.len(), Tok::Eof));
    Ok(out)
}

/// A literal delimited by `quote` where a doubled quote stands for one; returns it and the end offset.
fn quoted(text: &str, open: usize, quote: u8) -> Result<(String, usize), ParseError> {
    let bytes = text.as_bytes();
    let mut s = String::new();
    let mut i = open + 1;
    let mut run = i;
    loop {
        match bytes.get(i) {
            None => {
                let what = if quote == b'\'' { "string" } else { "quoted property name" };
                return Err(ParseError::new(open, format!("unterminated {what}")));
            }
            Some(&b) if b == quote => {
                s.push_str(&text[run..i]);
                if bytes.get(i + 1) == Some(&quote) {
                    s.push(quote as char);
                    i += 2;
                    run = i;
                } else if s.len() > MAX_LITERAL_BYTES {
                    return Err(ParseError::over(open, Limit::LiteralBytes));
                } else {
                    return Ok((s, i + 1));
                }
            }
            Some(_) => i += 1,
        }
    }
}

fn number_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    if matches!(bytes.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    while let Some(&b) = bytes.get(i) {
        let exp_sign = matches!(b, b'-' | b'+') && matches!(bytes.get(i.wrapping_sub(1)), Some(b'e' | b'E'));
        if b.is_ascii_digit() || b == b'.' || b == b'e' || b == b'E' || exp_sign {
            i += 1;
        } else {
            break;
        }
    }
    i
}
