//! Attribute values that are numbers: plain (`1.83`, `-12.5e3`), RDF typed literals
//! (`"405657"^^<http://www.w3.org/2001/XMLSchema#integer>`, `"53.43"^^xsd:float`, YAGO's
//! `"-1.13"^^<...#degrees>`) and dates, whose year is the number (`"1946-03-12"^^xsd:date`,
//! `"1967-8-9"`, `"1998"^^xsd:gYear`). They become the numeric attribute triples of a
//! graph, the input of MPSEA's numerical modality; `dataset inspect` counts them per key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{KnowledgeGraph, MmkgPair, Side};

/// What a numeric value was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    /// A plain or typed numeric literal.
    Number,
    /// The year of a date (or a `gYear`).
    Year,
}

/// A number read from a literal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiteralNumber {
    /// The value.
    pub value: f64,
    /// What it was read from.
    pub kind: NumberKind,
}

/// The lexical form and datatype of a literal: `"x"^^<T>` / `"x"^^xsd:T` / `"x"@en` /
/// `"x"` / `x`.
pub(crate) fn lexical_and_type(literal: &str) -> (&str, Option<&str>) {
    let trimmed = literal.trim();
    let Some(rest) = trimmed.strip_prefix('"') else {
        return (trimmed, None);
    };
    let Some((lexical, tail)) = rest.rsplit_once('"') else {
        return (rest, None);
    };
    let datatype = tail
        .strip_prefix("^^")
        .map(|t| t.trim_start_matches('<').trim_end_matches('>'));
    (lexical.trim(), datatype)
}

/// The local name of a datatype IRI (`...XMLSchema#date` → `date`, `xsd:int` → `int`).
fn local_name(datatype: &str) -> &str {
    datatype.rsplit(['#', '/', ':']).next().unwrap_or(datatype)
}

/// A plain decimal or scientific number (no hex, no `inf`/`NaN`, no thousands separator).
fn plain_number(text: &str) -> Option<f64> {
    let numeric = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        && text.bytes().any(|b| b.is_ascii_digit());
    let value: f64 = text.parse().ok().filter(|_| numeric)?;
    value.is_finite().then_some(value)
}

/// The year of `YYYY-M-D` (month and day of one or two digits, years of at least four
/// digits, an optional leading `-` for years BC), checked to be a calendar date shape.
fn date_year(text: &str) -> Option<f64> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    // Drop a time or a timezone after the day (`T12:00:00`, `Z`, `+02:00`).
    let date = body.split(['T', 'Z']).next().unwrap_or(body);
    let mut parts = date.splitn(3, '-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    let day = day.get(..day.find('+').unwrap_or(day.len()))?;
    let digits = |s: &str, lengths: std::ops::RangeInclusive<usize>| {
        lengths.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !(digits(year, 4..=6) && digits(month, 1..=2) && digits(day, 1..=2)) {
        return None;
    }
    let (m, d): (u32, u32) = (month.parse().ok()?, day.parse().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y: f64 = year.parse().ok()?;
    Some(if negative { -y } else { y })
}

/// The number a literal stands for, if any (see the module docs). Strings that merely
/// contain digits (`"14-118"`, `"Route 66"`, `"0x1F"`) are not numbers.
pub fn literal_number(literal: &str) -> Option<LiteralNumber> {
    let (lexical, datatype) = lexical_and_type(literal);
    let year = |value| LiteralNumber {
        value,
        kind: NumberKind::Year,
    };
    match datatype.map(local_name) {
        Some("date" | "dateTime") => return date_year(lexical).map(year),
        Some("gYear") => {
            return plain_number(lexical).filter(|v| v.fract() == 0.0).map(year);
        }
        Some("gYearMonth") => {
            let (y, _) = lexical.rsplit_once('-')?;
            return plain_number(y).map(year);
        }
        _ => {}
    }
    if let Some(value) = plain_number(lexical) {
        return Some(LiteralNumber {
            value,
            kind: NumberKind::Number,
        });
    }
    date_year(lexical).map(year)
}

/// A numeric attribute triple of one graph.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumericTriple {
    /// Entity index.
    pub entity: u32,
    /// Key index in [`MmkgPair::attribute_keys`].
    pub key: u32,
    /// The number.
    pub value: f64,
}

/// The numeric attribute triples of `graph`, in file order.
pub fn numeric_triples(graph: &KnowledgeGraph) -> Vec<NumericTriple> {
    graph
        .attributes
        .iter()
        .filter_map(|a| {
            let number = literal_number(a.value.as_deref()?)?;
            Some(NumericTriple {
                entity: a.entity,
                key: a.key,
                value: number.value,
            })
        })
        .collect()
}

/// How many numeric values one attribute key has in a graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumericKeyCount {
    /// The attribute key.
    pub key: String,
    /// Numeric triples with it.
    pub count: usize,
}

