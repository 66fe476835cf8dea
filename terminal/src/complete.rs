//! Tab completion: command names first, then payment ids.

use crate::command::COMMANDS;

/// What Tab does to a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// Nothing starts so.
    None,
    /// The line, completed (as far as every candidate agrees).
    Line(String),
    /// Several candidates and no longer common start: show them.
    Choices(Vec<String>),
}

/// The commands whose argument is a payment id.
const TAKES_PAYMENT: [&str; 4] = ["capture", "void", "refund", "show"];

pub fn complete(line: &str, payment_ids: &[String]) -> Completion {
    let words: Vec<&str> = line.split_whitespace().collect();
    let ends_in_space = line.ends_with(char::is_whitespace);
    let (candidates, partial, head): (Vec<String>, &str, String) =
        match (words.as_slice(), ends_in_space) {
            ([], _) | ([_], false) => {
                let partial = words.first().copied().unwrap_or("");
                let names = COMMANDS.iter().map(|c| c.name.to_string()).collect();
                (names, partial, String::new())
            }
            ([command], true) if TAKES_PAYMENT.contains(command) => {
                (payment_ids.to_vec(), "", format!("{command} "))
            }
            ([command, partial], false) if TAKES_PAYMENT.contains(command) => {
                (payment_ids.to_vec(), *partial, format!("{command} "))
            }
            ([help], true) if *help == "help" => (
                COMMANDS.iter().map(|c| c.name.to_string()).collect(),
                "",
                "help ".into(),
            ),
            ([help, partial], false) if *help == "help" => (
                COMMANDS.iter().map(|c| c.name.to_string()).collect(),
                *partial,
                "help ".into(),
            ),
            _ => return Completion::None,
        };
    let mut matching: Vec<String> = candidates
        .into_iter()
        .filter(|c| c.starts_with(partial))
        .collect();
    matching.dedup();
    match matching.as_slice() {
        [] => Completion::None,
        [only] => Completion::Line(format!("{head}{only} ")),
        many => {
            let common = common_prefix(many);
            if common.len() > partial.len() {
                Completion::Line(format!("{head}{common}"))
            } else {
                Completion::Choices(matching)
            }
        }
    }
}

fn common_prefix(words: &[String]) -> String {
    let first = &words[0];
    let mut end = first.len();
    for word in &words[1..] {
        end = end.min(
            first
                .char_indices()
                .zip(word.chars())
                .find(|((_, a), b)| a != b)
                .map_or(end.min(word.len()), |((i, _), _)| i),
        );
    }
    first[..end].to_string()
}
