//! A reader for PyTorch's legacy (pre-1.6, non-zip) `torch.save` format, enough for
//! state dicts of float tensors.
//!
//! The file is five pickles in a row (magic number, protocol version, system info, the
//! state dict, the list of storage keys) followed by each storage's raw data: an `i64`
//! element count, then the little-endian elements. Tensors in the state dict are
//! `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …)` calls whose
//! storage is a persistent id `('storage', FloatStorage, key, device, numel)`.
//!
//! Strides matter: the EfficientNet-Lite0 weights were converted from TensorFlow, and
//! their convolution kernels are views in TensorFlow's `[h, w, in, out]` memory order.
//! (burn-store 0.21's reader ignores strides and reads them scrambled; hence this
//! reader.) Every tensor is returned contiguous, in row-major order of its size.
//!
//! Nothing is executed: only the opcodes and the few globals that `torch.save` writes
//! are understood, every length is checked against the input, and anything else is an
//! error naming the offset.
//!
//! Memory is bounded by what the file can justify: the pickles may build at most
//! [`MAX_PICKLE_UNITS`] values (copies out of the memo included, so memo references
//! cannot double a value over and over), values nest at most [`MAX_DEPTH`] deep, a tensor
//! never holds more elements than its storage (no zero-stride expansion), and the tensors
//! together at most [`MAX_VIEW_REUSE`] times the elements of their storages.

use std::collections::HashMap;

/// Most units the pickles of one file may build: one per value plus one per byte of
/// text, copies out of the memo included. The EfficientNet-Lite0 weights build about
/// 100,000; the bound keeps a crafted file under a hundred MiB.
pub const MAX_PICKLE_UNITS: usize = 1 << 21;

/// Deepest nesting of tuples, lists, dicts and persistent ids. State dicts nest four
/// levels deep; dropping a value recurses once per level.
pub const MAX_DEPTH: usize = 64;

/// How many times over the tensors may hold the elements of their storages. Views that
/// share a storage (tied weights) are legitimate; thousands of views of one storage
/// would turn a small file into gigabytes.
pub const MAX_VIEW_REUSE: usize = 4;

/// A float tensor read from the file, contiguous in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct TorchTensor {
    /// The tensor's size.
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values.
    pub values: Vec<f32>,
}

