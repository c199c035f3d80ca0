//! Unit tests of the pickle reader.

use super::*;
use crate::pickle::read_feature_dict;

macro_rules! fixture {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("../../tests/fixtures/pickles/", $name, ".pkl")) as &[u8],
        )
    };
}

const FIXTURES: &[(&str, &[u8])] = &[
    fixture!("np1_proto2"),
    fixture!("np2_proto2"),
    fixture!("np1_proto5"),
    fixture!("np2_proto5"),
    fixture!("np2_i64key_proto2"),
    fixture!("np1_fortran_proto2"),
    fixture!("np2_fortran_proto5"),
    fixture!("np2_f16_proto5"),
    fixture!("np2_list_proto4"),
    fixture!("np1_strkey_proto4"),
];

fn err(bytes: &[u8]) -> PickleError {
    read_feature_dict(bytes).expect_err("expected an error")
}

/// A tiny pickle writer for hand-made inputs.
struct P(Vec<u8>);

impl P {
    fn new(protocol: u8) -> Self {
        Self(vec![op::PROTO, protocol])
    }
    fn op(mut self, opcode: u8) -> Self {
        self.0.push(opcode);
        self
    }
    fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }
    fn int(self, v: i64) -> Self {
        match v {
            0..=0xff => self.op(op::BININT1).raw(&[v as u8]),
            0x100..=0xffff => self.op(op::BININT2).raw(&(v as u16).to_le_bytes()),
            _ => match i32::try_from(v) {
                Ok(v) => self.op(op::BININT).raw(&v.to_le_bytes()),
                Err(_) => self.op(op::LONG1).raw(&[8]).raw(&v.to_le_bytes()),
            },
        }
    }
    fn float(self, v: f64) -> Self {
        self.op(op::BINFLOAT).raw(&v.to_be_bytes())
    }
    fn str(self, s: &str) -> Self {
        let len = (s.len() as u32).to_le_bytes();
        self.op(op::BINUNICODE).raw(&len).raw(s.as_bytes())
    }
    fn bytes(self, b: &[u8]) -> Self {
        let len = (b.len() as u32).to_le_bytes();
        self.op(op::BINBYTES).raw(&len).raw(b)
    }
    fn global(self, module: &str, name: &str) -> Self {
        self.op(op::GLOBAL)
            .raw(format!("{module}\n{name}\n").as_bytes())
    }
    /// A numpy dtype as numpy pickles it: `dtype(spec, False, True)` + BUILD.
    fn dtype(self, order: &str, spec: &str) -> Self {
        self.global("numpy", "dtype")
            .str(spec)
            .op(op::NEWFALSE)
            .op(op::NEWTRUE)
            .op(op::TUPLE3)
            .op(op::REDUCE)
            .op(op::MARK)
            .int(3)
            .str(order)
            .dtype_state_rest()
    }
    /// The end of a dtype's BUILD state after the byte order: no subarray, names,
    /// fields; item size, alignment and flags as numpy writes them for plain floats.
    fn dtype_state_rest(self) -> Self {
        self.op(op::NONE)
            .op(op::NONE)
            .op(op::NONE)
            .int(-1)
            .int(-1)
            .int(0)
            .op(op::TUPLE)
            .op(op::BUILD)
    }
    /// An array as numpy pickles it with protocols 2 to 4 (raw data as bytes).
    fn array(self, order: &str, spec: &str, shape: &[i64], fortran: bool, raw: &[u8]) -> Self {
        let mut p = self
            .global("numpy.core.multiarray", "_reconstruct")
            .global("numpy", "ndarray")
            .int(0)
            .op(op::TUPLE1)
            .bytes(b"b")
            .op(op::TUPLE3)
            .op(op::REDUCE)
            .op(op::MARK)
            .int(1)
            .op(op::MARK);
        for &d in shape {
            p = p.int(d);
        }
        p.op(op::TUPLE)
            .dtype(order, spec)
            .op(if fortran { op::NEWTRUE } else { op::NEWFALSE })
            .bytes(raw)
            .op(op::TUPLE)
            .op(op::BUILD)
    }
    fn f32_array(self, values: &[f32]) -> Self {
        let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.array("<", "f4", &[values.len() as i64], false, &raw)
    }
    fn apply(self, f: &dyn Fn(P) -> P) -> Self {
        f(self)
    }
    fn done(self) -> Vec<u8> {
        self.op(op::STOP).0
    }
}

