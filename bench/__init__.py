"""``python -m bench``: how fast a spoken Viva turn is, what it costs, and how it scales."""
