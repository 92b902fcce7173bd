"""aop-map: an energy map of arts-and-health activity (records, geocoding, maps, moderation)."""

__version__ = "0.1.0"