/// A one-entry dict `{key: <value written by f>}`.
fn one_entry(key: i64, f: impl FnOnce(P) -> P) -> Vec<u8> {
    f(P::new(2).op(op::EMPTY_DICT).int(key))
        .op(op::SETITEM)
        .done()
}

#[test]
fn fixtures_decode() {
    for (name, bytes) in FIXTURES {
        let dict = read_feature_dict(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(dict.entries.len(), 3, "{name}");
        let first = &dict.entries[0];
        assert_eq!(first.values[..4], [-1.0, -0.75, -0.5, -0.25], "{name}");
        if !name.contains("strkey") {
            let keys: Vec<_> = dict.entries.iter().map(|e| e.key.clone()).collect();
            let want = [17, 70000, 5_000_000_000].map(PickleKey::Int);
            assert_eq!(keys, want, "{name}");
        }
    }
}

#[test]
fn every_truncation_is_an_error() {
    for (name, bytes) in FIXTURES {
        for n in 0..bytes.len() {
            assert!(read_feature_dict(&bytes[..n]).is_err(), "{name} cut at {n}");
        }
    }
}

#[test]
fn byte_flips_never_panic() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut decoded = 0;
    for (_, source) in FIXTURES {
        for _ in 0..500 {
            let mut bytes = source.to_vec();
            for _ in 0..(next() % 4 + 1) {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = match next() % 3 {
                    0 => bytes[at] ^ (1 << (next() % 8)),
                    _ => next() as u8,
                };
            }
            decoded += usize::from(read_feature_dict(&bytes).is_ok());
        }
    }
    // Most flips land in float data and still decode.
    assert!(decoded > 0);
}

#[test]
fn huge_claimed_lengths_are_refused_before_allocating() {
    let max8 = u64::MAX.to_le_bytes();
    let max4 = u32::MAX.to_le_bytes();
    let big_i32 = i32::MAX.to_le_bytes();
    for (opcode, len) in [
        (op::BINBYTES8, &max8[..]),
        (op::BYTEARRAY8, &max8[..]),
        (op::BINUNICODE8, &max8[..]),
        (op::FRAME, &max8[..]),
        (op::BINBYTES, &max4[..]),
        (op::BINUNICODE, &max4[..]),
        (op::BINSTRING, &big_i32[..]),
        (op::LONG4, &big_i32[..]),
    ] {
        let bytes = P::new(4).op(opcode).raw(len).raw(b"abc").done();
        match err(&bytes) {
            PickleError::Truncated {
                offset: 2,
                remaining: 4,
                ..
            } => {}
            other => panic!("{}: {other}", opcode_name(opcode)),
        }
    }
    let bytes = P::new(5).op(op::BINBYTES8).raw(&max8).raw(b"ab").done();
    assert_eq!(
        err(&bytes).to_string(),
        "byte 2: truncated: BINBYTES8 claims 18446744073709551615 bytes but 3 remain"
    );
    let negative = (-5i32).to_le_bytes();
    let bytes = P::new(2).op(op::BINSTRING).raw(&negative).done();
    assert!(matches!(
        err(&bytes),
        PickleError::Malformed { offset: 2, .. }
    ));
    let bytes = P::new(2).op(op::LONG4).raw(&negative).done();
    assert!(matches!(
        err(&bytes),
        PickleError::Malformed { offset: 2, .. }
    ));
    let bytes = P::new(2).op(op::BININT).raw(&[1, 2]).0;
    assert_eq!(
        err(&bytes).to_string(),
        "byte 2: truncated: BININT needs 4 argument bytes but 2 remain"
    );
}

#[test]
fn non_whitelisted_globals_are_refused() {
    // Protocol 2 style: GLOBAL 'os system', then the classic call.
    let bytes = P::new(2)
        .global("os", "system")
        .str("echo pwned")
        .op(op::TUPLE1)
        .op(op::REDUCE)
        .done();
    let e = err(&bytes);
    assert_eq!(
        e.to_string(),
        "byte 2: unsupported pickle global `os.system`"
    );
    // Protocol 4 style: STACK_GLOBAL.
    let mut bytes = vec![op::PROTO, 4, op::SHORT_BINUNICODE, 8];
    bytes.extend_from_slice(b"builtins");
    bytes.extend_from_slice(&[op::SHORT_BINUNICODE, 4]);
    bytes.extend_from_slice(b"eval");
    bytes.extend_from_slice(&[op::STACK_GLOBAL, op::STOP]);
    assert_eq!(
        err(&bytes).to_string(),
        "byte 18: unsupported pickle global `builtins.eval`"
    );
    // A numpy subclass is refused too, and control characters are escaped.
    let bytes = P::new(2).global("numpy.ma.core", "_mareconstruct").done();
    assert!(
        err(&bytes)
            .to_string()
            .contains("`numpy.ma.core._mareconstruct`")
    );
    let bytes = P::new(2).global("a\u{1b}[2J", "x").done();
    assert!(err(&bytes).to_string().contains("`a\\u{1b}[2J.x`"));
}

