/// Adds two numbers.
///
/// ```
/// assert_eq!(sample::add(1, 2), 3);
/// ```
pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

#[cfg(test)]
mod tests {
    #[test]
    fn adds_zero() {
        assert_eq!(super::add(0, 0), 0);
    }
}
