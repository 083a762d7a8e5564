"""One module per exercise notebook (``exNN_topic.py``), each defining ``EXERCISE``."""
__all__: list[str] = []
