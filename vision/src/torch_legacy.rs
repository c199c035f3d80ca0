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

use std::collections::HashMap;

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
    let mut input = Input { bytes, pos: 0 };
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
            (Value::Str(name), Value::Tensor(view)) => Some((name, view)),
            _ => None, // Metadata entries and non-tensor values are not weights.
        })
        .collect();
    let storages = read_storages(&mut input, keys, &views)?;
    let mut tensors = HashMap::new();
    for (name, view) in views {
        if !view.is_float {
            continue; // Counters such as `num_batches_tracked`.
        }
        let storage = storages
            .get(&view.storage)
            .ok_or_else(|| input.error(format!("tensor `{name}` names a missing storage")))?;
        let values = view
            .gather(storage)
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
    /// The view's elements in row-major order, or `None` if it leaves the storage.
    fn gather(&self, storage: &[f32]) -> Option<Vec<f32>> {
        let count: usize = self.size.iter().product();
        let mut values = Vec::with_capacity(count);
        let mut index = vec![0usize; self.size.len()];
        for _ in 0..count {
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
    Tensor(TensorView),
    /// Anything else (e.g. an object built from an unknown global): kept as a placeholder.
    Opaque,
}

struct Input<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    fn error(&self, message: impl Into<String>) -> TorchReadError {
        TorchReadError {
            offset: self.pos,
            message: message.into(),
        }
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
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u32, Value>,
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
                b'.' => return machine.pop(input), // STOP
                b'(' => machine.marks.push(machine.stack.len()), // MARK
                b'N' => machine.stack.push(Value::None),
                b'\x88' => machine.stack.push(Value::Bool(true)),
                b'\x89' => machine.stack.push(Value::Bool(false)),
                b'J' => {
                    let n = i32::from_le_bytes(input.take_array::<4>()?);
                    machine.stack.push(Value::Int(i64::from(n)));
                }
                b'K' => {
                    let n = input.byte()?;
                    machine.stack.push(Value::Int(i64::from(n)));
                }
                b'M' => {
                    let n = u16::from_le_bytes(input.take_array::<2>()?);
                    machine.stack.push(Value::Int(i64::from(n)));
                }
                b'\x8a' => {
                    // LONG1: little-endian two's complement of n bytes.
                    let len = usize::from(input.byte()?);
                    let bytes = input.take(len)?;
                    if len > 8 {
                        // Only the file's magic number is this wide; its value is not needed.
                        machine.stack.push(Value::Opaque);
                        continue;
                    }
                    let mut buffer = if bytes.last().is_some_and(|b| b & 0x80 != 0) {
                        [0xffu8; 8]
                    } else {
                        [0u8; 8]
                    };
                    buffer[..len].copy_from_slice(bytes);
                    machine.stack.push(Value::Int(i64::from_le_bytes(buffer)));
                }
                b'X' => {
                    let len = u32::from_le_bytes(input.take_array::<4>()?) as usize;
                    let text = input.text(len)?;
                    machine.stack.push(Value::Str(text));
                }
                b'U' => {
                    let len = usize::from(input.byte()?);
                    let text = input.text(len)?;
                    machine.stack.push(Value::Str(text));
                }
                b'}' => machine.stack.push(Value::Dict(Vec::new())),
                b']' => machine.stack.push(Value::List(Vec::new())),
                b')' => machine.stack.push(Value::Tuple(Vec::new())),
                b't' => {
                    let items = machine.pop_mark(input)?;
                    machine.stack.push(Value::Tuple(items));
                }
                b'\x85' | b'\x86' | b'\x87' => {
                    let count = usize::from(opcode - 0x84);
                    if machine.stack.len() < count {
                        return Err(input.error("stack underflow"));
                    }
                    let items = machine.stack.split_off(machine.stack.len() - count);
                    machine.stack.push(Value::Tuple(items));
                }
                b'q' => {
                    let key = u32::from(input.byte()?);
                    machine.put(key, input)?;
                }
                b'r' => {
                    let key = u32::from_le_bytes(input.take_array::<4>()?);
                    machine.put(key, input)?;
                }
                b'h' => {
                    let key = u32::from(input.byte()?);
                    machine.get(key, input)?;
                }
                b'j' => {
                    let key = u32::from_le_bytes(input.take_array::<4>()?);
                    machine.get(key, input)?;
                }
                b'c' => {
                    let module = input.line()?;
                    let name = input.line()?;
                    machine
                        .stack
                        .push(Value::Global(format!("{module}.{name}")));
                }
                b'Q' => {
                    let id = machine.pop(input)?;
                    machine.stack.push(Value::Persistent(Box::new(id)));
                }
                b'a' => {
                    let item = machine.pop(input)?;
                    machine.list_mut(input)?.push(item);
                }
                b'e' => {
                    let items = machine.pop_mark(input)?;
                    machine.list_mut(input)?.extend(items);
                }
                b's' => {
                    let value = machine.pop(input)?;
                    let key = machine.pop(input)?;
                    machine.dict_mut(input)?.push((key, value));
                }
                b'u' => {
                    let items = machine.pop_mark(input)?;
                    if items.len() % 2 != 0 {
                        return Err(input.error("SETITEMS with an odd number of items"));
                    }
                    let mut items = items.into_iter();
                    let dict = machine.dict_mut(input)?;
                    while let (Some(key), Some(value)) = (items.next(), items.next()) {
                        dict.push((key, value));
                    }
                }
                b'R' => {
                    let args = machine.pop(input)?;
                    let callable = machine.pop(input)?;
                    let value = reduce(callable, args).map_err(|message| input.error(message))?;
                    machine.stack.push(value);
                }
                b'b' => {
                    // BUILD: state for the object below; the dicts and tensors here need none.
                    machine.pop(input)?;
                }
                other => {
                    return Err(input.error(format!("unsupported pickle opcode 0x{other:02x}")));
                }
            }
        }
    }

    fn pop(&mut self, input: &Input<'_>) -> Result<Value, TorchReadError> {
        self.stack
            .pop()
            .ok_or_else(|| input.error("stack underflow"))
    }

    fn pop_mark(&mut self, input: &Input<'_>) -> Result<Vec<Value>, TorchReadError> {
        let mark = self.marks.pop().ok_or_else(|| input.error("no MARK"))?;
        if mark > self.stack.len() {
            return Err(input.error("MARK above the stack"));
        }
        Ok(self.stack.split_off(mark))
    }

    fn put(&mut self, key: u32, input: &Input<'_>) -> Result<(), TorchReadError> {
        let top = self
            .stack
            .last()
            .ok_or_else(|| input.error("PUT on an empty stack"))?;
        self.memo.insert(key, top.clone());
        Ok(())
    }

    fn get(&mut self, key: u32, input: &Input<'_>) -> Result<(), TorchReadError> {
        let value = self
            .memo
            .get(&key)
            .ok_or_else(|| input.error(format!("memo key {key} unset")))?
            .clone();
        self.stack.push(value);
        Ok(())
    }

    fn list_mut(&mut self, input: &Input<'_>) -> Result<&mut Vec<Value>, TorchReadError> {
        match self.stack.last_mut() {
            Some(Value::List(items)) => Ok(items),
            _ => Err(input.error("APPEND to something that is not a list")),
        }
    }

    fn dict_mut(&mut self, input: &Input<'_>) -> Result<&mut Vec<(Value, Value)>, TorchReadError> {
        match self.stack.last_mut() {
            Some(Value::Dict(items)) => Ok(items),
            _ => Err(input.error("SETITEM on something that is not a dict")),
        }
    }
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
            rebuild_tensor(&args).map(Value::Tensor)
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
