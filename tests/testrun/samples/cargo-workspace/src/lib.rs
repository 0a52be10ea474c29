/// The total of some prices, in cents, with the tax.
pub fn total(items: &[u32]) -> u32 {
    pricing::with_tax(items.iter().sum())
}

#[cfg(test)]
mod tests {
    #[test]
    fn totals_with_tax() {
        assert_eq!(super::total(&[100, 400]), 600);
    }
}