/// Why the file could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("at byte {offset}: {message}")]
pub struct TorchReadError {
    /// Where in the file the problem is.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// Reads a legacy-format state dict: tensor name → tensor.
pub fn read_state_dict(bytes: &[u8]) -> Result<HashMap<String, TorchTensor>, TorchReadError> {
    let mut input = Input {
        bytes,
        pos: 0,
        units_left: MAX_PICKLE_UNITS,
    };
    for _ in 0..3 {
        // Magic number, protocol version, system info.
        Machine::run(&mut input)?;
    }
    let state = Machine::run(&mut input)?;
    let keys = Machine::run(&mut input)?;
    let Value::List(keys) = keys else {
        return Err(input.error("the storage key list is not a list"));
    };
    let Value::Dict(items) = state else {
        return Err(input.error("the saved object is not a state dict"));
    };
    let views: Vec<(String, TensorView)> = items
        .into_iter()
        .filter_map(|item| match item {
            (Value::Str(name), Value::Tensor(view)) => Some((name, *view)),
            _ => None, // Metadata entries and non-tensor values are not weights.
        })
        .collect();
    let storages = read_storages(&mut input, keys, &views)?;
    // Counters such as `num_batches_tracked` are not float tensors.
    let views: Vec<(String, TensorView)> = views.into_iter().filter(|(_, v)| v.is_float).collect();
    check_views(&input, &views, &storages)?;
    let mut tensors = HashMap::new();
    for (name, view) in views {
        let values = storages
            .get(&view.storage)
            .and_then(|storage| view.gather(storage))
            .ok_or_else(|| input.error(format!("tensor `{name}` reaches outside its storage")))?;
        tensors.insert(
            name,
            TorchTensor {
                shape: view.size,
                values,
            },
        );
    }
    Ok(tensors)
}

/// Checks, before anything is gathered, that every float view stays inside its storage
/// and that the views together do not hold more than [`MAX_VIEW_REUSE`] times the
/// elements of the storages.
fn check_views(
    input: &Input<'_>,
    views: &[(String, TensorView)],
    storages: &HashMap<String, Vec<f32>>,
) -> Result<(), TorchReadError> {
    let mut total = 0usize;
    for (name, view) in views {
        let storage = storages
            .get(&view.storage)
            .ok_or_else(|| input.error(format!("tensor `{name}` names a missing storage")))?;
        let count = view.count().ok_or_else(|| {
            input.error(format!(
                "tensor `{name}`: size {:?} has too many elements",
                view.size
            ))
        })?;
        if count > storage.len() {
            return Err(input.error(format!(
                "tensor `{name}` has {count} elements but its storage holds {}; expanded \
                 (zero-stride) views are not saved in state dicts",
                storage.len()
            )));
        }
        if view.end().is_none_or(|end| end > storage.len()) {
            return Err(input.error(format!("tensor `{name}` reaches outside its storage")));
        }
        total = total.saturating_add(count);
    }
    let stored: usize = storages.values().map(Vec::len).sum();
    if total > stored.saturating_mul(MAX_VIEW_REUSE) {
        return Err(input.error(format!(
            "the tensors hold {total} elements, more than {MAX_VIEW_REUSE} times the {stored} \
             elements of their storages; only tied weights share a storage"
        )));
    }
    Ok(())
}

/// Reads the storages that follow the pickles, in the order of `keys`; keeps the
/// `float32` ones.
fn read_storages(
    input: &mut Input<'_>,
    keys: Vec<Value>,
    views: &[(String, TensorView)],
) -> Result<HashMap<String, Vec<f32>>, TorchReadError> {
    let element_sizes: HashMap<&str, usize> = views
        .iter()
        .map(|(_, view)| (view.storage.as_str(), view.element_size))
        .collect();
    let mut storages = HashMap::new();
    for key in keys {
        let Value::Str(key) = key else {
            return Err(input.error("a storage key is not a string"));
        };
        let element_size = *element_sizes
            .get(key.as_str())
            .ok_or_else(|| input.error(format!("storage {key} belongs to no tensor")))?;
        let count = i64::from_le_bytes(input.take_array::<8>()?);
        let count = usize::try_from(count).map_err(|_| input.error("negative storage size"))?;
        let len = count
            .checked_mul(element_size)
            .ok_or_else(|| input.error("storage too large"))?;
        let data = input.take(len)?;
        if element_size == FLOAT_SIZE {
            let values = data
                .chunks_exact(FLOAT_SIZE)
                .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
                .collect();
            storages.insert(key, values);
        }
    }
    Ok(storages)
}

/// Bytes per `float32` element.
const FLOAT_SIZE: usize = 4;

/// A strided view into a storage.
#[derive(Debug, Clone, PartialEq)]
struct TensorView {
    storage: String,
    /// Bytes per element of the storage.
    element_size: usize,
    /// Whether the storage holds `float32` values (the only kind returned).
    is_float: bool,
    offset: usize,
    size: Vec<usize>,
    stride: Vec<usize>,
}

impl TensorView {
    /// The number of elements, `None` if it overflows.
    fn count(&self) -> Option<usize> {
        self.size.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
    }

    /// One past the largest storage index the view reads (0 when it reads nothing),
    /// `None` if that overflows.
    fn end(&self) -> Option<usize> {
        if self.size.contains(&0) {
            return Some(0);
        }
        self.size
            .iter()
            .zip(&self.stride)
            .try_fold(self.offset, |at, (&n, &s)| {
                at.checked_add((n - 1).checked_mul(s)?)
            })?
            .checked_add(1)
    }

