//! Command history, kept per member of staff across reloads: the commands
//! typed at the prompt only, never the answers to its questions (card
//! numbers, CVCs, passwords), and never a line that holds a card number.

use kasse_core::CardNumber;

/// How many commands are kept.
pub const CAPACITY: usize = 200;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    entries: Vec<String>,
    /// While browsing with ↑/↓: the entry shown; `None` at the fresh line.
    cursor: Option<usize>,
    /// What was typed before browsing began, given back by ↓ at the end.
    draft: String,
}

/// Whether a line holds something that could be a card number: a run of
/// 12 to 19 digits (spaces and dashes allowed between) that passes Luhn.
pub fn holds_card_number(line: &str) -> bool {
    let chars: Vec<char> = line.chars().collect();
    for start in 0..chars.len() {
        if !chars[start].is_ascii_digit() {
            continue;
        }
        let mut digits = String::new();
        for &c in &chars[start..] {
            if c.is_ascii_digit() {
                digits.push(c);
                if (12..=19).contains(&digits.len()) && CardNumber::parse(&digits).is_ok() {
                    return true;
                }
            } else if c != ' ' && c != '-' {
                break;
            }
        }
    }
    false
}

impl History {
    pub fn from_entries(entries: Vec<String>) -> Self {
        let mut history = Self::default();
        for entry in entries {
            history.push(&entry);
        }
        history
    }

    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    /// Adds a command; a repeat of the last one, a blank line or one that
    /// holds a card number is not kept. Ends browsing.
    pub fn push(&mut self, line: &str) {
        self.cursor = None;
        self.draft.clear();
        let line = line.trim();
        if line.is_empty()
            || holds_card_number(line)
            || self.entries.last().is_some_and(|last| last == line)
        {
            return;
        }
        self.entries.push(line.to_string());
        if self.entries.len() > CAPACITY {
            self.entries.remove(0);
        }
    }

    /// ↑: the command before the one shown; `current` is what the prompt
    /// holds, kept to come back to.
    pub fn back(&mut self, current: &str) -> Option<&str> {
        let index = match self.cursor {
            None => {
                self.draft = current.to_string();
                self.entries.len().checked_sub(1)?
            }
            Some(0) => 0,
            Some(i) => i - 1,
        };
        self.cursor = Some(index);
        self.entries.get(index).map(String::as_str)
    }

    /// ↓: the command after the one shown, or back to what was being typed.
    pub fn forward(&mut self) -> Option<&str> {
        let index = self.cursor?;
        if index + 1 < self.entries.len() {
            self.cursor = Some(index + 1);
            self.entries.get(index + 1).map(String::as_str)
        } else {
            self.cursor = None;
            Some(self.draft.as_str())
        }
    }

    /// The key its entries are kept under in the browser.
    pub fn storage_key(user_id: &str) -> String {
        format!("kasse.terminal.history.{user_id}")
    }
}
