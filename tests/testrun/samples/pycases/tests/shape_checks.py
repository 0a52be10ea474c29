"""Checks every shape's test class inherits; defined once, run under each subclass."""


class ShapeChecks:
    sides = 0
    expected_sides = 0

    def test_sides(self) -> None:
        assert self.sides == self.expected_sides

    def test_named(self) -> None:
        assert type(self).__name__.startswith("Test")