    /// The view's elements in row-major order, or `None` if it leaves the storage or
    /// holds more elements than it (which only zero strides allow).
    fn gather(&self, storage: &[f32]) -> Option<Vec<f32>> {
        let count = self.count()?;
        if count > storage.len() || self.end()? > storage.len() {
            return None;
        }
        let mut values = Vec::with_capacity(count);
        let mut index = vec![0usize; self.size.len()];
        for _ in 0..count {
            // Cannot overflow: bounded by `end()`.
            let position = self.offset
                + index
                    .iter()
                    .zip(&self.stride)
                    .map(|(i, s)| i * s)
                    .sum::<usize>();
            values.push(*storage.get(position)?);
            for dim in (0..index.len()).rev() {
                index[dim] += 1;
                if index[dim] < self.size[dim] {
                    break;
                }
                index[dim] = 0;
            }
        }
        Some(values)
    }
}

/// Pickle values this reader distinguishes.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    None,
    Bool(bool),
    Int(i64),
    Str(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Global(String),
    /// A persistent id: the storage tuple of `torch.save`.
    Persistent(Box<Value>),
    Tensor(Box<TensorView>),
    /// Anything else (e.g. an object built from an unknown global): kept as a placeholder.
    Opaque,
}

/// A value on the stack or in the memo, with what copying it costs and how deeply it
/// nests, both kept up to date so that neither needs a walk over the value.
#[derive(Debug, Clone)]
struct Slot {
    value: Value,
    /// Units: one per value inside, plus one per byte of text.
    units: usize,
    /// 0 for a scalar, 1 + the deepest item for a container.
    depth: usize,
}

impl Slot {
    /// A value without items.
    fn leaf(value: Value) -> Self {
        let text = match &value {
            Value::Str(s) | Value::Global(s) => s.len(),
            _ => 0,
        };
        Self {
            value,
            units: 1 + text,
            depth: 0,
        }
    }

    /// A container of `items`, made by `make` from their values.
    fn container(items: Vec<Slot>, make: impl FnOnce(Vec<Value>) -> Value) -> Self {
        let (units, depth) = Self::measure(&items);
        Self {
            value: make(items.into_iter().map(|slot| slot.value).collect()),
            units: 1 + units,
            depth: 1 + depth,
        }
    }

    /// Total units and deepest nesting of `items`.
    fn measure(items: &[Slot]) -> (usize, usize) {
        items.iter().fold((0, 0), |(units, depth), slot| {
            (units.saturating_add(slot.units), depth.max(slot.depth))
        })
    }

    /// Accounts for `items` added to this list or dict.
    fn extend(&mut self, items: &[Slot]) {
        let (units, depth) = Self::measure(items);
        self.units = self.units.saturating_add(units);
        self.depth = self.depth.max(1 + depth);
    }
}

struct Input<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Units the pickles may still build (see [`MAX_PICKLE_UNITS`]).
    units_left: usize,
}

impl<'a> Input<'a> {
    fn error(&self, message: impl Into<String>) -> TorchReadError {
        TorchReadError {
            offset: self.pos,
            message: message.into(),
        }
    }

    /// Takes `units` from what the pickles may still build.
    fn charge(&mut self, units: usize) -> Result<(), TorchReadError> {
        match self.units_left.checked_sub(units) {
            Some(left) => {
                self.units_left = left;
                Ok(())
            }
            None => Err(self.error(format!(
                "the pickles build more than {MAX_PICKLE_UNITS} values and text bytes \
                 (memo references copied over and over?); a state dict needs far fewer"
            ))),
        }
    }

