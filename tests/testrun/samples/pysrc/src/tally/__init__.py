"""A src-layout package, installed editable into the checkout's .venv by the tests."""


def total(values: list[int]) -> int:
    return sum(values)
