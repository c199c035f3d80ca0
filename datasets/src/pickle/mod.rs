//! Safe, minimal reader for pickled image-feature dicts.
//!
//! MMEA research code (MEAformer, MCLEA, EVA) ships visual features as
//! `*_id_img_feature_dict.pkl`: a Python dict `{entity id: numpy array}`.
//! [`read_feature_dict`] decodes such files without executing anything. It
//! interprets the opcodes of pickle protocols 2 to 5 on a small stack machine
//! and resolves only a whitelist of globals: numpy's array, dtype and scalar
//! reconstructors (numpy 1.x `numpy.core.*` and 2.x `numpy._core.*` paths),
//! `_codecs.encode`, `bytes`, `bytearray` and `collections.OrderedDict`.
//!
//! Robustness: the reader never panics; every length read from the file is
//! checked against the remaining input before use (byte payloads are borrowed,
//! not copied), tuple nesting is bounded, and memory spent on derived data
//! (re-encoded strings, decoded floats) is bounded by a multiple of the input
//! size, so memo references cannot amplify a small file into a huge allocation.
//!
//! Deliberate leniencies: a `str` is checked for valid UTF-8 only where it is used
//! (keys, names, dtype strings, `_codecs.encode` payloads); byte order `=` (native)
//! is read as little-endian; a key stored twice keeps its first position and its
//! last value, as in Python. Python 2 pickles (protocol 2, byte-string `str`) work.

mod machine;

use std::fmt;

use machine::op;

/// A key of the pickled dict.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PickleKey {
    /// A Python `int` or a numpy integer scalar.
    Int(i64),
    /// A Python `str` (or a Python 2 byte string, read as Latin-1).
    Str(String),
}

impl fmt::Display for PickleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(n) => write!(f, "{n}"),
            Self::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// One dict entry: key and the array, flattened in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureEntry {
    /// The dict key.
    pub key: PickleKey,
    /// The array shape as stored (`[d]` for 1-D arrays and lists, `[1, d]` for row matrices).
    pub shape: Vec<usize>,
    /// The values converted to `f32`, in C (row-major) order.
    pub values: Vec<f32>,
}

/// The entries in the order the pickle stores them.
///
/// A key stored twice keeps its first position and its last value, as in Python.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeatureDict {
    /// The dict entries.
    pub entries: Vec<FeatureEntry>,
}

