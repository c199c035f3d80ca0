//! The stack machine that interprets pickle opcodes and rebuilds numpy arrays.

use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

use super::{FeatureDict, FeatureEntry, PickleError, PickleKey};
use crate::npy::{FloatWidth, decode_floats, f16_to_f32, format_shape, fortran_to_c};

/// Runs the machine over a whole pickle (its first byte already checked to be PROTO)
/// and converts the resulting dict.
pub(super) fn decode(bytes: &[u8]) -> Result<FeatureDict, PickleError> {
    let mut machine = Machine::new(bytes);
    let top = machine.run()?;
    machine.feature_dict(&top)
}

/// Declares the opcode constants (module `op`) and their names ([`opcode_name`]).
macro_rules! opcodes {
    ($($name:ident = $byte:expr),* $(,)?) => {
        /// Opcode bytes of the pickle protocol (all protocols, for messages).
        pub(super) mod op {
            $(pub const $name: u8 = $byte;)*
        }

        /// The pickle name of an opcode byte, for messages.
        fn opcode_name(opcode: u8) -> &'static str {
            match opcode {
                $(op::$name => stringify!($name),)*
                _ => "unknown",
            }
        }
    };
}

opcodes! {
    // Protocols 0 and 1.
    MARK = b'(', STOP = b'.', POP = b'0', POP_MARK = b'1', DUP = b'2', FLOAT = b'F',
    INT = b'I', BININT = b'J', BININT1 = b'K', LONG = b'L', BININT2 = b'M', NONE = b'N',
    PERSID = b'P', BINPERSID = b'Q', REDUCE = b'R', STRING = b'S', BINSTRING = b'T',
    SHORT_BINSTRING = b'U', UNICODE = b'V', BINUNICODE = b'X', APPEND = b'a', BUILD = b'b',
    GLOBAL = b'c', DICT = b'd', EMPTY_DICT = b'}', APPENDS = b'e', GET = b'g', BINGET = b'h',
    INST = b'i', LONG_BINGET = b'j', LIST = b'l', EMPTY_LIST = b']', OBJ = b'o', PUT = b'p',
    BINPUT = b'q', LONG_BINPUT = b'r', SETITEM = b's', TUPLE = b't', EMPTY_TUPLE = b')',
    SETITEMS = b'u', BINFLOAT = b'G',
    // Protocol 2.
    PROTO = 0x80, NEWOBJ = 0x81, EXT1 = 0x82, EXT2 = 0x83, EXT4 = 0x84, TUPLE1 = 0x85,
    TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b,
    // Protocol 3.
    BINBYTES = b'B', SHORT_BINBYTES = b'C',
    // Protocol 4.
    SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e, EMPTY_SET = 0x8f,
    ADDITEMS = 0x90, FROZENSET = 0x91, NEWOBJ_EX = 0x92, STACK_GLOBAL = 0x93, MEMOIZE = 0x94,
    FRAME = 0x95,
    // Protocol 5.
    BYTEARRAY8 = 0x96, NEXT_BUFFER = 0x97, READONLY_BUFFER = 0x98,
}

/// Deepest tuple nesting accepted (dropping nested tuples recurses).
const MAX_TUPLE_DEPTH: usize = 100;
/// Most axes of an array (numpy 2 allows 64).
const MAX_DIMS: usize = 64;
/// Longest dtype name accepted (`'f4'`, `'M8'`, `'U16'`...).
const MAX_DTYPE_LEN: usize = 64;

/// The whitelisted globals; anything else is refused by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Global {
    /// `numpy.core.multiarray._reconstruct`: an empty array filled in by BUILD.
    Reconstruct,
    /// `numpy.ndarray`: only as the first argument of `_reconstruct`.
    Ndarray,
    /// `numpy.dtype`.
    Dtype,
    /// `numpy.core.multiarray.scalar`: a numpy scalar from a dtype and raw bytes.
    Scalar,
    /// `numpy.core.numeric._frombuffer`: protocol 5 arrays.
    FromBuffer,
    /// `_codecs.encode`: protocol 2 bytes, as a Latin-1 str.
    Encode,
    /// `builtins.bytes`.
    Bytes,
    /// `builtins.bytearray`.
    Bytearray,
    /// `collections.OrderedDict`.
    OrderedDict,
}

impl Global {
    /// The Python name, for messages.
    fn python_name(self) -> &'static str {
        match self {
            Self::Reconstruct => "numpy.core.multiarray._reconstruct",
            Self::Ndarray => "numpy.ndarray",
            Self::Dtype => "numpy.dtype",
            Self::Scalar => "numpy.core.multiarray.scalar",
            Self::FromBuffer => "numpy.core.numeric._frombuffer",
            Self::Encode => "_codecs.encode",
            Self::Bytes => "builtins.bytes",
            Self::Bytearray => "builtins.bytearray",
            Self::OrderedDict => "collections.OrderedDict",
        }
    }
}

fn resolve_global(module: &str, name: &str) -> Option<Global> {
    const MULTIARRAY: [&str; 2] = ["numpy.core.multiarray", "numpy._core.multiarray"];
    const NUMERIC: [&str; 2] = ["numpy.core.numeric", "numpy._core.numeric"];
    let builtins = module == "builtins" || module == "__builtin__";
    Some(match name {
        "_reconstruct" if MULTIARRAY.contains(&module) => Global::Reconstruct,
        "scalar" if MULTIARRAY.contains(&module) => Global::Scalar,
        "_frombuffer" if NUMERIC.contains(&module) => Global::FromBuffer,
        "ndarray" if module == "numpy" => Global::Ndarray,
        "dtype" if module == "numpy" => Global::Dtype,
        "encode" if module == "_codecs" => Global::Encode,
        "bytes" if builtins => Global::Bytes,
        "bytearray" if builtins => Global::Bytearray,
        "OrderedDict" if module == "collections" => Global::OrderedDict,
        _ => return None,
    })
}

