//! NumPy `.npy` reader (format versions 1, 2 and 3) and writer (version 1)
//! for 2-D float matrices.
//!
//! The reader accepts the dtypes `<f4`, `>f4`, `<f8`, `>f8`, `<f2` and `>f2`
//! (`|`/`=`/no byte-order mark mean little-endian), C or Fortran order, and
//! always returns a row-major `f32` matrix. It never panics and allocates only
//! after checking the claimed sizes against the bytes actually present.

use std::io::{self, Write};

/// A dense matrix of `f32` values in row-major (C) order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyMatrix {
    /// Number of rows (first axis).
    pub rows: usize,
    /// Number of columns (second axis).
    pub cols: usize,
    /// The `rows * cols` values, row after row.
    pub data: Vec<f32>,
}

/// Why a `.npy` file could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum NpyError {
    /// The file does not start with `\x93NUMPY` plus a version and header length.
    #[error("not a .npy file (bad magic: expected \"\\x93NUMPY\", found {found})")]
    BadMagic {
        /// The first bytes of the file, escaped.
        found: String,
    },
    /// The format version is not 1.x, 2.x or 3.x.
    #[error("unsupported .npy format version {major}.{minor} (expected 1.x, 2.x or 3.x)")]
    UnsupportedVersion {
        /// Major version byte.
        major: u8,
        /// Minor version byte.
        minor: u8,
    },
    /// The header length field claims more bytes than the file has.
    #[error("truncated .npy header: the header claims {claimed} bytes but {remaining} remain")]
    TruncatedHeader {
        /// Header length claimed by the file.
        claimed: usize,
        /// Bytes left after the length field.
        remaining: usize,
    },
    /// The header dict could not be parsed.
    #[error(".npy header parse error: {0}")]
    Header(String),
    /// The dtype is not a supported float type.
    #[error("unsupported .npy dtype '{0}' (expected '<f4', '>f4', '<f8', '>f8', '<f2' or '>f2')")]
    UnsupportedDtype(String),
    /// The array does not have exactly two axes.
    #[error("expected a 2-D matrix, found shape {0}")]
    NotTwoDimensional(String),
    /// The shape's byte size does not fit in memory addresses.
    #[error("matrix shape ({rows}, {cols}) is too large")]
    TooLarge {
        /// Claimed rows.
        rows: usize,
        /// Claimed columns.
        cols: usize,
    },
    /// Fewer data bytes than the shape and dtype require.
    #[error("truncated .npy data: expected {expected} bytes found {found}")]
    TruncatedData {
        /// Bytes required by shape and dtype.
        expected: usize,
        /// Bytes present after the header.
        found: usize,
    },
    /// More data bytes than the shape and dtype require.
    #[error(".npy data has trailing bytes: expected {expected} bytes found {found}")]
    TrailingData {
        /// Bytes required by shape and dtype.
        expected: usize,
        /// Bytes present after the header.
        found: usize,
    },
}

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Reads a 2-D float matrix from the bytes of a `.npy` file.
pub fn read_npy_matrix(bytes: &[u8]) -> Result<NpyMatrix, NpyError> {
    let (version, rest) = match bytes.split_first_chunk::<8>() {
        Some((head, rest)) if head.starts_with(MAGIC) => ([head[6], head[7]], rest),
        _ => {
            let shown = &bytes[..bytes.len().min(8)];
            return Err(NpyError::BadMagic {
                found: format!("\"{}\"", shown.escape_ascii()),
            });
        }
    };
    let (header_len, rest) = match version[0] {
        1 => rest
            .split_first_chunk::<2>()
            .map(|(n, r)| (usize::from(u16::from_le_bytes(*n)), r)),
        2 | 3 => rest
            .split_first_chunk::<4>()
            .map(|(n, r)| (u32::from_le_bytes(*n) as usize, r)),
        _ => {
            return Err(NpyError::UnsupportedVersion {
                major: version[0],
                minor: version[1],
            });
        }
    }
    .ok_or(NpyError::TruncatedHeader {
        claimed: if version[0] == 1 { 2 } else { 4 },
        remaining: rest.len(),
    })?;
    let Some((header, data)) = rest.split_at_checked(header_len) else {
        return Err(NpyError::TruncatedHeader {
            claimed: header_len,
            remaining: rest.len(),
        });
    };
    let header: String = if version[0] == 3 {
        std::str::from_utf8(header)
            .map_err(|e| NpyError::Header(format!("header is not UTF-8: {e}")))?
            .to_owned()
    } else {
        header.iter().map(|&b| char::from(b)).collect()
    };
    let header = parse_header(&header)?;
    let (width, big_endian) = parse_descr(&header.descr)?;
    let [rows, cols] = header.shape[..] else {
        return Err(NpyError::NotTwoDimensional(format_shape(&header.shape)));
    };
    let expected = rows
        .checked_mul(cols)
        .and_then(|n| n.checked_mul(width.size()))
        .ok_or(NpyError::TooLarge { rows, cols })?;
    if data.len() < expected {
        return Err(NpyError::TruncatedData {
            expected,
            found: data.len(),
        });
    }
    if data.len() > expected {
        return Err(NpyError::TrailingData {
            expected,
            found: data.len(),
        });
    }
    let mut values = decode_floats(data, width, big_endian);
    if header.fortran_order {
        values = fortran_to_c(&values, &[rows, cols]).ok_or(NpyError::TooLarge { rows, cols })?;
    }
    Ok(NpyMatrix {
        rows,
        cols,
        data: values,
    })
}

