"""The small core every layer imports: plain records, the clock and source settings.

Connectors produce these records, the monitor judges them and storage keeps them; none of
those packages imports another's internals to agree on what a post is.
"""