/// Bytes either borrowed from the input or produced while decoding.
#[derive(Debug, Clone)]
enum Buf<'a> {
    Borrowed(&'a [u8]),
    Owned(Rc<[u8]>),
}

impl Buf<'_> {
    fn as_slice(&self) -> &[u8] {
        match self {
            Self::Borrowed(b) => b,
            Self::Owned(b) => b,
        }
    }
}

/// A value on the stack or in the memo. Mutable containers live in the arena
/// (`Value::Obj`), so memo references alias them as in Python.
#[derive(Debug, Clone)]
enum Value<'a> {
    None,
    Bool(bool),
    Int(i64),
    /// An int that does not fit in `i64` (its value is not kept).
    BigInt,
    Float(f64),
    /// A `str` as UTF-8 bytes, validated when used as text (see [`utf8`]); large
    /// strings are usually numpy buffers for `_codecs.encode`, which validates them
    /// itself while decoding.
    Str(&'a [u8]),
    /// `bytes` or `bytearray`.
    Bytes(Buf<'a>),
    /// A Python 2 `str` (BINSTRING): raw bytes that may also serve as text.
    LegacyStr(&'a [u8]),
    Tuple(Rc<Tuple<'a>>),
    Global(Global),
    /// Index into the arena of mutable objects.
    Obj(usize),
}

#[derive(Debug)]
struct Tuple<'a> {
    depth: usize,
    items: Vec<Value<'a>>,
}

/// Mutable or stateful objects, addressed by index.
#[derive(Debug)]
enum Obj<'a> {
    List(Vec<Value<'a>>),
    Dict(Vec<(Value<'a>, Value<'a>)>),
    Set(Vec<Value<'a>>),
    Dtype(Dtype),
    /// `None` until BUILD gives the array its state.
    Array(Option<Array<'a>>),
}

/// A numpy dtype: byte order plus a type string such as `f4`.
#[derive(Debug, Clone, PartialEq)]
struct Dtype {
    /// `<`, `>`, `|` or `=`.
    order: char,
    /// The type string without byte order, escaped for display.
    spec: String,
}

impl Dtype {
    fn parse(text: &str) -> Self {
        match text.strip_prefix(['<', '>', '|', '=']) {
            Some(rest) => Self {
                order: text.chars().next().unwrap_or('='),
                spec: rest.escape_debug().to_string(),
            },
            None => Self {
                order: '=',
                spec: text.escape_debug().to_string(),
            },
        }
    }

    /// Kind letter and item size, e.g. `('f', 4)`.
    fn kind_size(&self) -> Option<(char, usize)> {
        let mut chars = self.spec.chars();
        let kind = chars.next()?;
        let digits = chars.as_str();
        if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some((kind, digits.parse().ok()?))
    }

    fn float_width(&self) -> Option<FloatWidth> {
        match self.kind_size()? {
            ('f', size) => FloatWidth::from_size(size),
            _ => None,
        }
    }

    /// `=` (native) and `|` are read as little-endian, the order of every common platform.
    fn big_endian(&self) -> bool {
        self.order == '>'
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.order, self.spec)
    }
}

#[derive(Debug)]
struct Array<'a> {
    shape: Vec<usize>,
    dtype: Dtype,
    fortran: bool,
    data: Buf<'a>,
}

/// Bytes of derived data (re-encoded strings, decoded floats) allowed for an
/// input of `len` bytes. Real files need at most about 3 times their size.
fn budget_for(len: usize) -> usize {
    len.saturating_mul(8).saturating_add(1 << 20)
}

/// The pickle virtual machine.
struct Machine<'a> {
    input: &'a [u8],
    pos: usize,
    /// Offset and byte of the opcode being executed.
    op_offset: usize,
    opcode: u8,
    stack: Vec<Value<'a>>,
    /// Stack lengths at each MARK.
    marks: Vec<usize>,
    memo: HashMap<u64, Value<'a>>,
    objs: Vec<Obj<'a>>,
    /// Bytes that derived data may still allocate.
    budget: usize,
}

impl<'a> Machine<'a> {
    fn new(input: &'a [u8]) -> Self {
        Self {
            input,
            pos: 0,
            op_offset: 0,
            opcode: 0,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
            objs: Vec::new(),
            budget: budget_for(input.len()),
        }
    }

    /// Executes opcodes until STOP and returns the pickled object.
    fn run(&mut self) -> Result<Value<'a>, PickleError> {
        loop {
            self.op_offset = self.pos;
            let Some(&opcode) = self.input.get(self.pos) else {
                return Err(PickleError::MissingStop { offset: self.pos });
            };
            self.opcode = opcode;
            self.pos += 1;
            if opcode == op::STOP {
                return self.pop();
            }
            self.step(opcode)?;
        }
    }

    fn step(&mut self, opcode: u8) -> Result<(), PickleError> {
        match opcode {
            op::PROTO => {
                let [protocol] = self.arg::<1>()?;
                if !(2..=5).contains(&protocol) {
                    return Err(PickleError::UnsupportedProtocol {
                        offset: self.op_offset,
                        protocol,
                    });
                }
            }
            op::FRAME => {
                // Frames only group opcodes; just check the claimed size.
                let len = u64::from_le_bytes(self.arg()?);
                if usize::try_from(len).map_or(true, |n| n > self.remaining()) {
                    return Err(self.truncated(len));
                }
            }
            op::MARK => self.marks.push(self.stack.len()),
            op::POP => {
                if self.stack.len() > self.mark_base() {
                    self.stack.pop();
                } else {
                    // Python pops a MARK when the stack above it is empty.
                    self.pop_mark()?;
                }
            }
            op::POP_MARK => {
                self.pop_mark()?;
            }
            op::DUP => {
                let top = self.top()?.clone();
                self.stack.push(top);
            }
            op::NONE => self.stack.push(Value::None),
            op::NEWTRUE => self.stack.push(Value::Bool(true)),
            op::NEWFALSE => self.stack.push(Value::Bool(false)),
            op::BININT => {
                let v = i32::from_le_bytes(self.arg()?);
                self.stack.push(Value::Int(v.into()));
            }
            op::BININT1 => {
                let [v] = self.arg::<1>()?;
                self.stack.push(Value::Int(v.into()));
            }
            op::BININT2 => {
                let v = u16::from_le_bytes(self.arg()?);
                self.stack.push(Value::Int(v.into()));
            }
            op::LONG1 => {
                let [len] = self.arg::<1>()?;
                let bytes = self.payload(len.into())?;
                self.stack.push(decode_long(bytes));
            }
            op::LONG4 => {
                let len = i32::from_le_bytes(self.arg()?);
                let len = u64::try_from(len)
                    .map_err(|_| self.malformed(format!("LONG4 has negative length {len}")))?;
                let bytes = self.payload(len)?;
                self.stack.push(decode_long(bytes));
            }
            op::BINFLOAT => {
                let v = f64::from_be_bytes(self.arg()?);
                self.stack.push(Value::Float(v));
            }
            op::SHORT_BINUNICODE => {
                let len = u8::from_le_bytes(self.arg()?);
                self.push_str(len.into())?;
            }
            op::BINUNICODE => {
                let len = u32::from_le_bytes(self.arg()?);
                self.push_str(len.into())?;
            }
            op::BINUNICODE8 => {
                let len = u64::from_le_bytes(self.arg()?);
                self.push_str(len)?;
            }
            op::SHORT_BINSTRING => {
                let len = u8::from_le_bytes(self.arg()?);
                let bytes = self.payload(len.into())?;
                self.stack.push(Value::LegacyStr(bytes));
            }
            op::BINSTRING => {
                let len = i32::from_le_bytes(self.arg()?);
                let len = u64::try_from(len)
                    .map_err(|_| self.malformed(format!("BINSTRING has negative length {len}")))?;
                let bytes = self.payload(len)?;
                self.stack.push(Value::LegacyStr(bytes));
            }
            op::SHORT_BINBYTES => {
                let len = u8::from_le_bytes(self.arg()?);
                self.push_bytes(len.into())?;
            }
            op::BINBYTES => {
                let len = u32::from_le_bytes(self.arg()?);
                self.push_bytes(len.into())?;
            }
            op::BINBYTES8 | op::BYTEARRAY8 => {
                let len = u64::from_le_bytes(self.arg()?);
                self.push_bytes(len)?;
            }
            op::EMPTY_TUPLE => {
                let tuple = self.tuple(Vec::new())?;
                self.stack.push(tuple);
            }
            op::TUPLE => {
                let items = self.pop_mark()?;
                let tuple = self.tuple(items)?;
                self.stack.push(tuple);
            }
            op::TUPLE1 | op::TUPLE2 | op::TUPLE3 => {
                let n = usize::from(opcode - op::TUPLE1) + 1;
                let items = self.pop_n(n)?;
                let tuple = self.tuple(items)?;
                self.stack.push(tuple);
            }
            op::EMPTY_LIST => self.push_obj(Obj::List(Vec::new())),
            op::LIST => {
                let items = self.pop_mark()?;
                self.push_obj(Obj::List(items));
            }
            op::EMPTY_DICT => self.push_obj(Obj::Dict(Vec::new())),
            op::DICT => {
                let items = self.pop_mark()?;
                let pairs = self.pairs(items)?;
                self.push_obj(Obj::Dict(pairs));
            }
            op::EMPTY_SET => self.push_obj(Obj::Set(Vec::new())),
            op::FROZENSET => {
                let items = self.pop_mark()?;
                self.push_obj(Obj::Set(items));
            }
            op::APPEND => {
                let item = self.pop()?;
                self.extend_top(vec![item])?;
            }
            op::APPENDS | op::ADDITEMS => {
                let items = self.pop_mark()?;
                self.extend_top(items)?;
            }
            op::SETITEM => {
                let value = self.pop()?;
                let key = self.pop()?;
                self.extend_top(vec![key, value])?;
            }
            op::SETITEMS => {
                let items = self.pop_mark()?;
                self.extend_top(items)?;
            }
            op::BINPUT => {
                let [index] = self.arg::<1>()?;
                self.memo_put(index.into())?;
            }
            op::LONG_BINPUT => {
                let index = u32::from_le_bytes(self.arg()?);
                self.memo_put(index.into())?;
            }
            op::MEMOIZE => {
                let index = self.memo.len() as u64;
                self.memo_put(index)?;
            }
            op::BINGET => {
                let [index] = self.arg::<1>()?;
                self.memo_get(index.into())?;
            }
            op::LONG_BINGET => {
                let index = u32::from_le_bytes(self.arg()?);
                self.memo_get(index.into())?;
            }
            op::GLOBAL => {
                let module = self.line()?;
                let name = self.line()?;
                let global = self.global(module, name)?;
                self.stack.push(global);
            }
            op::STACK_GLOBAL => {
                let name = self.pop()?;
                let module = self.pop()?;
                let (Value::Str(module), Value::Str(name)) = (&module, &name) else {
                    return Err(self.malformed("STACK_GLOBAL needs two str on the stack"));
                };
                let (Some(module), Some(name)) = (utf8(module), utf8(name)) else {
                    return Err(self.malformed("STACK_GLOBAL name is not valid UTF-8"));
                };
                let global = self.global(module, name)?;
                self.stack.push(global);
            }
            op::REDUCE | op::NEWOBJ => {
                let args = self.pop()?;
                let callable = self.pop()?;
                let result = self.call(&callable, &args)?;
                self.stack.push(result);
            }
            op::BUILD => {
                let state = self.pop()?;
                let target = self.top()?.clone();
                self.build(&target, &state)?;
            }
            op::NEXT_BUFFER => {
                return Err(PickleError::OutOfBandBuffer {
                    offset: self.op_offset,
                });
            }
            op::READONLY_BUFFER => {
                // In-band buffers are already plain bytes; read-only changes nothing here.
                if !matches!(self.top()?, Value::Bytes(_)) {
                    return Err(self.malformed("READONLY_BUFFER on a non-buffer"));
                }
            }
            _ => {
                return Err(PickleError::UnsupportedOpcode {
                    offset: self.op_offset,
                    opcode,
                    name: opcode_name(opcode),
                });
            }
        }
        Ok(())
    }

    // ----- input -------------------------------------------------------------

    fn remaining(&self) -> usize {
        self.input.len().saturating_sub(self.pos)
    }

    /// A fixed-size opcode argument.
    fn arg<const N: usize>(&mut self) -> Result<[u8; N], PickleError> {
        let input = self.input;
        let rest = input.get(self.pos..).unwrap_or_default();
        let Some((arg, _)) = rest.split_first_chunk::<N>() else {
            return Err(PickleError::ShortArgument {
                offset: self.op_offset,
                opcode: opcode_name(self.opcode),
                needed: N,
                remaining: rest.len(),
            });
        };
        self.pos += N;
        Ok(*arg)
    }

    /// A payload whose length the file claims; checked before anything is allocated.
    fn payload(&mut self, len: u64) -> Result<&'a [u8], PickleError> {
        let input = self.input;
        let rest = input.get(self.pos..).unwrap_or_default();
        let Some(bytes) = usize::try_from(len).ok().and_then(|n| rest.get(..n)) else {
            return Err(self.truncated(len));
        };
        self.pos += bytes.len();
        Ok(bytes)
    }

    fn truncated(&self, claimed: u64) -> PickleError {
        PickleError::Truncated {
            offset: self.op_offset,
            opcode: opcode_name(self.opcode),
            claimed,
            remaining: self.remaining(),
        }
    }

    /// A newline-terminated UTF-8 line (GLOBAL arguments).
    fn line(&mut self) -> Result<&'a str, PickleError> {
        let input = self.input;
        let rest = input.get(self.pos..).unwrap_or_default();
        let Some(len) = rest.iter().position(|&b| b == b'\n') else {
            return Err(self.malformed("GLOBAL name is not terminated by a newline"));
        };
        self.pos += len + 1;
        std::str::from_utf8(&rest[..len]).map_err(|_| self.malformed("GLOBAL name is not UTF-8"))
    }

    fn push_str(&mut self, len: u64) -> Result<(), PickleError> {
        let bytes = self.payload(len)?;
        self.stack.push(Value::Str(bytes));
        Ok(())
    }

    fn push_bytes(&mut self, len: u64) -> Result<(), PickleError> {
        let bytes = self.payload(len)?;
        self.stack.push(Value::Bytes(Buf::Borrowed(bytes)));
        Ok(())
    }

    // ----- stack, marks, memo -------------------------------------------------

    fn malformed(&self, message: impl Into<String>) -> PickleError {
        PickleError::Malformed {
            offset: self.op_offset,
            message: message.into(),
        }
    }

    /// The stack length at the innermost MARK: opcodes cannot reach below it.
    fn mark_base(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self) -> Result<Value<'a>, PickleError> {
        if self.stack.len() <= self.mark_base() {
            return Err(self.malformed(format!("stack underflow in {}", opcode_name(self.opcode))));
        }
        self.stack
            .pop()
            .ok_or_else(|| self.malformed("stack underflow"))
    }

    fn pop_n(&mut self, n: usize) -> Result<Vec<Value<'a>>, PickleError> {
        let start = self
            .stack
            .len()
            .checked_sub(n)
            .filter(|&s| s >= self.mark_base());
        let Some(start) = start else {
            return Err(self.malformed(format!("stack underflow in {}", opcode_name(self.opcode))));
        };
        Ok(self.stack.split_off(start))
    }

    fn top(&self) -> Result<&Value<'a>, PickleError> {
        match self.stack.last() {
            Some(v) if self.stack.len() > self.mark_base() => Ok(v),
            _ => Err(self.malformed(format!("empty stack in {}", opcode_name(self.opcode)))),
        }
    }

    /// Removes the innermost MARK and returns the items pushed since.
    fn pop_mark(&mut self) -> Result<Vec<Value<'a>>, PickleError> {
        let Some(base) = self.marks.pop() else {
            return Err(self.malformed(format!("{} without a MARK", opcode_name(self.opcode))));
        };
        if base > self.stack.len() {
            return Err(self.malformed("MARK above the stack top"));
        }
        Ok(self.stack.split_off(base))
    }

    fn memo_put(&mut self, index: u64) -> Result<(), PickleError> {
        let value = self.top()?.clone();
        self.memo.insert(index, value);
        Ok(())
    }

    fn memo_get(&mut self, index: u64) -> Result<(), PickleError> {
        let Some(value) = self.memo.get(&index) else {
            return Err(self.malformed(format!("memo key {index} is not defined")));
        };
        self.stack.push(value.clone());
        Ok(())
    }

    fn push_obj(&mut self, obj: Obj<'a>) {
        self.objs.push(obj);
        self.stack.push(Value::Obj(self.objs.len() - 1));
    }

    fn new_obj(&mut self, obj: Obj<'a>) -> Value<'a> {
        self.objs.push(obj);
        Value::Obj(self.objs.len() - 1)
    }

    fn tuple(&self, items: Vec<Value<'a>>) -> Result<Value<'a>, PickleError> {
        let inner = items
            .iter()
            .map(|v| match v {
                Value::Tuple(t) => t.depth,
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        if inner >= MAX_TUPLE_DEPTH {
            return Err(self.malformed(format!(
                "tuples nested deeper than {MAX_TUPLE_DEPTH} levels"
            )));
        }
        Ok(Value::Tuple(Rc::new(Tuple {
            depth: inner + 1,
            items,
        })))
    }

    /// Pairs up key/value items (DICT, SETITEMS).
    fn pairs(&self, items: Vec<Value<'a>>) -> Result<Vec<(Value<'a>, Value<'a>)>, PickleError> {
        if !items.len().is_multiple_of(2) {
            return Err(self.malformed(format!(
                "{} with an odd number of items",
                opcode_name(self.opcode)
            )));
        }
        let mut pairs = Vec::with_capacity(items.len() / 2);
        let mut items = items.into_iter();
        while let (Some(k), Some(v)) = (items.next(), items.next()) {
            pairs.push((k, v));
        }
        Ok(pairs)
    }

    /// APPEND(S), ADDITEMS and SETITEM(S) on the container at the stack top.
    fn extend_top(&mut self, items: Vec<Value<'a>>) -> Result<(), PickleError> {
        let top = self.top()?;
        let found = self.describe(top);
        let index = match top {
            Value::Obj(i) => *i,
            _ => usize::MAX,
        };
        match self.opcode {
            op::APPEND | op::APPENDS => {
                let Some(Obj::List(list)) = self.objs.get_mut(index) else {
                    return Err(self.wrong_target("list", found));
                };
                list.extend(items);
            }
            op::ADDITEMS => {
                let Some(Obj::Set(set)) = self.objs.get_mut(index) else {
                    return Err(self.wrong_target("set", found));
                };
                set.extend(items);
            }
            _ => {
                let pairs = self.pairs(items)?;
                let Some(Obj::Dict(dict)) = self.objs.get_mut(index) else {
                    return Err(self.wrong_target("dict", found));
                };
                dict.extend(pairs);
            }
        }
        Ok(())
    }

    fn wrong_target(&self, want: &str, found: &str) -> PickleError {
        let name = opcode_name(self.opcode);
        self.malformed(format!("{name} on {found}, expected a {want}"))
    }

    fn global(&self, module: &str, name: &str) -> Result<Value<'a>, PickleError> {
        match resolve_global(module, name) {
            Some(global) => Ok(Value::Global(global)),
            None => Err(PickleError::UnsupportedGlobal {
                offset: self.op_offset,
                module: module.escape_debug().to_string(),
                name: name.escape_debug().to_string(),
            }),
        }
    }

    /// Takes `bytes` from the budget for derived data (see the module docs).
    fn charge(&mut self, bytes: usize, what: impl FnOnce() -> String) -> Result<(), PickleError> {
        match self.budget.checked_sub(bytes) {
            Some(left) => {
                self.budget = left;
                Ok(())
            }
            None => Err(PickleError::LimitExceeded {
                message: format!(
                    "{}: derived data would exceed {} bytes for a {}-byte pickle \
                     (memo references repeated many times?)",
                    what(),
                    budget_for(self.input.len()),
                    self.input.len()
                ),
            }),
        }
    }

    // ----- objects -------------------------------------------------------------

    fn describe(&self, v: &Value<'_>) -> &'static str {
        describe(&self.objs, v)
    }

    fn dtype(&self, v: &Value<'_>) -> Option<&Dtype> {
        match v {
            Value::Obj(i) => match self.objs.get(*i) {
                Some(Obj::Dtype(d)) => Some(d),
                _ => None,
            },
            _ => None,
        }
    }

    /// REDUCE / NEWOBJ: applies a whitelisted global to an argument tuple.
    fn call(&mut self, callable: &Value<'a>, args: &Value<'a>) -> Result<Value<'a>, PickleError> {
        let name = opcode_name(self.opcode);
        let Value::Global(global) = *callable else {
            let found = self.describe(callable);
            return Err(self.malformed(format!("{name} calls {found}, expected a global")));
        };
        let Value::Tuple(args) = args else {
            let found = self.describe(args);
            return Err(self.malformed(format!("{name} arguments are {found}, expected a tuple")));
        };
        let args = &args.items[..];
        match (global, args) {
            (Global::Reconstruct, [Value::Global(Global::Ndarray), ..]) => {
                Ok(self.new_obj(Obj::Array(None)))
            }
            (Global::Dtype, [spec @ (Value::Str(_) | Value::LegacyStr(_)), ..]) => {
                let spec = match spec {
                    Value::Str(s) if s.len() <= MAX_DTYPE_LEN => utf8(s)
                        .ok_or_else(|| self.malformed("numpy dtype name is not valid UTF-8"))?
                        .to_owned(),
                    Value::LegacyStr(b) if b.len() <= MAX_DTYPE_LEN => {
                        b.iter().map(|&c| char::from(c)).collect()
                    }
                    _ => return Err(self.malformed("numpy dtype name is too long")),
                };
                Ok(self.new_obj(Obj::Dtype(Dtype::parse(&spec))))
            }
            (Global::Scalar, [dtype, data]) => self.scalar(dtype, data),
            (Global::FromBuffer, [buffer, dtype, shape, order]) => {
                let array = self.array(shape, dtype, buffer)?;
                let fortran = match order {
                    Value::Str(b"C") => false,
                    Value::Str(b"F") => true,
                    _ => return Err(self.malformed("_frombuffer order must be 'C' or 'F'")),
                };
                Ok(self.new_obj(Obj::Array(Some(Array { fortran, ..array }))))
            }
            (Global::Encode, [Value::Str(text), Value::Str(encoding)]) => {
                let latin1: [&[u8]; 6] = [
                    b"latin1",
                    b"latin-1",
                    b"latin_1",
                    b"iso-8859-1",
                    b"iso8859-1",
                    b"l1",
                ];
                if !latin1.contains(&&encoding.to_ascii_lowercase()[..]) {
                    return Err(self.malformed(format!(
                        "_codecs.encode with encoding \"{}\" is not supported",
                        encoding.escape_ascii()
                    )));
                }
                let offset = self.op_offset;
                self.charge(text.len(), || format!("_codecs.encode at byte {offset}"))?;
                let bytes = latin1_bytes(text).ok_or_else(|| {
                    self.malformed("_codecs.encode: str is not Latin-1 (or not valid UTF-8)")
                })?;
                Ok(Value::Bytes(Buf::Owned(bytes.into())))
            }
            (Global::Bytes | Global::Bytearray, []) => Ok(Value::Bytes(Buf::Borrowed(&[]))),
            (Global::Bytes | Global::Bytearray, [Value::Bytes(b)]) => Ok(Value::Bytes(b.clone())),
            (Global::Bytes | Global::Bytearray, [Value::LegacyStr(b)]) => {
                Ok(Value::Bytes(Buf::Borrowed(b)))
            }
            (Global::OrderedDict, []) => Ok(self.new_obj(Obj::Dict(Vec::new()))),
            (Global::OrderedDict, [items]) => {
                let pairs = self.ordered_dict_items(items)?;
                let offset = self.op_offset;
                let size = pairs
                    .len()
                    .saturating_mul(std::mem::size_of::<(Value, Value)>());
                self.charge(size, || format!("OrderedDict at byte {offset}"))?;
                Ok(self.new_obj(Obj::Dict(pairs)))
            }
            _ => Err(self.malformed(format!(
                "unsupported arguments for {} ({} given)",
                global.python_name(),
                args.len()
            ))),
        }
    }

    /// Python 2 `OrderedDict([[k, v], ...])`.
    fn ordered_dict_items(
        &self,
        items: &Value<'a>,
    ) -> Result<Vec<(Value<'a>, Value<'a>)>, PickleError> {
        let bad = || self.malformed("OrderedDict argument must be a list of (key, value) pairs");
        let Value::Obj(i) = items else {
            return Err(bad());
        };
        let Some(Obj::List(list)) = self.objs.get(*i) else {
            return Err(bad());
        };
        list.iter()
            .map(|pair| {
                let kv = match pair {
                    Value::Tuple(t) => &t.items[..],
                    Value::Obj(j) => match self.objs.get(*j) {
                        Some(Obj::List(l)) => &l[..],
                        _ => return Err(bad()),
                    },
                    _ => return Err(bad()),
                };
                match kv {
                    [k, v] => Ok((k.clone(), v.clone())),
                    _ => Err(bad()),
                }
            })
            .collect()
    }

    /// `numpy.core.multiarray.scalar(dtype, raw bytes)`: ints, bools and floats.
    fn scalar(&self, dtype: &Value<'a>, data: &Value<'a>) -> Result<Value<'a>, PickleError> {
        let Some(dtype) = self.dtype(dtype) else {
            return Err(self.malformed("numpy scalar without a dtype"));
        };
        let raw = match data {
            Value::Bytes(b) => b.as_slice(),
            Value::LegacyStr(b) => b,
            _ => return Err(self.malformed("numpy scalar data is not bytes")),
        };
        let Some((kind, size @ (1 | 2 | 4 | 8))) = dtype.kind_size() else {
            return Err(self.malformed(format!("numpy scalar of dtype '{dtype}' is not supported")));
        };
        if raw.len() != size {
            return Err(self.malformed(format!(
                "numpy scalar of dtype '{dtype}' has {} data bytes",
                raw.len()
            )));
        }
        // Little-endian bytes, sign-extended for signed ints.
        let mut le = [0u8; 8];
        for (i, &b) in raw.iter().enumerate() {
            le[if dtype.big_endian() { size - 1 - i } else { i }] = b;
        }
        if kind == 'i' && le[size - 1] & 0x80 != 0 {
            le[size..].fill(0xff);
        }
        let bits = u64::from_le_bytes(le);
        Ok(match (kind, size) {
            ('i', _) => Value::Int(bits as i64),
            ('u', _) => i64::try_from(bits).map_or(Value::BigInt, Value::Int),
            ('b', 1) => Value::Bool(bits != 0),
            ('f', 2) => Value::Float(f16_to_f32(bits as u16).into()),
            ('f', 4) => Value::Float(f32::from_bits(bits as u32).into()),
            ('f', 8) => Value::Float(f64::from_bits(bits)),
            _ => {
                return Err(
                    self.malformed(format!("numpy scalar of dtype '{dtype}' is not supported"))
                );
            }
        })
    }

    /// An array from shape, dtype and raw-data values (checked for types only).
    fn array(
        &self,
        shape: &Value<'a>,
        dtype: &Value<'a>,
        data: &Value<'a>,
    ) -> Result<Array<'a>, PickleError> {
        let Value::Tuple(dims) = shape else {
            return Err(self.malformed("array shape is not a tuple"));
        };
        if dims.items.len() > MAX_DIMS {
            return Err(self.malformed(format!(
                "array has {} axes, at most {MAX_DIMS} are supported",
                dims.items.len()
            )));
        }
        let shape = dims
            .items
            .iter()
            .map(|d| match d {
                Value::Int(n) => usize::try_from(*n).ok(),
                _ => None,
            })
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| self.malformed("array shape must hold non-negative ints"))?;
        let Some(dtype) = self.dtype(dtype).cloned() else {
            let found = self.describe(dtype);
            return Err(self.malformed(format!("array dtype is {found}, expected a numpy dtype")));
        };
        let data = match data {
            Value::Bytes(b) => b.clone(),
            Value::LegacyStr(b) => Buf::Borrowed(b),
            other => {
                let found = self.describe(other);
                return Err(self.malformed(format!(
                    "array data is {found}, expected bytes (object arrays are not supported)"
                )));
            }
        };
        Ok(Array {
            shape,
            dtype,
            fortran: false,
            data,
        })
    }

    /// BUILD: sets the state of a dtype or of an array made by `_reconstruct`.
    fn build(&mut self, target: &Value<'a>, state: &Value<'a>) -> Result<(), PickleError> {
        let found = self.describe(target);
        let Value::Obj(index) = *target else {
            return Err(self.malformed(format!("BUILD on {found} is not supported")));
        };
        let Value::Tuple(state) = state else {
            return Err(self.malformed(format!("BUILD state for {found} is not a tuple")));
        };
        let new = match (self.objs.get(index), &state.items[..]) {
            (Some(Obj::Dtype(dtype)), [_, Value::Str(order) | Value::LegacyStr(order), ..]) => {
                let order = match order {
                    [c @ (b'<' | b'>' | b'|' | b'=')] => char::from(*c),
                    _ => return Err(self.malformed("dtype byte order must be one of < > | =")),
                };
                Obj::Dtype(Dtype {
                    order,
                    ..dtype.clone()
                })
            }
            (Some(Obj::Array(_)), [Value::Int(_), shape, dtype, fortran, data])
            | (Some(Obj::Array(_)), [shape, dtype, fortran, data]) => {
                let fortran = match fortran {
                    Value::Bool(b) => *b,
                    Value::Int(n) => *n != 0,
                    _ => return Err(self.malformed("array is_fortran flag is not a bool")),
                };
                let array = self.array(shape, dtype, data)?;
                Obj::Array(Some(Array { fortran, ..array }))
            }
            _ => {
                return Err(self.malformed(format!(
                    "unsupported BUILD state for {found} ({} items)",
                    state.items.len()
                )));
            }
        };
        if let Some(slot) = self.objs.get_mut(index) {
            *slot = new;
        }
        Ok(())
    }

    // ----- conversion to the result --------------------------------------------

    /// Converts the unpickled top-level dict into the result.
    fn feature_dict(&mut self, top: &Value<'a>) -> Result<FeatureDict, PickleError> {
        let objs = std::mem::take(&mut self.objs);
        let pairs = match top {
            Value::Obj(i) => match objs.get(*i) {
                Some(Obj::Dict(pairs)) => Some(pairs),
                _ => None,
            },
            _ => None,
        };
        let Some(pairs) = pairs else {
            return Err(PickleError::NotADict {
                found: describe(&objs, top),
            });
        };
        let mut entries: Vec<FeatureEntry> = Vec::with_capacity(pairs.len());
        let mut positions: HashMap<PickleKey, usize> = HashMap::with_capacity(pairs.len());
        for (index, (key, value)) in pairs.iter().enumerate() {
            let key = dict_key(&objs, index, key)?;
            if let PickleKey::Str(s) = &key {
                self.charge(s.len(), || format!("key {index} of the dict"))?;
            }
            let (shape, values) = self.features(&objs, &key, value)?;
            match positions.get(&key) {
                // A repeated key keeps its first position and takes the last value.
                Some(&at) => {
                    if let Some(entry) = entries.get_mut(at) {
                        (entry.shape, entry.values) = (shape, values);
                    }
                }
                None => {
                    positions.insert(key.clone(), entries.len());
                    entries.push(FeatureEntry { key, shape, values });
                }
            }
        }
        Ok(FeatureDict { entries })
    }

    /// The shape and `f32` values of one dict value.
    fn features(
        &mut self,
        objs: &[Obj<'a>],
        key: &PickleKey,
        value: &Value<'a>,
    ) -> Result<(Vec<usize>, Vec<f32>), PickleError> {
        let bad_value = || PickleError::BadValue {
            key: key.clone(),
            found: describe(objs, value),
        };
        let items: &[Value<'a>] = match value {
            Value::Obj(i) => match objs.get(*i) {
                Some(Obj::Array(Some(array))) => return self.array_values(key, array),
                Some(Obj::Array(None)) => {
                    return Err(PickleError::BadArray {
                        key: key.clone(),
                        message: "the array never received its state (no BUILD)".into(),
                    });
                }
                Some(Obj::List(items)) => items,
                _ => return Err(bad_value()),
            },
            Value::Tuple(t) => &t.items,
            _ => return Err(bad_value()),
        };
        self.charge(items.len().saturating_mul(4), || {
            format!("decoding the list of key {key}")
        })?;
        let values = items
            .iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::Float(f) => Ok(*f as f32),
                Value::Int(n) => Ok(*n as f32),
                other => Err(PickleError::BadListItem {
                    key: key.clone(),
                    index,
                    found: describe(objs, other),
                }),
            })
            .collect::<Result<Vec<f32>, _>>()?;
        Ok((vec![values.len()], values))
    }

    /// Decodes an array's raw data, checked against its shape and dtype.
    fn array_values(
        &mut self,
        key: &PickleKey,
        array: &Array<'a>,
    ) -> Result<(Vec<usize>, Vec<f32>), PickleError> {
        let Some(width) = array.dtype.float_width() else {
            return Err(PickleError::NonFloatDtype {
                key: key.clone(),
                dtype: array.dtype.to_string(),
            });
        };
        let bad = |message: String| PickleError::BadArray {
            key: key.clone(),
            message,
        };
        let shape = format_shape(&array.shape);
        let needed = array
            .shape
            .iter()
            .try_fold(width.size(), |n, &d| n.checked_mul(d))
            .ok_or_else(|| bad(format!("shape {shape} is too large")))?;
        let raw = array.data.as_slice();
        if raw.len() != needed {
            return Err(bad(format!(
                "shape {shape} with dtype '{}' needs {needed} bytes but the data has {}",
                array.dtype,
                raw.len()
            )));
        }
        let count = needed / width.size();
        self.charge(count.saturating_mul(4), || {
            format!("decoding the array of key {key}")
        })?;
        let mut values = decode_floats(raw, width, array.dtype.big_endian());
        if array.fortran && array.shape.len() > 1 {
            values = fortran_to_c(&values, &array.shape)
                .ok_or_else(|| bad(format!("cannot reorder Fortran data of shape {shape}")))?;
        }
        Ok((array.shape.clone(), values))
    }
}