/// Writes `m` as a version 1.0 `.npy` file with dtype `<f4` in C order.
///
/// Fails with [`io::ErrorKind::InvalidInput`] when `m.data.len() != m.rows * m.cols`.
pub fn write_npy_matrix<W: Write>(mut out: W, m: &NpyMatrix) -> io::Result<()> {
    if m.rows.checked_mul(m.cols) != Some(m.data.len()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "matrix claims shape ({}, {}) but holds {} values",
                m.rows,
                m.cols,
                m.data.len()
            ),
        ));
    }
    let dict = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}",
        m.rows, m.cols
    );
    // magic (6) + version (2) + length (2) + dict + padding + '\n' must be a multiple of 64.
    let unpadded = 10 + dict.len() + 1;
    let padding = (64 - unpadded % 64) % 64;
    let header_len = u16::try_from(dict.len() + padding + 1)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "npy header too long"))?;
    let mut head = Vec::with_capacity(unpadded + padding);
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&[1, 0]);
    head.extend_from_slice(&header_len.to_le_bytes());
    head.extend_from_slice(dict.as_bytes());
    head.resize(head.len() + padding, b' ');
    head.push(b'\n');
    out.write_all(&head)?;
    let mut buf = Vec::with_capacity(4 * 2048);
    for chunk in m.data.chunks(2048) {
        buf.clear();
        for v in chunk {
            buf.extend_from_slice(&v.to_le_bytes());
        }
        out.write_all(&buf)?;
    }
    out.flush()
}

/// Width of a supported float element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FloatWidth {
    /// IEEE half precision.
    F16,
    /// IEEE single precision.
    F32,
    /// IEEE double precision.
    F64,
}

impl FloatWidth {
    /// The width for an item size in bytes, if it is 2, 4 or 8.
    pub(crate) fn from_size(size: usize) -> Option<Self> {
        match size {
            2 => Some(Self::F16),
            4 => Some(Self::F32),
            8 => Some(Self::F64),
            _ => None,
        }
    }

    /// Item size in bytes.
    pub(crate) fn size(self) -> usize {
        match self {
            Self::F16 => 2,
            Self::F32 => 4,
            Self::F64 => 8,
        }
    }
}

/// Decodes packed floats to `f32` (rounding to nearest); a trailing partial item is ignored.
pub(crate) fn decode_floats(raw: &[u8], width: FloatWidth, big_endian: bool) -> Vec<f32> {
    match width {
        FloatWidth::F16 => raw
            .chunks_exact(2)
            .map(|c| {
                let b = [c[0], c[1]];
                f16_to_f32(if big_endian {
                    u16::from_be_bytes(b)
                } else {
                    u16::from_le_bytes(b)
                })
            })
            .collect(),
        FloatWidth::F32 => raw
            .chunks_exact(4)
            .map(|c| {
                let b = [c[0], c[1], c[2], c[3]];
                if big_endian {
                    f32::from_be_bytes(b)
                } else {
                    f32::from_le_bytes(b)
                }
            })
            .collect(),
        FloatWidth::F64 => raw
            .chunks_exact(8)
            .map(|c| {
                let b = [c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]];
                (if big_endian {
                    f64::from_be_bytes(b)
                } else {
                    f64::from_le_bytes(b)
                }) as f32
            })
            .collect(),
    }
}