#[test]
fn error_messages_say_what_was_expected() {
    let msg = |bytes: &[u8]| err(bytes).to_string();
    assert_eq!(msg(b""), "not a pickle (the input is empty)");
    assert_eq!(
        msg(b"PK\x03\x04"),
        "not a pickle (first byte 0x50 is not the PROTO opcode 0x80)"
    );
    assert_eq!(
        msg(&P::new(6).done()),
        "byte 0: unsupported pickle protocol 6 (supported: 2 to 5)"
    );
    assert_eq!(
        msg(&P::new(2).op(op::EMPTY_DICT).0),
        "byte 3: truncated: the data ends without a STOP opcode"
    );
    assert_eq!(
        msg(&P::new(2).op(op::EMPTY_LIST).done()),
        "the top-level object is a list, expected a dict {entity id: array}"
    );
    assert_eq!(
        msg(&one_entry(17, |p| p.str("oops"))),
        "value of key 17 is a str, expected a numpy array or list of floats"
    );
    let ints = one_entry(17, |p| p.array("<", "i8", &[1], false, &[0; 8]));
    assert_eq!(
        msg(&ints),
        "array of key 17 has dtype '<i8', expected a float dtype"
    );
    let short = one_entry(17, |p| p.array("<", "f4", &[2, 3], false, &[0; 20]));
    assert_eq!(
        msg(&short),
        "array of key 17: shape (2, 3) with dtype '<f4' needs 24 bytes but the data has 20"
    );
    let float_key = P::new(2)
        .op(op::EMPTY_DICT)
        .float(1.5)
        .op(op::EMPTY_LIST)
        .op(op::SETITEM)
        .done();
    assert_eq!(
        msg(&float_key),
        "entry 0 of the dict: key is a float, expected an int or str"
    );
    let list = one_entry(17, |p| {
        p.op(op::EMPTY_LIST)
            .op(op::MARK)
            .float(1.0)
            .str("x")
            .op(op::APPENDS)
    });
    assert_eq!(
        msg(&list),
        "list of key 17: element 1 is a str, expected a float"
    );
    assert_eq!(
        msg(&P::new(5).op(op::NEXT_BUFFER).done()),
        "byte 2: out-of-band buffers are not supported (NEXT_BUFFER); pickle with in-band buffers"
    );
    assert_eq!(
        msg(&P::new(2).raw(b"I1\n").done()),
        "byte 2: unsupported opcode 0x49 (INT)"
    );
    assert_eq!(
        msg(&P::new(2).op(0xff).done()),
        "byte 2: unsupported opcode 0xff (unknown)"
    );
    assert_eq!(
        msg(&P::new(2).op(op::BINGET).raw(&[7]).done()),
        "byte 2: malformed pickle: memo key 7 is not defined"
    );
    assert_eq!(
        msg(&P::new(2).op(op::APPENDS).done()),
        "byte 2: malformed pickle: APPENDS without a MARK"
    );
    assert_eq!(
        msg(&P::new(2).op(op::MARK).op(op::TUPLE1).done()),
        "byte 3: malformed pickle: stack underflow in TUPLE1"
    );
}

