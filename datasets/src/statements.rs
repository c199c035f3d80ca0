//! What a sentence encoder reads of an entity: each attribute triple as a statement
//! `key: value` (the key's local name in words, the literal's lexical form), or the key
//! alone where the format has no values; and the entity's name.
//!
//! `http://dbpedia.org/property/birthDate` with `"1946-03-12"^^xsd:date` reads
//! `birth date: 1946-03-12`.

use crate::model::{Entity, KnowledgeGraph, Vocabulary};
use crate::numbers::lexical_and_type;

/// Characters of a value kept in a statement at most: the encoder reads 256 tokens, and
/// a long abstract would otherwise cost that much for every entity that has one.
pub const MAX_VALUE_CHARS: usize = 400;

/// An attribute key in words: the local name of an IRI (after the last `/`, `#` or `:`),
/// `_` and `-` as spaces, camelCase split (`birthDate` → `birth date`).
pub fn key_words(key: &str) -> String {
    let key = key.trim().trim_start_matches('<').trim_end_matches('>');
    let local = key
        .rsplit(['/', '#', ':'])
        .find(|part| !part.is_empty())
        .unwrap_or(key);
    let mut words = String::with_capacity(local.len() + 4);
    let mut previous: Option<char> = None;
    for c in local.chars() {
        if c == '_' || c == '-' {
            words.push(' ');
        } else {
            if c.is_uppercase() && previous.is_some_and(char::is_lowercase) {
                words.push(' ');
            }
            words.extend(c.to_lowercase());
        }
        previous = Some(c);
    }
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.is_empty() {
        key.to_string()
    } else {
        words
    }
}

/// The text of a literal: its lexical form without quotes, datatype or language tag,
/// cut to [`MAX_VALUE_CHARS`] characters.
pub fn literal_text(value: &str) -> String {
    let (lexical, _) = lexical_and_type(value);
    let lexical = lexical
        .rsplit_once("\"@")
        .map_or(lexical, |(text, _)| text)
        .trim();
    lexical.chars().take(MAX_VALUE_CHARS).collect()
}

/// One attribute triple as a statement: `key: value`, or the key alone.
pub fn statement(key: &str, value: Option<&str>) -> String {
    let key = key_words(key);
    match value.map(literal_text) {
        Some(text) if !text.is_empty() => format!("{key}: {text}"),
        _ => key,
    }
}

/// Per entity of `graph`, its attribute statements in file order.
pub fn entity_statements(graph: &KnowledgeGraph, keys: &Vocabulary) -> Vec<Vec<String>> {
    let mut statements = vec![Vec::new(); graph.entities.len()];
    for triple in &graph.attributes {
        if let Some(list) = statements.get_mut(triple.entity as usize) {
            list.push(statement(keys.name(triple.key), triple.value.as_deref()));
        }
    }
    statements
}

/// The text of an entity's name: its label (a URI's last segment, `_` as spaces).
pub fn name_text(entity: &Entity) -> String {
    entity.label()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AttrTriple;

    #[test]
    fn keys_become_words() {
        assert_eq!(
            key_words("http://dbpedia.org/property/birthDate"),
            "birth date"
        );
        assert_eq!(
            key_words("<http://dbpedia.org/ontology/populationTotal>"),
            "population total"
        );
        assert_eq!(key_words("http://example.org/a#has_part-of"), "has part of");
        assert_eq!(key_words("colour"), "colour");
        assert_eq!(key_words("HTTPServer"), "httpserver");
        assert_eq!(key_words("___"), "___");
    }

    #[test]
    fn literals_lose_quotes_types_and_language_tags() {
        assert_eq!(
            literal_text("\"1946-03-12\"^^<http://www.w3.org/2001/XMLSchema#date>"),
            "1946-03-12"
        );
        assert_eq!(literal_text("\"Seoul\"@en"), "Seoul");
        assert_eq!(literal_text("  plain words "), "plain words");
        assert_eq!(literal_text(&"x".repeat(1000)).len(), MAX_VALUE_CHARS);
    }

    #[test]
    fn statements_pair_key_and_value_per_entity() {
        let mut keys = Vocabulary::default();
        let birth = keys.intern("http://dbpedia.org/property/birthDate");
        let colour = keys.intern("colour");
        let graph = KnowledgeGraph {
            entities: vec![
                Entity {
                    key: "0".into(),
                    name: "http://dbpedia.org/resource/Kim_Dae-jung".into(),
                },
                Entity {
                    key: "1".into(),
                    name: "b".into(),
                },
            ],
            attributes: vec![
                AttrTriple {
                    entity: 0,
                    key: birth,
                    value: Some("\"1924-01-06\"^^xsd:date".into()),
                },
                AttrTriple {
                    entity: 0,
                    key: colour,
                    value: None,
                },
                AttrTriple {
                    entity: 7,
                    key: colour,
                    value: Some("red".into()),
                },
            ],
            ..Default::default()
        };
        let statements = entity_statements(&graph, &keys);
        assert_eq!(statements[0], ["birth date: 1924-01-06", "colour"]);
        assert!(statements[1].is_empty());
        assert_eq!(name_text(&graph.entities[0]), "Kim Dae-jung");
    }
}