/// Converts IEEE half-precision bits to `f32` (exact).
pub(crate) fn f16_to_f32(bits: u16) -> f32 {
    let sign = u32::from(bits & 0x8000) << 16;
    let exponent = u32::from((bits >> 10) & 0x1f);
    let mantissa = u32::from(bits & 0x3ff);
    let magnitude = match exponent {
        // Zero and subnormals: mantissa * 2^-24, exact in f32.
        0 => (mantissa as f32 * (1.0 / 16_777_216.0)).to_bits(),
        // Infinities and NaNs keep their payload.
        0x1f => 0x7f80_0000 | (mantissa << 13),
        _ => ((exponent + 112) << 23) | (mantissa << 13),
    };
    f32::from_bits(sign | magnitude)
}

/// Reorders Fortran-order (column-major) data of `shape` into C order.
///
/// Returns `None` when the shape's element count differs from `data.len()`.
pub(crate) fn fortran_to_c(data: &[f32], shape: &[usize]) -> Option<Vec<f32>> {
    let count = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))?;
    if count != data.len() {
        return None;
    }
    if count == 0 || shape.len() < 2 {
        return Some(data.to_vec());
    }
    // Fortran strides: the first axis varies fastest.
    let mut strides = Vec::with_capacity(shape.len());
    let mut stride = 1usize;
    for &d in shape {
        strides.push(stride);
        stride *= d; // cannot overflow: bounded by `count`.
    }
    let mut index = vec![0usize; shape.len()];
    let mut offset = 0usize;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        out.push(*data.get(offset)?);
        // Advance the C-order odometer: the last axis varies fastest.
        for axis in (0..shape.len()).rev() {
            index[axis] += 1;
            offset += strides[axis];
            if index[axis] < shape[axis] {
                break;
            }
            offset -= strides[axis] * shape[axis];
            index[axis] = 0;
        }
    }
    Some(out)
}

/// The three keys of a `.npy` header dict.
struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// A value of the header dict literal.
enum Literal {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

/// Parses the Python dict literal of a `.npy` header.
fn parse_header(text: &str) -> Result<Header, NpyError> {
    let mut p = LiteralParser {
        chars: text.char_indices().peekable(),
    };
    p.expect('{')?;
    let (mut descr, mut fortran_order, mut shape) = (None, None, None);
    loop {
        if p.eat('}') {
            break;
        }
        let Literal::Str(key) = p.value()? else {
            return Err(NpyError::Header("dict keys must be strings".into()));
        };
        p.expect(':')?;
        let value = p.value()?;
        match (key.as_str(), value) {
            ("descr", Literal::Str(s)) => descr = Some(s),
            ("fortran_order", Literal::Bool(b)) => fortran_order = Some(b),
            ("shape", Literal::Tuple(t)) => shape = Some(t),
            ("descr" | "fortran_order" | "shape", _) => {
                return Err(NpyError::Header(format!("'{key}' has the wrong type")));
            }
            _ => {}
        }
        if !p.eat(',') {
            p.expect('}')?;
            break;
        }
    }
    let missing = |k: &str| NpyError::Header(format!("header has no '{k}' key"));
    Ok(Header {
        descr: descr.ok_or_else(|| missing("descr"))?,
        fortran_order: fortran_order.ok_or_else(|| missing("fortran_order"))?,
        shape: shape.ok_or_else(|| missing("shape"))?,
    })
}

/// Minimal tokenizer for the header literal: strings, booleans, tuples of ints.
struct LiteralParser<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
}