#[test]
fn keys_of_every_integer_width() {
    let mut p = P::new(2).op(op::EMPTY_DICT).op(op::MARK);
    let keys = [
        0,
        255,
        256,
        65535,
        65536,
        -1,
        -70000,
        1 << 40,
        i64::MIN,
        i64::MAX,
    ];
    for (i, &k) in keys.iter().enumerate() {
        p = p.int(k).f32_array(&[i as f32]);
    }
    let dict = read_feature_dict(&p.op(op::SETITEMS).done()).unwrap();
    let got: Vec<_> = dict.entries.iter().map(|e| e.key.clone()).collect();
    assert_eq!(got, keys.map(PickleKey::Int));
    // A 9-byte LONG1 that does not fit in i64 is refused as a key.
    let bytes = P::new(2)
        .op(op::EMPTY_DICT)
        .op(op::LONG1)
        .raw(&[9, 0, 0, 0, 0, 0, 0, 0, 0x80, 0])
        .f32_array(&[1.0])
        .op(op::SETITEM)
        .done();
    assert_eq!(
        err(&bytes).to_string(),
        "entry 0 of the dict: key is an int beyond 64 bits, expected an int or str"
    );
    // 9-byte encodings of values that do fit are accepted.
    assert!(matches!(decode_long(&[0xff; 9]), Value::Int(-1)));
    assert!(matches!(
        decode_long(&[0, 0, 0, 0, 0, 0, 0, 0x80, 0xff]),
        Value::Int(i64::MIN)
    ));
    assert!(matches!(decode_long(&[0xff, 0]), Value::Int(255)));
    assert!(matches!(decode_long(&[]), Value::Int(0)));
}

#[test]
fn numpy_scalar_keys() {
    let scalar = |p: P, order: &str, spec: &str, raw: &[u8]| {
        p.global("numpy._core.multiarray", "scalar")
            .dtype(order, spec)
            .bytes(raw)
            .op(op::TUPLE2)
            .op(op::REDUCE)
    };
    let mut p = P::new(3).op(op::EMPTY_DICT).op(op::MARK);
    p = scalar(p, "<", "i8", &(-3i64).to_le_bytes()).f32_array(&[1.0]);
    p = scalar(p, ">", "i4", &(-7i32).to_be_bytes()).f32_array(&[2.0]);
    p = scalar(p, "<", "u8", &42u64.to_le_bytes()).f32_array(&[3.0]);
    p = scalar(p, "|", "u1", &[200]).f32_array(&[4.0]);
    let dict = read_feature_dict(&p.op(op::SETITEMS).done()).unwrap();
    let got: Vec<_> = dict.entries.iter().map(|e| e.key.clone()).collect();
    assert_eq!(got, [-3, -7, 42, 200].map(PickleKey::Int));
    let big = scalar(
        P::new(3).op(op::EMPTY_DICT),
        "<",
        "u8",
        &u64::MAX.to_le_bytes(),
    )
    .f32_array(&[1.0])
    .op(op::SETITEM)
    .done();
    assert!(matches!(err(&big), PickleError::BadKey { index: 0, .. }));
}

