#[test]
fn adds_small() {
    assert_eq!(sample::add(1, 2), 3);
}