/// Numeric triples per attribute key of one graph of `pair`, most frequent first (ties
/// by key).
pub fn numeric_key_counts(pair: &MmkgPair, side: Side) -> Vec<NumericKeyCount> {
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for triple in numeric_triples(pair.graph(side)) {
        *counts.entry(triple.key).or_default() += 1;
    }
    let mut out: Vec<NumericKeyCount> = counts
        .into_iter()
        .map(|(key, count)| NumericKeyCount {
            key: pair.attribute_keys.name(key).to_string(),
            count,
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(literal: &str) -> Option<(f64, NumberKind)> {
        literal_number(literal).map(|n| (n.value, n.kind))
    }

    #[test]
    fn plain_and_typed_numbers_are_read() {
        use NumberKind::*;
        assert_eq!(value("1.83"), Some((1.83, Number)));
        assert_eq!(value(" -12.5e3 "), Some((-12500.0, Number)));
        assert_eq!(value("\"1950\""), Some((1950.0, Number)));
        assert_eq!(
            value("\"405657\"^^<http://www.w3.org/2001/XMLSchema#integer>"),
            Some((405657.0, Number))
        );
        assert_eq!(value("\"53.4325\"^^xsd:float"), Some((53.4325, Number)));
        assert_eq!(
            value("\"-1.133\"^^<http://www.w3.org/2001/XMLSchema#degrees>"),
            Some((-1.133, Number))
        );
    }

    #[test]
    fn dates_and_years_give_the_year() {
        use NumberKind::*;
        let xsd = |v: &str, t: &str| format!("\"{v}\"^^<http://www.w3.org/2001/XMLSchema#{t}>");
        assert_eq!(value(&xsd("1946-03-12", "date")), Some((1946.0, Year)));
        assert_eq!(value(&xsd("1967-8-9", "date")), Some((1967.0, Year)));
        assert_eq!(value(&xsd("1998", "gYear")), Some((1998.0, Year)));
        assert_eq!(value(&xsd("2001-05", "gYearMonth")), Some((2001.0, Year)));
        assert_eq!(
            value(&xsd("2010-04-01T10:00:00Z", "dateTime")),
            Some((2010.0, Year))
        );
        assert_eq!(value("1899-07-21"), Some((1899.0, Year)));
        assert_eq!(value("-0044-03-15"), Some((-44.0, Year)));
    }

    #[test]
    fn text_with_digits_is_not_a_number() {
        for literal in [
            "",
            "tall",
            "Route 66",
            "14-118",
            "0x1F",
            "inf",
            "NaN",
            "1,234",
            "1946-13-01",
            "\"abc\"@en",
            "\"12\"^^<http://www.w3.org/2001/XMLSchema#date>",
            "-",
            "e",
            "1e999",
            "\"x\"^^<t>",
        ] {
            assert_eq!(literal_number(literal), None, "{literal:?}");
        }
    }
}
