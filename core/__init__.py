"""The ground every app stands on, importing nothing of the project: how money, dates and
languages are written for a person, and (as the layout of DESIGN.md settles) domain errors,
the cache, rate limits and enqueue-on-commit."""
