from shape_checks import ShapeChecks


class TestSquare(ShapeChecks):
    sides = 4
    expected_sides = 4