impl LiteralParser<'_> {
    fn skip_space(&mut self) {
        while self.chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
    }

    fn eat(&mut self, want: char) -> bool {
        self.skip_space();
        self.chars.next_if(|&(_, c)| c == want).is_some()
    }

    fn expect(&mut self, want: char) -> Result<(), NpyError> {
        if self.eat(want) {
            return Ok(());
        }
        Err(match self.chars.peek() {
            Some(&(at, c)) => {
                NpyError::Header(format!("expected '{want}' at position {at}, found {:?}", c))
            }
            None => NpyError::Header(format!("expected '{want}', found the end of the header")),
        })
    }

    fn value(&mut self) -> Result<Literal, NpyError> {
        self.skip_space();
        match self.chars.peek().copied() {
            Some((_, quote @ ('\'' | '"'))) => {
                self.chars.next();
                let mut s = String::new();
                loop {
                    match self.chars.next() {
                        Some((_, c)) if c == quote => return Ok(Literal::Str(s)),
                        Some((at, '\\')) => {
                            return Err(NpyError::Header(format!(
                                "escape sequences are not supported (position {at})"
                            )));
                        }
                        Some((_, c)) => s.push(c),
                        None => return Err(NpyError::Header("unterminated string".into())),
                    }
                }
            }
            Some((_, '(')) => {
                self.chars.next();
                let mut items = Vec::new();
                loop {
                    if self.eat(')') {
                        return Ok(Literal::Tuple(items));
                    }
                    items.push(self.int()?);
                    if !self.eat(',') {
                        self.expect(')')?;
                        return Ok(Literal::Tuple(items));
                    }
                }
            }
            Some((_, 'T' | 'F')) => {
                let word = self.word();
                match word.as_str() {
                    "True" => Ok(Literal::Bool(true)),
                    "False" => Ok(Literal::Bool(false)),
                    _ => Err(NpyError::Header(format!("unexpected word {word:?}"))),
                }
            }
            Some((at, c)) => Err(NpyError::Header(format!(
                "unsupported value starting with {c:?} at position {at}"
            ))),
            None => Err(NpyError::Header("unexpected end of the header".into())),
        }
    }

    fn word(&mut self) -> String {
        let mut s = String::new();
        while let Some((_, c)) = self.chars.next_if(|(_, c)| c.is_ascii_alphanumeric()) {
            s.push(c);
        }
        s
    }

    fn int(&mut self) -> Result<usize, NpyError> {
        self.skip_space();
        let word = self.word();
        // Python 2 wrote longs with an `L` suffix.
        let digits = word.strip_suffix('L').unwrap_or(&word);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NpyError::Header(format!(
                "expected a non-negative integer in the shape, found {word:?}"
            )));
        }
        digits
            .parse()
            .map_err(|_| NpyError::Header(format!("shape dimension {digits} is too large")))
    }
}

/// Maps a descr string to a float width and byte order.
fn parse_descr(descr: &str) -> Result<(FloatWidth, bool), NpyError> {
    let unsupported = || NpyError::UnsupportedDtype(descr.escape_debug().to_string());
    let (big_endian, rest) = match descr.as_bytes().first() {
        Some(b'>') => (true, &descr[1..]),
        Some(b'<' | b'|' | b'=') => (false, &descr[1..]),
        _ => (false, descr),
    };
    let width = match rest {
        "f2" => FloatWidth::F16,
        "f4" => FloatWidth::F32,
        "f8" => FloatWidth::F64,
        _ => return Err(unsupported()),
    };
    Ok((width, big_endian))
}