    /// Refuses a slot nested deeper than [`MAX_DEPTH`].
    fn check_depth(&self, slot: &Slot) -> Result<(), TorchReadError> {
        if slot.depth > MAX_DEPTH {
            return Err(self.error(format!(
                "values nested deeper than {MAX_DEPTH} levels; a state dict nests a few"
            )));
        }
        Ok(())
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], TorchReadError> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| self.error(format!("{len} bytes expected, the file ends")))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], TorchReadError> {
        let mut array = [0u8; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    fn byte(&mut self) -> Result<u8, TorchReadError> {
        Ok(self.take(1)?[0])
    }

    fn line(&mut self) -> Result<String, TorchReadError> {
        let rest = &self.bytes[self.pos..];
        let len = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| self.error("unterminated line"))?;
        let text = String::from_utf8(rest[..len].to_vec()).map_err(|_| self.error("not UTF-8"))?;
        self.pos += len + 1;
        Ok(text)
    }

    fn text(&mut self, len: usize) -> Result<String, TorchReadError> {
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.error("string is not UTF-8"))
    }
}

/// The pickle stack machine, for one pickle.
#[derive(Default)]
struct Machine {
    stack: Vec<Slot>,
    marks: Vec<usize>,
    memo: HashMap<u32, Slot>,
}

impl Machine {
    fn run(input: &mut Input<'_>) -> Result<Value, TorchReadError> {
        let mut machine = Machine::default();
        loop {
            let opcode = input.byte()?;
            match opcode {
                b'\x80' => {
                    input.byte()?; // PROTO
                }
                b'.' => return machine.pop(input).map(|slot| slot.value), // STOP
                b'(' => machine.marks.push(machine.stack.len()),          // MARK
                b'h' | b'j' | b'q' | b'r' => machine.memo_op(opcode, input)?,
                b'}' | b']' | b')' | b't' | b'\x85' | b'\x86' | b'\x87' | b'Q' => {
                    machine.build(opcode, input)?;
                }
                b'a' | b'e' | b's' | b'u' => machine.add_items(opcode, input)?,
                b'R' => {
                    let args = machine.pop(input)?;
                    let callable = machine.pop(input)?;
                    let value = reduce(callable.value, args.value)
                        .map_err(|message| input.error(message))?;
                    machine.push_leaf(value, input)?;
                }
                b'b' => {
                    // BUILD: state for the object below; the dicts and tensors here need none.
                    machine.pop(input)?;
                }
                _ => {
                    let value = scalar(opcode, input)?;
                    machine.push_leaf(value, input)?;
                }
            }
        }
    }

    /// Pushes a value without items, charging its units.
    fn push_leaf(&mut self, value: Value, input: &mut Input<'_>) -> Result<(), TorchReadError> {
        let slot = Slot::leaf(value);
        input.charge(slot.units)?;
        self.stack.push(slot);
        Ok(())
    }

    /// The memo opcodes: PUT and GET copy a whole value, charged by its units.
    fn memo_op(&mut self, opcode: u8, input: &mut Input<'_>) -> Result<(), TorchReadError> {
        let key = match opcode {
            b'h' | b'q' => u32::from(input.byte()?),
            _ => u32::from_le_bytes(input.take_array::<4>()?),
        };
        let slot = if matches!(opcode, b'q' | b'r') {
            self.stack.last()
        } else {
            self.memo.get(&key)
        };
        let Some(slot) = slot else {
            return Err(input.error(if matches!(opcode, b'q' | b'r') {
                "PUT on an empty stack".to_string()
            } else {
                format!("memo key {key} unset")
            }));
        };
        input.charge(slot.units)?;
        let copy = slot.clone();
        if matches!(opcode, b'q' | b'r') {
            self.memo.insert(key, copy);
        } else {
            self.stack.push(copy);
        }
        Ok(())
    }

