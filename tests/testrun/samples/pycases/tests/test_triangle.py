from shape_checks import ShapeChecks


class TestTriangle(ShapeChecks):
    sides = 4  # the bug: an inherited test fails for this subclass only
    expected_sides = 3