/// A short description of a value for messages, e.g. "a str".
fn describe(objs: &[Obj<'_>], v: &Value<'_>) -> &'static str {
    match v {
        Value::None => "None",
        Value::Bool(_) => "a bool",
        Value::Int(_) => "an int",
        Value::BigInt => "an int beyond 64 bits",
        Value::Float(_) => "a float",
        Value::Str(_) => "a str",
        Value::Bytes(_) => "a bytes object",
        Value::LegacyStr(_) => "a Python 2 str",
        Value::Tuple(_) => "a tuple",
        Value::Global(_) => "a global (class or function)",
        Value::Obj(i) => match objs.get(*i) {
            Some(Obj::List(_)) => "a list",
            Some(Obj::Dict(_)) => "a dict",
            Some(Obj::Set(_)) => "a set",
            Some(Obj::Dtype(_)) => "a numpy dtype",
            Some(Obj::Array(_)) => "a numpy array",
            None => "an unknown object",
        },
    }
}

fn dict_key(objs: &[Obj<'_>], index: usize, key: &Value<'_>) -> Result<PickleKey, PickleError> {
    match key {
        Value::Int(n) => Ok(PickleKey::Int(*n)),
        Value::Str(s) => match utf8(s) {
            Some(s) => Ok(PickleKey::Str(s.to_owned())),
            None => Err(PickleError::BadKey {
                index,
                found: "a str that is not valid UTF-8",
            }),
        },
        Value::LegacyStr(b) => Ok(PickleKey::Str(b.iter().map(|&c| char::from(c)).collect())),
        other => Err(PickleError::BadKey {
            index,
            found: describe(objs, other),
        }),
    }
}

/// `bytes` as text, if they are valid UTF-8.
fn utf8(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

/// Decodes the UTF-8 of a str made only of U+0000..U+00FF into its Latin-1 bytes;
/// `None` if a character is above U+00FF or the UTF-8 is invalid.
///
/// Such text is ASCII bytes and two-byte sequences `0xC2`/`0xC3` + continuation.
/// Protocol 2 stores every numpy buffer this way, so this loop is the hot path for
/// such files: it is written without data-dependent branches, because buffer bytes
/// are essentially random.
fn latin1_bytes(utf8: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(utf8.len());
    let mut valid = true;
    let mut i = 0;
    while let Some(&lead) = utf8.get(i) {
        let next = utf8.get(i + 1).copied().unwrap_or(0);
        let wide = lead >> 7; // 1 for a two-byte sequence
        let decoded = ((lead & 0x03) << 6) | (next & 0x3f);
        out.push(if wide == 1 { decoded } else { lead });
        valid &= (wide == 0) | (((lead & 0xfe) == 0xc2) & ((next & 0xc0) == 0x80));
        i += 1 + usize::from(wide);
    }
    valid.then_some(out)
}

/// A little-endian two's-complement integer (LONG1/LONG4).
fn decode_long(bytes: &[u8]) -> Value<'static> {
    let Some(&last) = bytes.last() else {
        return Value::Int(0);
    };
    let fill = if last & 0x80 != 0 { 0xff } else { 0x00 };
    let (low, high) = bytes.split_at(bytes.len().min(8));
    let mut le = [fill; 8];
    le[..low.len()].copy_from_slice(low);
    let v = i64::from_le_bytes(le);
    // Fits when the extra bytes only repeat the sign of the low 8 bytes.
    if high.iter().all(|&b| b == fill) && (v < 0) == (fill == 0xff) {
        Value::Int(v)
    } else {
        Value::BigInt
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
