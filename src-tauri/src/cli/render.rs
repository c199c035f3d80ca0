//! Human-readable rendering of an inspect report: a side-by-side table and a degree
//! histogram drawn with bars.

use std::io::{self, Write};

use alignscope_datasets::display::thousands;
use alignscope_datasets::stats::{DegreeStats, GraphStats};

use super::inspect::InspectReport;

fn label(side: &str, custom: &str) -> String {
    if custom.is_empty() {
        side.to_string()
    } else {
        custom.to_string()
    }
}

pub(super) fn render_report(r: &InspectReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "Dataset {}  ({} format)  {}", r.name, r.format, r.path)?;
    writeln!(out, "Fingerprint  {}", r.fingerprint)?;
    writeln!(out, "Read and validated in {:.2} s", r.load_seconds)?;
    writeln!(out)?;
    let (left, right) = (&r.stats.left, &r.stats.right);
    let row = |out: &mut dyn Write, name: &str, f: &dyn Fn(&GraphStats) -> String| {
        writeln!(out, "  {name:<26}{:>18}{:>18}", f(left), f(right))
    };
    writeln!(
        out,
        "  {:<26}{:>18}{:>18}",
        "",
        label("left", &r.left_label),
        label("right", &r.right_label)
    )?;
    row(out, "entities", &|g| thousands(g.entities))?;
    row(out, "relations", &|g| thousands(g.relations))?;
    row(out, "relational triples", &|g| thousands(g.triples))?;
    row(out, "attribute keys", &|g| thousands(g.attribute_keys))?;
    row(out, "attribute triples", &|g| {
        thousands(g.attribute_triples)
    })?;
    row(out, "  numeric (numbers, years)", &|g| {
        thousands(g.numeric_attribute_triples)
    })?;
    row(out, "entities with images", &|g| {
        format!(
            "{} ({:.1}%)",
            thousands(g.entities_with_images),
            100.0 * g.image_coverage
        )
    })?;
    row(out, "  image files", &|g| thousands(g.image_files))?;
    row(
        out,
        "  image feature vectors",
        &|g| match g.image_feature_dim {
            Some(dim) => format!("{} x {dim}", thousands(g.entities_with_image_features)),
            None => "none".to_string(),
        },
    )?;
    row(out, "text embeddings: statements", &|g| {
        thousands(g.entities_with_attribute_text_features)
    })?;
    row(out, "  names", &|g| {
        thousands(g.entities_with_name_features)
    })?;
    row(out, "dangling (no gold pair)", &|g| {
        thousands(g.dangling_entities)
    })?;
    row(out, "isolated (no triple)", &|g| {
        thousands(g.isolated_entities)
    })?;
    row(out, "degree min / median / max", &|g| {
        format!(
            "{} / {} / {}",
            g.degree.min,
            g.degree.median,
            thousands(g.degree.max)
        )
    })?;
    row(out, "degree mean", &|g| format!("{:.2}", g.degree.mean))?;
    writeln!(out)?;
    let one_to_one = if r.stats.gold_is_one_to_one {
        "one-to-one"
    } else {
        "not one-to-one"
    };
    writeln!(
        out,
        "Gold pairs: {} ({one_to_one})",
        thousands(r.stats.gold_pairs)
    )?;
    writeln!(
        out,
        "Both graphs: {} relations, {} attribute keys",
        thousands(r.stats.relations_total),
        thousands(r.stats.attribute_keys_total)
    )?;
    for s in &r.stats.predefined_splits {
        writeln!(
            out,
            "Split {}: {} train / {} valid / {} test",
            s.name, s.train, s.valid, s.test
        )?;
    }
    for credit in &r.credits {
        writeln!(out, "Credit: {credit}")?;
    }
    render_numeric_keys(left, right, out)?;
    writeln!(out)?;
    render_degree_histogram(&left.degree, &right.degree, out)?;
    writeln!(out)?;
    if r.warnings.is_empty() {
        writeln!(out, "Warnings: none")?;
    } else {
        writeln!(out, "Warnings (tolerable, counted):")?;
        for w in &r.warnings {
            writeln!(
                out,
                "  {} {} (first: {})",
                thousands(w.count),
                w.message,
                w.first
            )?;
        }
    }
    Ok(())
}

/// Numeric attribute values are listed per key at most this many keys per graph.
const NUMERIC_KEYS_SHOWN: usize = 12;

/// Numeric attribute triples per key, per graph (the most frequent keys).
fn render_numeric_keys(
    left: &GraphStats,
    right: &GraphStats,
    out: &mut dyn Write,
) -> io::Result<()> {
    for (side, g) in [("left", left), ("right", right)] {
        if g.numeric_keys.is_empty() {
            continue;
        }
        writeln!(out, "Numeric attributes, {side} graph (key: values):")?;
        for k in g.numeric_keys.iter().take(NUMERIC_KEYS_SHOWN) {
            writeln!(out, "  {:>10}  {}", thousands(k.count), k.key)?;
        }
        if g.numeric_keys.len() > NUMERIC_KEYS_SHOWN {
            writeln!(
                out,
                "  ... and {} more keys",
                g.numeric_keys.len() - NUMERIC_KEYS_SHOWN
            )?;
        }
    }
    Ok(())
}

/// Entities per degree bucket (0, 1, 2, 3-4, 5-8, ...), both graphs side by side.
fn render_degree_histogram(
    left: &DegreeStats,
    right: &DegreeStats,
    out: &mut dyn Write,
) -> io::Result<()> {
    const BAR: usize = 22;
    let bucket_of = |degree: usize| {
        if degree == 0 {
            0
        } else {
            1 + (usize::BITS - (degree - 1).leading_zeros()) as usize
        }
    };
    let buckets = bucket_of(left.max.max(right.max)) + 1;
    let count = |d: &DegreeStats| {
        let mut counts = vec![0usize; buckets];
        for &(degree, n) in &d.histogram {
            counts[bucket_of(degree)] += n;
        }
        counts
    };
    let (l, r) = (count(left), count(right));
    let peak = l.iter().chain(&r).copied().max().unwrap_or(0).max(1);
    let bar = |n: usize| {
        let len = (n * BAR).div_ceil(peak);
        format!(
            "{:<width$}{:>8}",
            "█".repeat(len),
            thousands(n),
            width = BAR
        )
    };
    writeln!(out, "Degree distribution (entities per degree range)")?;
    writeln!(out, "  {:<10}{:<32}right", "degree", "left")?;
    for b in 0..buckets {
        if l[b] == 0 && r[b] == 0 {
            continue;
        }
        let range = match b {
            0 => "0".to_string(),
            1 => "1".to_string(),
            _ => {
                let low = (1usize << (b - 2)) + 1;
                let high = 1usize << (b - 1);
                if low == high {
                    low.to_string()
                } else {
                    format!("{low}-{high}")
                }
            }
        };
        writeln!(out, "  {range:<10}{}  {}", bar(l[b]), bar(r[b]))?;
    }
    Ok(())
}
