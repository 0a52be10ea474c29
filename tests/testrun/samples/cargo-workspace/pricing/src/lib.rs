/// A price with a fifth added.
pub fn with_tax(cents: u32) -> u32 {
    cents + cents / 5
}

#[cfg(test)]
mod tests {
    #[test]
    fn adds_a_fifth() {
        assert_eq!(super::with_tax(10), 12);
    }
}