    /// The opcodes that make a container (or a persistent id) from items.
    fn build(&mut self, opcode: u8, input: &mut Input<'_>) -> Result<(), TorchReadError> {
        let slot = match opcode {
            b'}' => Slot::container(Vec::new(), |_| Value::Dict(Vec::new())),
            b']' => Slot::container(Vec::new(), Value::List),
            b')' => Slot::container(Vec::new(), Value::Tuple),
            b't' => Slot::container(self.pop_mark(input)?, Value::Tuple),
            b'\x85' | b'\x86' | b'\x87' => {
                let count = usize::from(opcode - 0x84);
                if self.stack.len() < count {
                    return Err(input.error("stack underflow"));
                }
                let items = self.stack.split_off(self.stack.len() - count);
                Slot::container(items, Value::Tuple)
            }
            _ => {
                // BINPERSID
                let id = self.pop(input)?;
                Slot::container(vec![id], |mut values| {
                    Value::Persistent(Box::new(values.pop().unwrap_or(Value::None)))
                })
            }
        };
        input.charge(1)?;
        input.check_depth(&slot)?;
        self.stack.push(slot);
        Ok(())
    }

    /// APPEND(S) and SETITEM(S): items added to the list or dict at the stack top.
    fn add_items(&mut self, opcode: u8, input: &mut Input<'_>) -> Result<(), TorchReadError> {
        let items = match opcode {
            b'a' => vec![self.pop(input)?],
            b's' => {
                let value = self.pop(input)?;
                let key = self.pop(input)?;
                vec![key, value]
            }
            _ => self.pop_mark(input)?,
        };
        if opcode == b'u' && !items.len().is_multiple_of(2) {
            return Err(input.error("SETITEMS with an odd number of items"));
        }
        let Some(top) = self.stack.last_mut() else {
            return Err(input.error("stack underflow"));
        };
        top.extend(&items);
        input.check_depth(top)?;
        let mut values = items.into_iter().map(|slot| slot.value);
        match (&mut top.value, opcode) {
            (Value::List(list), b'a' | b'e') => list.extend(values),
            (Value::Dict(dict), b's' | b'u') => {
                while let (Some(key), Some(value)) = (values.next(), values.next()) {
                    dict.push((key, value));
                }
            }
            (_, b'a' | b'e') => return Err(input.error("APPEND to something that is not a list")),
            _ => return Err(input.error("SETITEM on something that is not a dict")),
        }
        Ok(())
    }

    fn pop(&mut self, input: &Input<'_>) -> Result<Slot, TorchReadError> {
        self.stack
            .pop()
            .ok_or_else(|| input.error("stack underflow"))
    }

    fn pop_mark(&mut self, input: &Input<'_>) -> Result<Vec<Slot>, TorchReadError> {
        let mark = self.marks.pop().ok_or_else(|| input.error("no MARK"))?;
        if mark > self.stack.len() {
            return Err(input.error("MARK above the stack"));
        }
        Ok(self.stack.split_off(mark))
    }
}

/// The opcodes that push a scalar, a string or a global.
fn scalar(opcode: u8, input: &mut Input<'_>) -> Result<Value, TorchReadError> {
    Ok(match opcode {
        b'N' => Value::None,
        b'\x88' => Value::Bool(true),
        b'\x89' => Value::Bool(false),
        b'J' => Value::Int(i64::from(i32::from_le_bytes(input.take_array::<4>()?))),
        b'K' => Value::Int(i64::from(input.byte()?)),
        b'M' => Value::Int(i64::from(u16::from_le_bytes(input.take_array::<2>()?))),
        b'\x8a' => long1(input)?,
        b'X' => {
            let len = u32::from_le_bytes(input.take_array::<4>()?) as usize;
            Value::Str(input.text(len)?)
        }
        b'U' => {
            let len = usize::from(input.byte()?);
            Value::Str(input.text(len)?)
        }
        b'c' => {
            let module = input.line()?;
            let name = input.line()?;
            Value::Global(format!("{module}.{name}"))
        }
        other => {
            return Err(input.error(format!("unsupported pickle opcode 0x{other:02x}")));
        }
    })
}