/// Why a pickle could not be read as a feature dict.
///
/// `offset` is the byte offset of the opcode being executed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PickleError {
    /// The input is empty.
    #[error("not a pickle (the input is empty)")]
    Empty,
    /// The first byte is not the PROTO opcode (protocols 0 and 1 are not supported).
    #[error("not a pickle (first byte {first:#04x} is not the PROTO opcode 0x80)")]
    NotAPickle {
        /// The first byte of the input.
        first: u8,
    },
    /// The PROTO opcode names a protocol other than 2 to 5.
    #[error("byte {offset}: unsupported pickle protocol {protocol} (supported: 2 to 5)")]
    UnsupportedProtocol {
        /// Offset of the PROTO opcode.
        offset: usize,
        /// The protocol number.
        protocol: u8,
    },
    /// An opcode claims a payload longer than the rest of the input.
    #[error("byte {offset}: truncated: {opcode} claims {claimed} bytes but {remaining} remain")]
    Truncated {
        /// Offset of the opcode.
        offset: usize,
        /// Opcode name.
        opcode: &'static str,
        /// Payload length claimed by the file.
        claimed: u64,
        /// Bytes left after the length field.
        remaining: usize,
    },
    /// The input ends inside an opcode's fixed-size argument.
    #[error(
        "byte {offset}: truncated: {opcode} needs {needed} argument bytes but {remaining} remain"
    )]
    ShortArgument {
        /// Offset of the opcode.
        offset: usize,
        /// Opcode name.
        opcode: &'static str,
        /// Argument size.
        needed: usize,
        /// Bytes left after the opcode.
        remaining: usize,
    },
    /// The input ends before a STOP opcode.
    #[error("byte {offset}: truncated: the data ends without a STOP opcode")]
    MissingStop {
        /// Length of the input.
        offset: usize,
    },
    /// An opcode this reader does not implement (or an unknown byte).
    #[error("byte {offset}: unsupported opcode {opcode:#04x} ({name})")]
    UnsupportedOpcode {
        /// Offset of the opcode.
        offset: usize,
        /// The opcode byte.
        opcode: u8,
        /// Its pickle name, or `unknown`.
        name: &'static str,
    },
    /// A global outside the whitelist; nothing is ever imported or called.
    #[error("byte {offset}: unsupported pickle global `{module}.{name}`")]
    UnsupportedGlobal {
        /// Offset of the GLOBAL or STACK_GLOBAL opcode.
        offset: usize,
        /// Module name (escaped).
        module: String,
        /// Attribute name (escaped).
        name: String,
    },
    /// NEXT_BUFFER: the data lives outside the pickle stream.
    #[error(
        "byte {offset}: out-of-band buffers are not supported (NEXT_BUFFER); pickle with in-band buffers"
    )]
    OutOfBandBuffer {
        /// Offset of the NEXT_BUFFER opcode.
        offset: usize,
    },
    /// The opcodes do not form a valid pickle of supported objects.
    #[error("byte {offset}: malformed pickle: {message}")]
    Malformed {
        /// Offset of the opcode.
        offset: usize,
        /// What was wrong.
        message: String,
    },
    /// Decoding would allocate far more than the input size justifies.
    #[error("resource limit: {message}")]
    LimitExceeded {
        /// What exceeded which limit.
        message: String,
    },
    /// The pickled object is not a dict.
    #[error("the top-level object is {found}, expected a dict {{entity id: array}}")]
    NotADict {
        /// Description of the object found.
        found: &'static str,
    },
    /// A dict key that is neither an integer nor a string.
    #[error("entry {index} of the dict: key is {found}, expected an int or str")]
    BadKey {
        /// Zero-based position of the entry in the pickle.
        index: usize,
        /// Description of the key found.
        found: &'static str,
    },
    /// A dict value that is neither an array nor a list.
    #[error("value of key {key} is {found}, expected a numpy array or list of floats")]
    BadValue {
        /// The entry's key.
        key: PickleKey,
        /// Description of the value found.
        found: &'static str,
    },
    /// A list value with a non-numeric element.
    #[error("list of key {key}: element {index} is {found}, expected a float")]
    BadListItem {
        /// The entry's key.
        key: PickleKey,
        /// Zero-based element position.
        index: usize,
        /// Description of the element found.
        found: &'static str,
    },
    /// An array whose dtype is not float16, float32 or float64.
    #[error("array of key {key} has dtype '{dtype}', expected a float dtype")]
    NonFloatDtype {
        /// The entry's key.
        key: PickleKey,
        /// The numpy dtype string, e.g. `<i8`.
        dtype: String,
    },
    /// An array whose state is inconsistent (shape vs. data size, missing state).
    #[error("array of key {key}: {message}")]
    BadArray {
        /// The entry's key.
        key: PickleKey,
        /// What was wrong.
        message: String,
    },
}

/// Reads a pickled `{entity id: array}` dict and converts every array to `f32`.
///
/// Values may be numpy arrays of float16/32/64 (any byte order, C or Fortran
/// order, any number of axes) or lists/tuples of numbers. No NaN or length checks
/// are done here.
pub fn read_feature_dict(bytes: &[u8]) -> Result<FeatureDict, PickleError> {
    match bytes.first() {
        None => return Err(PickleError::Empty),
        Some(&first) if first != op::PROTO => return Err(PickleError::NotAPickle { first }),
        Some(_) => {}
    }
    machine::decode(bytes)
}