#[test]
fn dtypes_byte_orders_and_fortran_order() {
    let be: Vec<u8> = [1.5f32, -2.0]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let half = [0x00, 0x3c, 0x00, 0xc0]; // 1.0, -2.0
    let f64s: Vec<u8> = [0.1f64, 1e300]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    // Fortran (2, 3): columns (0, 3), (1, 4), (2, 5).
    let fortran: Vec<u8> = [0.0f32, 3.0, 1.0, 4.0, 2.0, 5.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let bytes = P::new(2)
        .op(op::EMPTY_DICT)
        .op(op::MARK)
        .int(1)
        .array(">", "f4", &[2], false, &be)
        .int(2)
        .array("<", "f2", &[2], false, &half)
        .int(3)
        .array("=", "f8", &[2], false, &f64s)
        .int(4)
        .array("<", "f4", &[2, 3], true, &fortran)
        .int(5)
        .array("<", "f4", &[0], false, &[])
        .op(op::SETITEMS)
        .done();
    let dict = read_feature_dict(&bytes).unwrap();
    let values: Vec<_> = dict.entries.iter().map(|e| e.values.clone()).collect();
    assert_eq!(values[0], [1.5, -2.0]);
    assert_eq!(values[1], [1.0, -2.0]);
    assert_eq!(values[2], [0.1f64 as f32, f32::INFINITY]);
    assert_eq!(values[3], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(dict.entries[3].shape, [2, 3]);
    assert_eq!(values[4], [0.0f32; 0]);
}

#[test]
fn python2_style_pickle() {
    // Python 2 numpy: byte strings for the dtype name, byte order and raw data.
    let short = |p: P, s: &[u8]| p.op(op::SHORT_BINSTRING).raw(&[s.len() as u8]).raw(s);
    let mut p = P::new(2)
        .op(op::EMPTY_DICT)
        .int(7)
        .global("numpy.core.multiarray", "_reconstruct")
        .global("numpy", "ndarray")
        .int(0)
        .op(op::TUPLE1);
    p = short(p, b"b")
        .op(op::TUPLE3)
        .op(op::REDUCE)
        .op(op::MARK)
        .int(1)
        .int(2)
        .op(op::TUPLE1)
        .global("numpy", "dtype");
    p = short(p, b"f8").int(0).int(1).op(op::TUPLE3).op(op::REDUCE);
    p = short(p.op(op::MARK).int(3), b">")
        .dtype_state_rest()
        .op(op::NEWFALSE);
    let raw: Vec<u8> = [0.5f64, -3.0]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let bytes = short(p, &raw)
        .op(op::TUPLE)
        .op(op::BUILD)
        .op(op::SETITEM)
        .done();
    let dict = read_feature_dict(&bytes).unwrap();
    assert_eq!(dict.entries[0].key, PickleKey::Int(7));
    assert_eq!(dict.entries[0].values, [0.5, -3.0]);
}

#[test]
fn protocol2_bytes_and_empty_arrays() {
    // numpy under protocol 2: raw data is `_codecs.encode(str, 'latin1')`, and an
    // empty array's data is `__builtin__.bytes()`.
    let latin1: String = [0u8, 0, 0x80, 0x3f]
        .iter()
        .map(|&b| char::from(b))
        .collect();
    let encode = |p: P, s: &str| {
        p.global("_codecs", "encode")
            .str(s)
            .str("latin1")
            .op(op::TUPLE2)
            .op(op::REDUCE)
    };
    let array_with = |p: P, shape: i64, data: &dyn Fn(P) -> P| {
        let p = p
            .global("numpy.core.multiarray", "_reconstruct")
            .global("numpy", "ndarray")
            .int(0)
            .op(op::TUPLE1);
        encode(p, "b")
            .op(op::TUPLE3)
            .op(op::REDUCE)
            .op(op::MARK)
            .int(1)
            .int(shape)
            .op(op::TUPLE1)
            .dtype("<", "f4")
            .op(op::NEWFALSE)
            .apply(data)
            .op(op::TUPLE)
            .op(op::BUILD)
    };
    let bytes = {
        let p = P::new(2).op(op::EMPTY_DICT).op(op::MARK).int(1);
        let p = array_with(p, 1, &|p| encode(p, &latin1)).int(2);
        array_with(p, 0, &|p| {
            p.global("__builtin__", "bytes")
                .op(op::EMPTY_TUPLE)
                .op(op::REDUCE)
        })
        .op(op::SETITEMS)
        .done()
    };
    let dict = read_feature_dict(&bytes).unwrap();
    assert_eq!(dict.entries[0].values, [1.0]);
    assert_eq!(dict.entries[1].values, [0.0f32; 0]);
    assert_eq!(dict.entries[1].shape, [0]);
    // Characters beyond Latin-1 cannot come from bytes.
    let bad = one_entry(1, |p| encode(p, "\u{20ac}"));
    assert!(err(&bad).to_string().contains("not Latin-1"));
}

#[test]
fn containers_and_stack_opcodes() {
    // DICT built from a MARK, tuple values, DUP/POP/POP_MARK, memo round trip,
    // OrderedDict in both the Python 3 and Python 2 forms, duplicate keys.
    let bytes = P::new(2)
        .op(op::MARK)
        .str("a")
        .op(op::MARK)
        .float(1.0)
        .int(2)
        .op(op::TUPLE)
        .op(op::BINPUT)
        .raw(&[0])
        .str("b")
        .op(op::BINGET)
        .raw(&[0])
        .op(op::DUP)
        .op(op::POP)
        .op(op::MARK)
        .op(op::NONE)
        .op(op::POP_MARK)
        .op(op::MARK)
        .op(op::POP) // pops the empty MARK
        .op(op::DICT)
        .done();
    let dict = read_feature_dict(&bytes).unwrap();
    assert_eq!(dict.entries.len(), 2);
    assert_eq!(dict.entries[1].key, PickleKey::Str("b".into()));
    assert_eq!(dict.entries[1].values, [1.0, 2.0]);

    let py3 = P::new(2)
        .global("collections", "OrderedDict")
        .op(op::EMPTY_TUPLE)
        .op(op::REDUCE)
        .op(op::MARK)
        .int(5)
        .f32_array(&[1.0])
        .int(6)
        .f32_array(&[2.0])
        .int(5)
        .f32_array(&[3.0])
        .op(op::SETITEMS)
        .done();
    let dict = read_feature_dict(&py3).unwrap();
    let got: Vec<_> = dict
        .entries
        .iter()
        .map(|e| (e.key.clone(), e.values[0]))
        .collect();
    assert_eq!(got, [(PickleKey::Int(5), 3.0), (PickleKey::Int(6), 2.0)]);

    let py2 = P::new(2)
        .global("collections", "OrderedDict")
        .op(op::MARK)
        .op(op::MARK)
        .op(op::SHORT_BINSTRING)
        .raw(b"\x02id")
        .f32_array(&[4.0])
        .op(op::LIST)
        .op(op::LIST)
        .op(op::TUPLE1)
        .op(op::REDUCE)
        .done();
    let dict = read_feature_dict(&py2).unwrap();
    assert_eq!(dict.entries[0].key, PickleKey::Str("id".into()));

    let set = P::new(4)
        .op(op::EMPTY_DICT)
        .int(1)
        .op(op::EMPTY_SET)
        .op(op::SETITEM)
        .done();
    assert!(matches!(err(&set), PickleError::BadValue { .. }));
    let append_to_dict = P::new(2).op(op::EMPTY_DICT).int(1).op(op::APPEND).done();
    assert_eq!(
        err(&append_to_dict).to_string(),
        "byte 5: malformed pickle: APPEND on a dict, expected a list"
    );
}

#[test]
fn latin1_encoding_matches_char_conversion() {
    let all: String = (0..=255u8).map(char::from).collect();
    assert_eq!(latin1_bytes(all.as_bytes()), Some((0..=255u8).collect()));
    for bad in ["a\u{100}", "\u{1F600}", "\u{7ff}"] {
        assert_eq!(latin1_bytes(bad.as_bytes()), None, "{bad}");
    }
    // Invalid UTF-8: lone continuation, overlong, truncated sequence.
    for bad in [&b"\x80"[..], b"\xc1\x81", b"a\xc3", b"\xc3\xc3"] {
        assert_eq!(latin1_bytes(bad), None, "{bad:?}");
    }
}

#[test]
fn deep_tuples_are_refused_without_overflowing_the_stack() {
    let mut bytes = P::new(2).op(op::EMPTY_TUPLE).0;
    bytes.resize(bytes.len() + 1_000_000, op::TUPLE1);
    bytes.push(op::STOP);
    assert!(err(&bytes).to_string().contains("nested deeper than 100"));
}

#[test]
fn memo_amplification_is_bounded() {
    // One 64 KiB buffer shared by thousands of `_frombuffer` arrays.
    let mut p = P::new(5)
        .op(op::EMPTY_DICT)
        .op(op::MARK)
        .int(0)
        .global("numpy._core.numeric", "_frombuffer")
        .op(op::BINPUT)
        .raw(&[0])
        .op(op::MARK)
        .bytes(&[0; 65536])
        .op(op::BINPUT)
        .raw(&[1])
        .dtype("<", "f4")
        .op(op::BINPUT)
        .raw(&[2])
        .int(16384)
        .op(op::TUPLE1)
        .op(op::BINPUT)
        .raw(&[3])
        .str("C")
        .op(op::BINPUT)
        .raw(&[4])
        .op(op::TUPLE)
        .op(op::REDUCE);
    for key in 1..4000 {
        p = p.int(key).op(op::BINGET).raw(&[0]).op(op::MARK);
        for memo in 1..=4 {
            p = p.op(op::BINGET).raw(&[memo]);
        }
        p = p.op(op::TUPLE).op(op::REDUCE);
    }
    let bytes = p.op(op::SETITEMS).done();
    let e = err(&bytes);
    assert!(matches!(e, PickleError::LimitExceeded { .. }), "{e}");

    // Re-encoding one big memoized str over and over.
    let mut p = P::new(2)
        .global("_codecs", "encode")
        .op(op::BINPUT)
        .raw(&[0])
        .str(&"a".repeat(100_000))
        .str("latin1")
        .op(op::TUPLE2)
        .op(op::BINPUT)
        .raw(&[1])
        .op(op::POP)
        .op(op::POP);
    for _ in 0..100_000 {
        p = p
            .op(op::BINGET)
            .raw(&[0])
            .op(op::BINGET)
            .raw(&[1])
            .op(op::REDUCE)
            .op(op::POP);
    }
    let e = err(&p.op(op::EMPTY_DICT).done());
    assert!(e.to_string().contains("_codecs.encode at byte"), "{e}");
}
