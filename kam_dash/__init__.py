"""kam-dash: analytics for retail key account management.

Data flows one way: files -> ingest -> database -> metrics -> charts -> pages.
"""

__version__ = "0.1.0"