/// Formats a shape like Python's tuple repr: `(5,)`, `(2, 3)`, `()`.
pub(crate) fn format_shape(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => {
            let parts: Vec<String> = shape.iter().map(usize::to_string).collect();
            format!("({})", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F4: &[u8] = include_bytes!("../tests/fixtures/pickles/np2_f4.npy");
    const FORTRAN: &[u8] = include_bytes!("../tests/fixtures/pickles/np1_fortran.npy");

    fn sample(rows: usize, cols: usize) -> NpyMatrix {
        let data = (0..rows * cols).map(|i| i as f32 * 0.75 - 3.0).collect();
        NpyMatrix { rows, cols, data }
    }

    /// Builds a v1 file with an arbitrary header text and payload.
    fn with_header(header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn writer_reader_round_trip() {
        for (rows, cols) in [(3, 4), (1, 1), (0, 5), (7, 0), (17, 33)] {
            let m = sample(rows, cols);
            let mut bytes = Vec::new();
            write_npy_matrix(&mut bytes, &m).unwrap();
            let data_start = bytes.len() - 4 * rows * cols;
            assert_eq!(data_start % 64, 0, "header must be 64-byte aligned");
            assert_eq!(bytes[data_start - 1], b'\n');
            assert_eq!(read_npy_matrix(&bytes).unwrap(), m);
        }
    }

    #[test]
    fn writer_rejects_inconsistent_matrix() {
        let m = NpyMatrix {
            rows: 2,
            cols: 2,
            data: vec![1.0],
        };
        let err = write_npy_matrix(Vec::new(), &m).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn fortran_fixture_is_transposed() {
        let m = read_npy_matrix(FORTRAN).unwrap();
        assert_eq!((m.rows, m.cols), (3, 4));
        assert_eq!(m, read_npy_matrix(F4).unwrap());
    }

    #[test]
    fn fortran_to_c_three_axes() {
        // Fortran data of shape (2, 3, 2): element (i, j, k) at i + 2j + 6k.
        let shape = [2, 3, 2];
        let f: Vec<f32> = (0..12).map(|x| x as f32).collect();
        let c = fortran_to_c(&f, &shape).unwrap();
        let mut expected = Vec::new();
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..2 {
                    expected.push((i + 2 * j + 6 * k) as f32);
                }
            }
        }
        assert_eq!(c, expected);
        assert_eq!(fortran_to_c(&f, &[5, 5]), None);
    }

    #[test]
    fn half_precision() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn errors_are_precise() {
        let err = |b: &[u8]| read_npy_matrix(b).unwrap_err().to_string();
        assert!(err(b"PK\x03\x04").starts_with("not a .npy file (bad magic"));
        assert_eq!(
            err(b"\x93NUMPY\x04\x00\x00\x00"),
            "unsupported .npy format version 4.0 (expected 1.x, 2.x or 3.x)"
        );
        assert_eq!(
            err(b"\x93NUMPY\x01\x00\xff\x00{}"),
            "truncated .npy header: the header claims 255 bytes but 2 remain"
        );
        let one_d = with_header(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }",
            &[0; 20],
        );
        assert_eq!(err(&one_d), "expected a 2-D matrix, found shape (5,)");
        let ints = with_header(
            "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 1), }",
            &[0; 8],
        );
        assert!(err(&ints).starts_with("unsupported .npy dtype '<i8'"));
        let short = with_header(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
            &[0; 40],
        );
        assert_eq!(
            err(&short),
            "truncated .npy data: expected 48 bytes found 40"
        );
        let long = with_header(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }",
            &[0; 9],
        );
        assert_eq!(
            err(&long),
            ".npy data has trailing bytes: expected 8 bytes found 9"
        );
        let huge = with_header(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551615, 2), }",
            &[],
        );
        assert!(err(&huge).contains("too large"));
        let no_shape = with_header("{'descr': '<f8', 'fortran_order': False}", &[]);
        assert_eq!(
            err(&no_shape),
            ".npy header parse error: header has no 'shape' key"
        );
        let py2 = with_header(
            "{'descr': '>f4', 'fortran_order': False, 'shape': (1L, 2L), }",
            &[0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0],
        );
        assert_eq!(read_npy_matrix(&py2).unwrap().data, vec![1.0, -2.0]);
    }

    #[test]
    fn truncation_never_panics() {
        for n in 0..F4.len() {
            assert!(read_npy_matrix(&F4[..n]).is_err(), "prefix of {n} bytes");
        }
    }

    #[test]
    fn byte_flips_never_panic() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for source in [F4, FORTRAN] {
            for _ in 0..3000 {
                let mut bytes = source.to_vec();
                for _ in 0..(next() % 3 + 1) {
                    let at = (next() % bytes.len() as u64) as usize;
                    bytes[at] = next() as u8;
                }
                let _ = read_npy_matrix(&bytes);
            }
        }
    }
}
