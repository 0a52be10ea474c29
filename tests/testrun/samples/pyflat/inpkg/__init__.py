"""A flat-layout package whose tests live inside it; no pytest configuration."""


def shout(text: str) -> str:
    return text.upper() + "!"