/// LONG1: a little-endian two's complement integer of n bytes.
fn long1(input: &mut Input<'_>) -> Result<Value, TorchReadError> {
    let len = usize::from(input.byte()?);
    let bytes = input.take(len)?;
    if len > 8 {
        // Only the file's magic number is this wide; its value is not needed.
        return Ok(Value::Opaque);
    }
    let mut buffer = if bytes.last().is_some_and(|b| b & 0x80 != 0) {
        [0xffu8; 8]
    } else {
        [0u8; 8]
    };
    buffer[..len].copy_from_slice(bytes);
    Ok(Value::Int(i64::from_le_bytes(buffer)))
}

/// Applies the callables `torch.save` uses; unknown ones give an opaque value.
fn reduce(callable: Value, args: Value) -> Result<Value, String> {
    let Value::Global(name) = callable else {
        return Ok(Value::Opaque);
    };
    let Value::Tuple(args) = args else {
        return Err(format!("{name} called without an argument tuple"));
    };
    match name.as_str() {
        "collections.OrderedDict" => Ok(Value::Dict(Vec::new())),
        "torch._utils._rebuild_tensor_v2" | "torch._utils._rebuild_tensor" => {
            rebuild_tensor(&args).map(|view| Value::Tensor(Box::new(view)))
        }
        _ => Ok(Value::Opaque),
    }
}

/// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks)`.
fn rebuild_tensor(args: &[Value]) -> Result<TensorView, String> {
    let [
        Value::Persistent(id),
        Value::Int(offset),
        Value::Tuple(size),
        Value::Tuple(stride),
        ..,
    ] = args
    else {
        return Err("unexpected arguments to _rebuild_tensor_v2".into());
    };
    let Value::Tuple(id) = id.as_ref() else {
        return Err("a storage id is not a tuple".into());
    };
    let [
        Value::Str(kind),
        Value::Global(storage_type),
        Value::Str(key),
        ..,
    ] = id.as_slice()
    else {
        return Err("unexpected storage id".into());
    };
    if kind != "storage" {
        return Err(format!("unexpected persistent id kind `{kind}`"));
    }
    let element_size = match storage_type.as_str() {
        "torch.DoubleStorage" | "torch.LongStorage" => 8,
        "torch.FloatStorage" | "torch.IntStorage" => FLOAT_SIZE,
        "torch.HalfStorage" | "torch.BFloat16Storage" | "torch.ShortStorage" => 2,
        "torch.CharStorage" | "torch.ByteStorage" | "torch.BoolStorage" => 1,
        other => return Err(format!("unknown storage type {other}")),
    };
    let dims = |values: &[Value]| -> Result<Vec<usize>, String> {
        values
            .iter()
            .map(|value| match value {
                Value::Int(n) => usize::try_from(*n).map_err(|_| format!("negative dimension {n}")),
                _ => Err("a size or stride is not an integer".into()),
            })
            .collect()
    };
    let size = dims(size)?;
    let stride = dims(stride)?;
    if size.len() != stride.len() {
        return Err("size and stride differ in length".into());
    }
    Ok(TensorView {
        storage: key.clone(),
        element_size,
        is_float: storage_type == "torch.FloatStorage",
        offset: usize::try_from(*offset).map_err(|_| "negative storage offset".to_string())?,
        size,
        stride,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_views_are_gathered_in_row_major_order() {
        // A 2×3 view of a storage laid out column-first (strides 1, 2).
        let view = TensorView {
            storage: "0".into(),
            element_size: FLOAT_SIZE,
            is_float: true,
            offset: 1,
            size: vec![2, 3],
            stride: vec![1, 2],
        };
        let storage = [9.0, 0.0, 3.0, 1.0, 4.0, 2.0, 5.0];
        assert_eq!(
            view.gather(&storage),
            Some(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
        );
        let outside = TensorView { offset: 3, ..view };
        assert_eq!(outside.gather(&storage), None);
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        for len in 0..12 {
            let bytes = &b"\x80\x02}q\x00(X\x01\x00\x00\x00a"[..len];
            assert!(read_state_dict(bytes).is_err());
        }
    }
}
